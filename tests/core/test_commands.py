"""Chat commands: what they answer, what they change, and that bad input changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import event, func, select

from core.bootstrap import App
from core.boundary import Author, CommandReply, ConversationKey
from core.personas import PersonaCatalog
from core.storage.engine import ThreadedSqlite
from core.storage.schema import CustomPersonaRow, MessageRow
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ADMIN, ALICE, BOB, PRIVATE, collect, group, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def reply(app: App, text: str, **kw: object) -> CommandReply:
    (event,) = await collect(app.service, private(text, **kw))  # type: ignore[arg-type]
    assert isinstance(event, CommandReply)
    return event


async def settings_text(app: App) -> str:
    return (await reply(app, "/settings")).text


@pytest.mark.parametrize(
    ("command", "allowed"),
    [
        ("/set temperature 2.5", "from 0.0 to 2.0"),
        ("/set temperature -0.1", "from 0.0 to 2.0"),
        ("/set temperature nan", "from 0.0 to 2.0"),
        ("/set temperature inf", "from 0.0 to 2.0"),
        ("/set temperature warm", "from 0.0 to 2.0"),
        ("/set top_p 1.5", "from 0.0 to 1.0"),
        ("/set presence_penalty 3", "from -2.0 to 2.0"),
        ("/set frequency_penalty -2.01", "from -2.0 to 2.0"),
        ("/set max_tokens 0", "from 1 to 16384"),
        ("/set max_tokens 99999999999999999999", "from 1 to 16384"),
        ("/set max_tokens 12.5", "from 1 to 16384"),
        ("/set context_tokens 10", "from 64 to 128000"),
        ("/set stop a|b|c|d|e", "1 to 4 sequences"),
        ("/set temperature", "Give a value"),
        ("/set color blue", "Unknown parameter 'color'"),
        ("/set", "Usage: /set PARAM VALUE"),
    ],
)
async def test_bad_values_are_refused_with_what_is_allowed(
    app: App, command: str, allowed: str
) -> None:
    before = await settings_text(app)
    answer = await reply(app, command)
    assert answer.is_error
    assert allowed in answer.text
    assert await settings_text(app) == before


async def test_parameters_reach_the_model(app: App, llm: FakeOpenAI) -> None:
    for command, shown in [
        ("/set temperature 0.3", "temperature = 0.3"),
        ("/set top_p 0.9", "top_p = 0.9"),
        ("/set max_tokens 100", "max_tokens = 100"),
        ("/set presence_penalty -1", "presence_penalty = -1.0"),
        ("/set frequency_penalty 0.5", "frequency_penalty = 0.5"),
        ("/set stop END|\\n\\n", "stop = 'END' | '\\n\\n'"),
    ]:
        assert (await reply(app, command)).text == shown
    await say(app.service, private("hello"))
    body = llm.last_body
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.3, 0.9, 100)
    assert (body["presence_penalty"], body["frequency_penalty"]) == (-1.0, 0.5)
    assert body["stop"] == ["END", "\n\n"]
    assert (await reply(app, "/set temperature default")).text == "temperature = default"
    await say(app.service, private("hello again"))
    assert (
        llm.last_body["temperature"] == PersonaCatalog.load().get("assistant").params["temperature"]
    )


async def test_reasoning_models_get_max_completion_tokens_and_no_sampling(
    app: App, llm: FakeOpenAI
) -> None:
    await reply(app, "/set temperature 0.3")
    assert (await reply(app, "/model gpt-5-mini")).text == (
        "Model is now gpt-5-mini.\nIt ignores what this chat set for: temperature "
        "(kept for a model that takes it)."
    )
    await say(app.service, private("hello"))
    # The visible answer's 2048 plus gpt-5-mini's room for reasoning (config/models.toml).
    assert llm.last_body["max_completion_tokens"] == 2048 + 16384
    assert "max_tokens" not in llm.last_body and "temperature" not in llm.last_body
    assert llm.last_messages[0]["role"] == "developer"


async def test_instruct_models_use_the_legacy_completions_endpoint(
    app: App, llm: FakeOpenAI
) -> None:
    await reply(app, "/model gpt-3.5-turbo-instruct")
    answer = await say(app.service, private("my name is Alice"))
    assert answer.startswith("You said:")
    assert llm.last_request.path == "/v1/completions"
    assert llm.last_body["prompt"].endswith("User: my name is Alice\n\nAssistant:")
    assert llm.last_body["max_tokens"] == 2048


async def test_models_the_custom_server_lists_are_accepted_behind_it(
    app: App, llm: FakeOpenAI
) -> None:
    llm.models = (*llm.models, "llama3.1:8b")
    text = (await reply(app, "/model llama3.1:8b")).text
    assert "not in the catalog" in text and "8192" in text
    await say(app.service, private("hi"))
    assert llm.last_body["model"] == "llama3.1:8b"
    assert llm.last_body["max_tokens"] == 2048
    refused = await reply(app, "/model bad name with spaces!")
    assert refused.is_error and "Unknown model" in refused.text


async def test_models_lists_the_catalog_with_prices(make_app: MakeApp) -> None:
    async with make_app(openai_base_url=None) as app:  # OpenAI itself
        text = (await reply(app, "/models")).text
    assert "▶ gpt-4o-mini: 128,000 · 16,384 · $0.15/0.075/0.6" in text
    assert "gpt-3.5-turbo-instruct (completions)" in text
    for name in ("gpt-3.5-turbo-1106", "gpt-3.5-turbo-16k", "gpt-4-32k", "gpt-4-turbo", "gpt-4.1"):
        assert f"• {name}:" in text


async def test_tokens_counts_for_the_chat_model(app: App) -> None:
    english = (await reply(app, "/tokens hello world")).text
    assert english.startswith("2 tokens, 11 characters")
    korean = (await reply(app, "/tokens 안녕하세요 세계")).text
    assert "o200k_base" in korean
    assert (await reply(app, "/tokens")).is_error


async def test_usage_sums_tokens_and_cost_by_model(app: App, llm: FakeOpenAI) -> None:
    assert "No usage" in (await reply(app, "/usage")).text
    await say(app.service, private("one"))
    await reply(app, "/model gpt-4o")
    await say(app.service, private("two"))
    text = (await reply(app, "/usage")).text
    assert "gpt-4o-mini: 1 requests" in text and "gpt-4o: 1 requests" in text
    assert "Total: $0.00" in text


async def test_personas_create_switch_and_delete(app: App, llm: FakeOpenAI) -> None:
    listing = await reply(app, "/personas")
    assert len(listing.choices) >= 8
    assert listing.choices[0].command.startswith("/persona ")
    await reply(app, "/set temperature 1.2")
    saved = await reply(app, "/newpersona pirate You are a cheerful pirate. Say arr.")
    assert "Saved persona 'pirate'" in saved.text
    assert (await reply(app, "/newpersona pirate again")).is_error
    assert (await reply(app, "/newpersona coder x")).is_error  # built-in name
    assert (await reply(app, "/newpersona Bad'Name x")).is_error
    assert (await reply(app, "/newpersona onlyname")).is_error
    await reply(app, "/set temperature default")
    await reply(app, "/persona pirate")
    await say(app.service, private("hello"))
    assert llm.last_messages[0]["content"] == "You are a cheerful pirate. Say arr."
    assert llm.last_body["temperature"] == 1.2  # saved with the chat's parameters
    assert "pirate" in (await reply(app, "/persona")).text
    assert (await reply(app, "/delpersona coder")).is_error
    assert "Deleted" in (await reply(app, "/delpersona pirate")).text
    await say(app.service, private("hello"))
    assert "pirate" not in llm.last_messages[0]["content"]


async def test_custom_personas_belong_to_their_space(app: App) -> None:
    await collect(app.service, group("/newpersona judge You judge.", author=ADMIN, space_id="g1"))
    names_here = await app.service.persona_names(group("x").key, "g1")
    names_elsewhere = await app.service.persona_names(group("x").key, "g2")
    assert "judge" in names_here and "judge" not in names_elsewhere


async def test_group_settings_are_for_admins_unless_opened(app: App) -> None:
    for command in (
        "/persona coder",
        "/set temperature 1",
        "/reset",
        "/model gpt-4o",
        "/listen on",
    ):
        (event,) = await collect(app.service, group(command, author=ALICE))
        assert isinstance(event, CommandReply) and event.is_error and "admins" in event.text
    (event,) = await collect(app.service, group("/persona", author=ALICE))
    assert not event.is_error  # looking is fine
    (event,) = await collect(app.service, group("/access everyone", author=ALICE))
    assert event.is_error
    await collect(app.service, group("/access everyone", author=ADMIN))
    (event,) = await collect(app.service, group("/set temperature 1", author=ALICE))
    assert not event.is_error


async def test_commands_with_bot_names_and_korean_users(app: App) -> None:
    assert "Commands:" in (await reply(app, "/help")).text
    # Adapters strip this bot's own name, so a name the core sees belongs to another bot.
    assert await collect(app.service, private("/set@other_bot temperature 1")) == []
    korean = Author("5", "민지", "ko-KR")
    text = (await reply(app, "/set temperature 9", author=korean)).text
    assert "0.0부터 2.0까지" in text
    assert "알 수 없는 명령어" in (await reply(app, "/nosuch", author=korean)).text
    assert await collect(app.service, group("/nosuch")) == []  # another bot's command, maybe


async def test_forget_deletes_only_the_asking_users_data(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, group("I am Alice", author=ALICE))
    await say(app.service, group("I am Ada", author=ADMIN))
    await collect(app.service, group("/access everyone", author=ADMIN))
    await collect(app.service, group("/newpersona alices You are Alice's.", author=ALICE))
    await collect(app.service, group("/newpersona adas You are Ada's.", author=ADMIN))
    (event,) = await collect(app.service, group("/forget", author=ALICE))
    assert isinstance(event, CommandReply)
    assert event.text == (
        "Done. Deleted: 1 of your messages, 1 of my answers to them, 1 personas you created, "
        "0 conversations. Kept without your identity, so limits still count them: 1 usage "
        "records."
    )
    await say(app.service, group("who is here?", author=ADMIN))
    # The bot's answer quoted Alice ("You said: Alice: I am Alice"): it went with her message.
    sent = "\n".join(m["content"] for m in llm.last_messages)
    assert "I am Alice" not in sent
    assert "Ada: I am Ada" in sent and "You said: Ada: I am Ada" in sent
    names = await app.service.persona_names(group("x").key)
    assert "alices" not in names and "adas" in names


async def test_forget_in_a_private_chat_deletes_the_whole_conversation(
    app: App, llm: FakeOpenAI
) -> None:
    await say(app.service, private("my secret is 42"))
    await say(app.service, private("and my name is Alice"))
    await reply(app, "/set temperature 1.5")
    await reply(app, "/newpersona mine You are mine.")
    await say(app.service, group("hello group", author=ALICE))  # another chat: her part goes
    await say(app.service, group("hello from Bob", author=BOB))
    korean = Author("11", "Alice", "ko")
    text = (await reply(app, "/forget", author=korean)).text
    assert text.startswith("완료. 지운 것: 당신의 메시지 3개, 그에 대한 제 답변 3개, ")
    assert "페르소나 1개, 대화 1개. 사용 기록 3개는" in text
    assert "temperature: 0.7" in await settings_text(app)  # a fresh conversation (was 1.5)
    assert (await reply(app, "/persona mine")).is_error
    await say(app.service, private("what do you know?"))
    assert [m["content"] for m in llm.last_messages[1:]] == ["what do you know?"]
    async with session_on(app) as session:
        stored = list(await session.scalars(select(MessageRow.content).order_by(MessageRow.id)))
    assert stored == [
        "hello from Bob",
        "You said: Bob: hello from Bob. I can see 3 earlier messages.",
        "what do you know?",
        "You said: what do you know?. I can see 1 earlier messages.",
    ]


async def test_a_space_saves_at_most_its_cap_of_personas_with_bounded_prompts(
    make_app: MakeApp,
) -> None:
    async with make_app(max_personas_per_space=3, max_persona_prompt_chars=100) as app:
        for n in range(3):
            assert not (await reply(app, f"/newpersona p{n} Prompt {n}.")).is_error
        full = await reply(app, "/newpersona p3 One too many.")
        assert full.is_error
        assert full.text == (
            "This chat already has 3 saved personas, the most allowed. "
            "Delete one first with /delpersona NAME."
        )
        assert (await reply(app, "/newpersona p0 Again.")).is_error  # "exists" comes first
        elsewhere = ConversationKey("telegram", "3003")
        assert not (await reply(app, "/newpersona p3 Elsewhere.", key=elsewhere)).is_error
        await reply(app, "/delpersona p1")
        assert not (await reply(app, "/newpersona p3 Now it fits.")).is_error
        too_long = await reply(app, "/newpersona long " + "x" * 101)
        assert too_long.is_error and "at most 100 characters" in too_long.text
        await reply(app, "/delpersona p3")
        assert not (await reply(app, "/newpersona p1 " + "x" * 100)).is_error
        async with session_on(app) as session:
            here = select(func.count()).where(CustomPersonaRow.space_id == PRIVATE.chat_id)
            assert await session.scalar(here) == 3


async def add_personas(app: App, count: int, space_id: str) -> None:
    async with session_on(app, begin=True) as session:
        for n in range(count):
            session.add(
                CustomPersonaRow(
                    platform="telegram",
                    space_id=space_id,
                    name=f"p{n:04d}",
                    description="d" * 200,
                    system_prompt="x" * 8000,
                    params={},
                )
            )


async def test_many_personas_from_before_the_cap_keep_the_listing_bounded(
    app: App, llm: FakeOpenAI
) -> None:
    await add_personas(app, 2000, PRIVATE.chat_id)
    listing = await reply(app, "/personas")
    assert len(listing.text) < 6000
    assert len(listing.choices) <= 24
    assert "…and 1970 more saved here: /persona NAME switches to any of them." in listing.text
    # Any of them is still found by name, with one query that reads that persona only.
    assert "p1999" in (await reply(app, "/persona p1999")).text
    database = app.storage.personas.database
    engines = (
        database.engines if isinstance(database, ThreadedSqlite) else (database.engine.sync_engine,)
    )
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if "FROM custom_personas" in statement:
            statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        assert (await say(app.service, private("hi"))).startswith("You said: hi")
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert statements and all("custom_personas.name =" in s for s in statements)
    assert llm.last_messages[0]["content"] == "x" * 8000

"""Whole turns through the real bootstrap, the real openai client and a real database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import select

from core.bootstrap import App
from core.boundary import AnswerDelta, AnswerDone, Author, ConversationKey, Notice
from core.storage.schema import MessageRow, UsageRow
from core.tokens import count_message
from fakes.openai_server import FakeOpenAI, FakeReply, count_tool_definitions
from tests.core.helpers import ADMIN, ALICE, BOB, GROUP, PRIVATE, collect, group, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def rows(app: App, model: type) -> list:  # type: ignore[type-arg]
    async with session_on(app) as session:
        return list((await session.scalars(select(model).order_by(model.id))).all())


async def test_a_turn_streams_the_answer_and_sends_the_exact_transcript(
    app: App, llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: FakeReply("Hello Alice, nice to meet you!", chunk_size=4)
    events = await collect(app.service, private("Hi, I'm Alice"))
    deltas = [e.text for e in events if isinstance(e, AnswerDelta)]
    assert len(deltas) > 3
    assert "".join(deltas) == "Hello Alice, nice to meet you!"
    assert events[-1] == AnswerDone("Hello Alice, nice to meet you!")

    persona_prompt = llm.last_messages[0]["content"]
    assert llm.last_messages == [
        {"role": "system", "content": persona_prompt},
        {"role": "user", "content": "Hi, I'm Alice"},
    ]
    body = llm.last_body
    assert body["model"] == "gpt-4o-mini"
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 2048
    # A salted hash, not the user id (a hex digest contains "11" about one time in eight).
    identifier = body["safety_identifier"]
    assert len(identifier) == 32 and int(identifier, 16) >= 0 and identifier != ALICE.user_id
    assert llm.last_request.api_key == "sk-test-key-123456"


async def test_memory_across_turns_and_a_restart(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app() as app:
        await say(app.service, private("Hello, my name is Alice"))
        assert await say(app.service, private("What is my name?")) == "Your name is Alice."
    async with make_app() as app:  # a new process: same database, nothing in memory
        assert await say(app.service, private("what is my name")) == "Your name is Alice."
        sent = [m["content"] for m in llm.last_messages[1:]]
        assert sent == [
            "Hello, my name is Alice",
            "You said: Hello, my name is Alice. I can see 1 earlier messages.",
            "What is my name?",
            "Your name is Alice.",
            "what is my name",
        ]


async def test_stored_rows_hold_exact_counts_and_usage_is_priced(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("Count me exactly, please."))
    messages = await rows(app, MessageRow)
    assert [(m.role, m.author_id, m.encoding) for m in messages] == [
        ("user", "11", "o200k_base"),
        ("assistant", None, "o200k_base"),
    ]
    system_tokens = count_message("system", llm.last_messages[0]["content"], "o200k_base")
    (usage,) = await rows(app, UsageRow)
    # Our stored counts add up to exactly what the (independent) fake server reported (with the
    # tools' definitions the request carries, counted by the server too).
    definitions = count_tool_definitions(llm.last_body)
    assert definitions > 0  # draw_image, on by default
    assert usage.prompt_tokens == system_tokens + messages[0].tokens + 3 + definitions
    assert usage.completion_tokens > 0
    expected = (usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.60) / 1_000_000
    assert abs(usage.cost_usd - expected) < 1e-12


async def test_a_redelivered_message_is_answered_once(app: App, llm: FakeOpenAI) -> None:
    first = await say(app.service, private("hello", message_id="77"))
    again = await collect(app.service, private("hello", message_id="77"))
    assert first.startswith("You said: hello")
    assert again == []
    assert len(llm.chat_requests) == 1


async def test_group_answers_only_when_addressed_and_prefixes_names(
    app: App, llm: FakeOpenAI
) -> None:
    assert await collect(app.service, group("just chatting", addressed=False)) == []
    assert llm.chat_requests == []
    await say(app.service, group("hi bot", author=BOB))
    assert llm.last_messages[-1] == {"role": "user", "content": "Bob: hi bot"}
    assert "group chat" in llm.last_messages[0]["content"]


async def test_listen_keeps_unaddressed_messages_as_context(app: App, llm: FakeOpenAI) -> None:
    assert "Listening" in await say(app.service, group("/listen on", author=ADMIN))
    assert (
        await collect(app.service, group("the meeting is at 5pm", author=BOB, addressed=False))
        == []
    )
    await say(app.service, group("when is the meeting?", author=ALICE))
    assert [m["content"] for m in llm.last_messages[1:]] == [
        "Bob: the meeting is at 5pm",
        "Alice: when is the meeting?",
    ]


async def test_trigger_word_and_answer_all(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, group("/trigger jarvis", author=ADMIN))
    assert await collect(app.service, group("jarvissss no", addressed=False)) == []
    assert await say(app.service, group("hey Jarvis, hi", addressed=False))
    await say(app.service, group("/answerall on", author=ADMIN))
    assert await say(app.service, group("anything", addressed=False))
    assert len(llm.chat_requests) == 2


async def test_chats_and_topics_never_share_memory(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("my name is Alice"))
    topic = ConversationKey("telegram", GROUP.chat_id, "5")
    await say(app.service, group("my name is Zed", key=topic))
    assert (
        await say(app.service, group("what is my name", author=ALICE)) == "I don't know your name."
    )
    assert await say(app.service, group("what is my name", key=topic)) == "Your name is Zed."
    assert await say(app.service, private("what is my name")) == "Your name is Alice."
    other_platform = ConversationKey("discord", PRIVATE.chat_id)
    assert await say(app.service, private("what is my name", key=other_platform)) == (
        "I don't know your name."
    )


async def test_switching_persona_starts_a_fresh_window_but_keeps_history(
    app: App, llm: FakeOpenAI
) -> None:
    await say(app.service, private("my name is Alice"))
    assert "coder" in await say(app.service, private("/persona coder"))
    assert await say(app.service, private("what is my name")) == "I don't know your name."
    assert "senior software engineer" in llm.last_messages[0]["content"].lower()
    assert len(await rows(app, MessageRow)) == 4  # nothing was deleted


async def test_reset_forgets_the_history(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("my name is Alice"))
    assert "2 messages" in await say(app.service, private("/reset"))
    assert await say(app.service, private("what is my name")) == "I don't know your name."


async def test_an_oversized_message_is_cut_with_a_marker_and_the_user_told(
    app: App, llm: FakeOpenAI
) -> None:
    await say(app.service, private("/set context_tokens 200"))
    events = await collect(app.service, private("word " * 5000))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("too long" in text for text in notices)
    sent = llm.last_messages[-1]["content"]
    assert sent.endswith("[…]") and len(sent) < 1200
    (user_row,) = [m for m in await rows(app, MessageRow) if m.role == "user"]
    assert user_row.tokens <= 200


async def test_long_chats_trim_in_steps_and_tell_the_user(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("/set context_tokens 300"))
    notices = 0
    windows = []
    for turn in range(30):
        events = await collect(app.service, private(f"message number {turn} " + "filler " * 10))
        notices += sum(1 for e in events if isinstance(e, Notice) and "Older messages" in e.text)
        windows.append(len(llm.last_messages))
    assert 2 <= notices <= 10
    assert max(windows) > min(windows[10:])  # the window drops in steps, then grows again
    assert len(await rows(app, MessageRow)) == 60  # stored history is all kept


async def test_non_ascii_names_and_text_reach_the_model_intact(app: App, llm: FakeOpenAI) -> None:
    # Korean in a group, with a display name that is not ASCII.
    author = Author("99", "김철수", "ko")
    reply = await say(app.service, group("안녕하세요, 반갑습니다", author=author))
    assert reply.startswith("You said:")
    assert llm.last_messages[-1]["content"] == "김철수: 안녕하세요, 반갑습니다"

"""Per-model capabilities and reasoning models through the core, against the fake server that
behaves like OpenAI's reasoning models (400 on what they refuse, reasoning tokens spent out of
max_completion_tokens)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from sqlalchemy import select

from core.bootstrap import App
from core.boundary import AnswerDelta, AnswerDone, Failure, Reasoning, Thinking
from core.storage.schema import MessageRow, UsageRow
from fakes.openai_server import FakeOpenAI, FakeReply, encoding_for
from tests.core.helpers import collect, private, say
from tests.core.test_commands import reply, settings_text
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
IGNORED = "(kept, but gpt-5-mini ignores it: it applies when this chat uses a model that takes it)"


async def stored(app: App) -> list[tuple[str, str]]:
    async with session_on(app) as session:
        rows = await session.execute(select(MessageRow.role, MessageRow.content))
        return [(role, content) for role, content in rows]


async def test_what_a_model_does_not_take_is_kept_but_not_sent(app: App, llm: FakeOpenAI) -> None:
    await reply(app, "/model gpt-5-mini")
    assert (await reply(app, "/set stop END")).text == f"stop = 'END' {IGNORED}"
    assert (await reply(app, "/set presence_penalty 0.5")).text.endswith(IGNORED)
    assert (await reply(app, "/set seed 7")).text.endswith(IGNORED)
    assert (await reply(app, "/set max_tokens 500")).text == "max_tokens = 500"
    settings = await settings_text(app)
    assert "stop: 'END' (ignored by this model)" in settings
    assert "max_tokens: 500\n" in settings
    # The fake refuses stop/penalties/seed-less... for reasoning models with a 400: it answers.
    assert (await say(app.service, private("hello"))).startswith("You said: hello")
    body = llm.last_body
    assert {"stop", "presence_penalty", "seed", "temperature", "max_tokens"}.isdisjoint(body)
    assert body["max_completion_tokens"] == 500 + 16384
    # Back on a model that takes them, they are sent again.
    await reply(app, "/model gpt-4o-mini")
    await say(app.service, private("again"))
    assert (llm.last_body["stop"], llm.last_body["seed"]) == (["END"], 7)
    assert llm.last_body["max_tokens"] == 500 and llm.last_messages[0]["role"] == "system"


async def test_a_question_that_costs_reasoning_tokens_gets_a_real_answer(
    app: App, llm: FakeOpenAI
) -> None:
    llm.reasoning_tokens = 3000
    await reply(app, "/model gpt-5-mini")
    answer = await say(app.service, private("a hard question"))
    assert answer == "You said: a hard question. I can see 1 earlier messages."
    async with session_on(app) as session:
        usage = (await session.execute(select(UsageRow))).scalar_one()
    assert usage.reasoning_tokens == 3000
    assert usage.completion_tokens == 3000 + 15  # reasoning is part of the completion
    assert abs(usage.cost_usd - (usage.prompt_tokens * 0.25 + 3015 * 2.0) / 1e6) < 1e-12
    text = (await reply(app, "/usage")).text
    assert "3,015 completion tokens, $" in text
    assert "(of which 3,000 reasoning, $0.0060)" in text


async def test_a_budget_spent_on_thinking_is_said_with_what_to_do(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    llm.reasoning_tokens = 50_000
    async with make_app(reasoning_tokens=1000, default_reply_tokens=300) as app:
        await reply(app, "/model o4-mini")
        events = await collect(app.service, private("a very hard question"))
        assert llm.last_body["max_completion_tokens"] == 1300
        assert events == [
            Failure(
                "The model spent its whole budget (1300 tokens) thinking and had nothing left "
                "for the answer. Raise /set max_tokens, or lower /set reasoning_effort if the "
                "model takes it."
            )
        ]
        assert [role for role, _ in await stored(app)] == ["user"]  # no empty answer stored
        assert "1,300 completion tokens" in (await reply(app, "/usage")).text


async def test_reasoning_effort_and_verbosity_are_checked_against_the_model(
    app: App, llm: FakeOpenAI
) -> None:
    await reply(app, "/model gpt-5-mini")
    assert (await reply(app, "/set reasoning_effort high")).text == "reasoning_effort = high"
    before = await settings_text(app)
    refused = await reply(app, "/set reasoning_effort loud")
    assert refused.is_error
    assert refused.text == "reasoning_effort must be one of: minimal, low, medium, high."
    assert await settings_text(app) == before
    assert (await reply(app, "/set verbosity low")).text == "verbosity = low"
    await say(app.service, private("hi"))
    assert (llm.last_body["reasoning_effort"], llm.last_body["verbosity"]) == ("high", "low")
    # o3 takes no "minimal" and no verbosity: neither is sent there.
    await reply(app, "/set reasoning_effort minimal")
    await reply(app, "/model o3")
    assert "reasoning_effort: minimal (ignored by this model)" in await settings_text(app)
    assert (await reply(app, "/set reasoning_effort minimal")).text == (
        "reasoning_effort must be one of: low, medium, high."
    )
    await say(app.service, private("hi again"))
    assert {"reasoning_effort", "verbosity"}.isdisjoint(llm.last_body)


async def test_seed_json_mode_and_logit_bias_reach_models_that_take_them(
    app: App, llm: FakeOpenAI
) -> None:
    assert (await reply(app, "/set seed 42")).text == "seed = 42"
    assert (await reply(app, "/set response_format json")).text == "response_format = json"
    assert (await reply(app, "/set logit_bias 1234:-100, 5678:5")).text == (
        "logit_bias = 1234:-100,5678:5"
    )
    for bad in ("1234", "x:1", "1:101", "1:-101", "-1:5", "1:5,,"):
        answer = await reply(app, f"/set logit_bias {bad}")
        assert answer.is_error and answer.text.startswith("logit_bias takes TOKEN:BIAS")
    assert (await reply(app, "/set response_format xml")).is_error
    assert (await reply(app, "/set seed -1")).is_error
    await say(app.service, private("hi"))
    body = llm.last_body
    assert body["seed"] == 42 and body["logit_bias"] == {"1234": -100, "5678": 5}
    assert body["response_format"] == {"type": "json_object"}
    assert "JSON" in body["messages"][0]["content"]  # OpenAI requires it for JSON mode
    # A reasoning model takes JSON mode, not logit_bias nor seed.
    await reply(app, "/model gpt-5-mini")
    await say(app.service, private("hi again"))
    assert llm.last_body["response_format"] == {"type": "json_object"}
    assert {"seed", "logit_bias"}.isdisjoint(llm.last_body)
    assert (await reply(app, "/set logit_bias default")).text == "logit_bias = default"


async def test_reasoning_deltas_are_kept_apart_and_shown_only_when_asked(
    app: App, llm: FakeOpenAI
) -> None:
    thought = "The user greets me. I should greet back."
    llm.responder = lambda body: FakeReply("Hello!", reasoning_text=thought, chunk_size=7)
    await reply(app, "/model deepseek-reasoner")
    events = await collect(app.service, private("hi"))
    assert not any(isinstance(event, Reasoning) for event in events)
    assert [e.text for e in events if isinstance(e, AnswerDelta)] == ["Hello!"]
    assert (await reply(app, "/set show_reasoning on")).text == "show_reasoning = on"
    events = await collect(app.service, private("hi again"))
    assert events[0] == Reasoning(thought)  # before the answer
    assert events[-1] == AnswerDone("Hello!")
    assert await stored(app) == [
        ("user", "hi"),
        ("assistant", "Hello!"),
        ("user", "hi again"),
        ("assistant", "Hello!"),
    ]
    assert all(thought not in m["content"] for m in llm.last_messages)
    async with session_on(app) as session:
        reasoning = list(await session.scalars(select(UsageRow.reasoning_tokens)))
    # The fake bills the streamed thinking as reasoning tokens.
    billed = len(encoding_for("deepseek-reasoner").encode_ordinary(thought))
    assert reasoning == [billed, billed]


async def test_a_think_block_is_never_stored_nor_sent_back(app: App, llm: FakeOpenAI) -> None:
    # chunk_size 3 splits "<think>" and "</think>" across chunks.
    llm.responder = lambda body: FakeReply(
        "<think>\nLet me see: they said hi.\n</think>\n\nHi there!", chunk_size=3
    )
    llm.models = (*llm.models, "qwen3:8b")
    await reply(app, "/model qwen3:8b")
    assert await say(app.service, private("hi")) == "Hi there!"
    await reply(app, "/set show_reasoning on")
    events = await collect(app.service, private("hello"))
    assert Reasoning("Let me see: they said hi.") in events
    await say(app.service, private("and now?"))
    assert all("<think>" not in content for _, content in await stored(app))
    assert all("they said hi" not in m["content"] for m in llm.last_messages)
    # A local reasoning model gets room to think on top of the visible reply, as max_tokens,
    # up to its output limit (half of MODEL_CONTEXT_WINDOW for an unlisted one that reasons).
    assert llm.last_body["max_tokens"] == 4096


async def test_a_silent_model_shows_thinking_before_its_answer(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: FakeReply("Done thinking.", first_token_delay_s=0.3)
    async with make_app(thinking_preview_after_s=0) as app:
        events = await collect(app.service, private("think hard"))
    assert events[0] == Thinking("💭 thinking…")
    assert sum(isinstance(event, Thinking) for event in events) == 1
    assert events[-1] == AnswerDone("Done thinking.")


async def test_an_answer_that_comes_at_once_shows_no_thinking(app: App, llm: FakeOpenAI) -> None:
    events = await collect(app.service, private("quick"))
    assert not any(isinstance(event, Thinking) for event in events)

"""The tool loop end to end: the real openai client over HTTP to the fake server (which streams
tool calls and refuses a malformed transcript as the real API does), a real database, and tools
defined here (the outside world of the loop)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from core.bootstrap import bootstrap
from core.boundary import AnswerDone, ImageReply, Thinking
from core.storage.records import StoredMessage
from core.tokens import count_message, count_tools
from core.tools.base import ToolOutput
from core.turn.history import prompt_message
from fakes.openai_server import FakeOpenAI, FakeReply, prompt_token_ids
from fakes.openai_tools import FakeToolCall
from tests.core.helpers import PRIVATE, collect, private
from tests.tools.scripted import (
    ScriptedSource,
    ScriptedTool,
    answering,
    hanging,
    without_default_tools,
)

MODEL = "gpt-4o-mini"


def two_tools_then_answer(body: dict[str, Any]) -> FakeReply:
    """Calls weather and clock at once (arguments split in pieces), then answers from both."""
    messages = body["messages"]
    if messages[-1]["role"] == "tool":
        results = [m["content"] for m in messages if m["role"] == "tool"]
        return FakeReply("Answer: " + " / ".join(results))
    return FakeReply(
        "",
        tool_calls=(
            FakeToolCall("weather", '{"q": "Seoul"}', id="call_weather", pieces=3),
            FakeToolCall("clock", '{"q": "KST"}', id="call_clock", pieces=4),
        ),
    )


async def stored(app: Any) -> list[StoredMessage]:
    conversation = await app.storage.conversations.conversation(PRIVATE)
    rows: list[StoredMessage] = await app.storage.messages.messages_from(conversation.id, 0)
    return rows


async def usage_rows(app: Any) -> list[tuple[str, int, int]]:
    from sqlalchemy import text

    query = text("SELECT kind, prompt_tokens, completion_tokens FROM usage ORDER BY id")
    rows = await app.storage.messages.database.run(lambda c: c.execute(query).all())
    return [tuple(row) for row in rows]


async def test_two_parallel_calls_answer_the_question(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    weather = ScriptedTool("weather", answering("Sunny in {q}"), acts_outside=True)
    clock = ScriptedTool("clock", answering("21:00 {q}"))
    llm.responder = two_tools_then_answer
    settings = make_settings()
    async with bootstrap(settings, tool_sources=[ScriptedSource([weather, clock])]) as app:
        events = await collect(app.service, private("Weather and time in Seoul?"))

        progress = [e.text for e in events if isinstance(e, Thinking)]
        assert progress == ["🔎 weather: Seoul\n🔎 clock: KST"]
        done = [e for e in events if isinstance(e, AnswerDone)]
        assert [e.text for e in done] == ["Answer: Sunny in Seoul / 21:00 KST"]
        assert weather.calls == [{"q": "Seoul"}] and clock.calls == [{"q": "KST"}]

        first, second = [r.body for r in llm.chat_requests]
        names = [tool["function"]["name"] for tool in first["tools"]]
        assert without_default_tools(names) == [
            "draw_image",
            "weather",
            "clock",
        ]  # the built-in one first
        assert second["tools"] == first["tools"]
        assert second["messages"][1:] == [
            {"role": "user", "content": "Weather and time in Seoul?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_weather",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"q": "Seoul"}'},
                    },
                    {
                        "id": "call_clock",
                        "type": "function",
                        "function": {"name": "clock", "arguments": '{"q": "KST"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_weather", "content": "Sunny in Seoul"},
            {"role": "tool", "tool_call_id": "call_clock", "content": "21:00 KST"},
        ]
        # The system prompt is the persona's alone: tool output never goes there.
        assert second["messages"][0] == first["messages"][0]

        rows = await stored(app)
        assert [(r.role, r.tool_call_id) for r in rows] == [
            ("user", None),
            ("assistant", None),
            ("tool", "call_weather"),
            ("tool", "call_clock"),
            ("assistant", None),
        ]
        assert rows[1].tool_calls is not None
        assert json.loads(rows[1].tool_calls) == second["messages"][2]["tool_calls"]
        assert rows[-1].content == "Answer: Sunny in Seoul / 21:00 KST"
        # Exact counts: each stored row is what the server counts for it (its own tokenizer).
        for row in rows:
            assert row.tokens == len(prompt_token_ids([prompt_message(row)], MODEL)) - 3
        # Each round's usage is recorded.
        assert [kind for kind, *_ in await usage_rows(app)] == ["chat", "chat"]

        # The next turn sends the stored calls and results back, accepted by the server.
        await collect(app.service, private("Thanks"))
        third = llm.chat_requests[-1].body
        assert third["messages"][2:5] == second["messages"][2:5]
        # What the server reports for that prompt is what the core counts: stored rows, the
        # system prompt, the definitions, the reply primer.
        reported = (await usage_rows(app))[-1][1]
        history = sum(r.tokens for r in (await stored(app))[:-1])
        system = count_message("system", third["messages"][0]["content"], "o200k_base")
        compact = json.dumps(third["tools"], separators=(",", ":"), ensure_ascii=False)
        assert reported == history + system + count_tools(compact, "o200k_base") + 3


async def test_a_hanging_tool_and_a_huge_output_are_bounded(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    slow = ScriptedTool("slow", hanging(), timeout_s=0.2)
    huge = ScriptedTool("huge", answering("x" * 50_000_000), output_chars=1_000)
    llm.responder = lambda body: (
        FakeReply("done")
        if body["messages"][-1]["role"] == "tool"
        else FakeReply("", tool_calls=(FakeToolCall("slow", "{}"), FakeToolCall("huge", "{}")))
    )
    async with bootstrap(make_settings(), tool_sources=[ScriptedSource([slow, huge])]) as app:
        events = await collect(app.service, private("go"))
        assert [e.text for e in events if isinstance(e, AnswerDone)] == ["done"]
        results = [m for m in llm.chat_requests[-1].body["messages"] if m["role"] == "tool"]
        assert results[0]["content"] == "Error: The tool did not answer within 0.2 seconds."
        assert results[1]["content"].startswith(
            "x" * 1_000 + "\n[cut: the tool returned 50,000,000"
        )
        assert len(results[1]["content"]) < 1_100


async def test_rounds_are_bounded_then_the_model_answers_in_words(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    again = ScriptedTool("again", answering("more"))
    llm.responder = lambda body: FakeReply(
        "I stop here.", tool_calls=(FakeToolCall("again", '{"q": "x"}'),)
    )
    settings = make_settings(tools_max_rounds=2)
    async with bootstrap(settings, tool_sources=[ScriptedSource([again])]) as app:
        events = await collect(app.service, private("loop forever"))
        assert len(again.calls) == 2
        bodies = [r.body for r in llm.chat_requests]
        assert [b.get("tool_choice") for b in bodies] == [None, None, "none"]
        assert [e.text for e in events if isinstance(e, AnswerDone)] == ["I stop here."]
        rows = await stored(app)
        assert [r.role for r in rows] == [
            "user",
            "assistant",
            "tool",
            "assistant",
            "tool",
            "assistant",
        ]
        assert [kind for kind, *_ in await usage_rows(app)] == ["chat"] * 3


async def test_a_failing_tool_and_a_tool_output_that_looks_like_a_command(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    async def broken(arguments: Any, context: Any) -> ToolOutput:
        raise RuntimeError("secret sk-live-123 in the message")

    async def sly(arguments: Any, context: Any) -> ToolOutput:
        from core.boundary import Choice, CommandReply

        return ToolOutput("/reset", replies=(CommandReply("press", (Choice("x", "/reset"),)),))

    tools = [ScriptedTool("broken", broken), ScriptedTool("sly", sly)]
    llm.responder = lambda body: (
        FakeReply("ok")
        if body["messages"][-1]["role"] == "tool"
        else FakeReply("", tool_calls=(FakeToolCall("broken", "{}"), FakeToolCall("sly", "{}")))
    )
    async with bootstrap(make_settings(), tool_sources=[ScriptedSource(tools)]) as app:
        await collect(app.service, private("first"))
        events = await collect(app.service, private("second"))
        assert not any(getattr(e, "choices", ()) for e in events)  # a tool shows no button
        results = [m for m in llm.chat_requests[-1].body["messages"] if m["role"] == "tool"]
        assert results[-2]["content"] == "Error: The tool failed."
        assert results[-1]["content"] == "/reset"
        assert len([r for r in await stored(app) if r.role == "user"]) == 2  # nothing was reset


async def test_draw_image_as_a_tool(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: (
        FakeReply("Here is your cat.")
        if body["messages"][-1]["role"] == "tool"
        else FakeReply("", tool_calls=(FakeToolCall("draw_image", '{"prompt": "a cat"}'),))
    )
    async with bootstrap(make_settings()) as app:
        events = await collect(app.service, private("draw me a cat"))
        images = [e for e in events if isinstance(e, ImageReply)]
        assert len(images) == 1 and images[0].caption == "🎨 a cat"
        assert [e.text for e in events if isinstance(e, Thinking)] == ["🎨 drawing: a cat"]
        assert [b["prompt"] for b in llm.image_requests] == ["a cat"]
        assert [kind for kind, *_ in await usage_rows(app)] == ["chat", "image", "chat"]
        result = [m for m in llm.chat_requests[-1].body["messages"] if m["role"] == "tool"]
        assert result[0]["content"].startswith("The picture (gpt-image-1, 1024x1024) was sent")


async def test_no_tools_for_a_model_without_them_or_when_off(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    tool = ScriptedTool("clock", answering("now"))
    async with bootstrap(
        make_settings(tools_enabled=False), tool_sources=[ScriptedSource([tool])]
    ) as app:
        await collect(app.service, private("hi"))
        assert "tools" not in llm.chat_requests[-1].body

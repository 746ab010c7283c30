"""The fake server's function calling, through the real openai client: tool calls streamed in
pieces and assembled as the API's own client does, and the 400s for a malformed transcript."""

from __future__ import annotations

import openai
import pytest

from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall

TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]


async def test_parallel_calls_stream_in_pieces(llm: FakeOpenAI) -> None:
    llm.responder = lambda body: FakeReply(
        "",
        tool_calls=(
            FakeToolCall("f", '{"a": "one two three"}', id="call_1", pieces=4),
            FakeToolCall("f", '{"b": 2}', id="call_2", pieces=2),
        ),
    )
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=llm.base_url, max_retries=0)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}], tools=TOOLS, stream=True
    )
    pieces: dict[int, list[str]] = {}
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or ():
                assert call.function is not None
                pieces.setdefault(call.index, []).append(call.function.arguments or "")
            finish = choice.finish_reason or finish
    assert finish == "tool_calls"
    assert ["".join(p) for _, p in sorted(pieces.items())] == ['{"a": "one two three"}', '{"b": 2}']
    assert len(pieces[0]) == 5  # the first delta (name, empty arguments), then four pieces
    await client.close()


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "c", "content": "r"}],
        [
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "d", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c", "content": "r"},
            {"role": "user", "content": "y"},
        ],
    ],
    ids=["result without its call", "call without its result"],
)
async def test_malformed_transcripts_are_refused(llm: FakeOpenAI, messages: list[dict]) -> None:  # type: ignore[type-arg]
    client = openai.AsyncOpenAI(api_key="sk-test", base_url=llm.base_url, max_retries=0)
    with pytest.raises(openai.BadRequestError):
        await client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
    await client.close()

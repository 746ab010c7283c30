"""`python -m bench --tools`: what a round of tool calls adds to a turn's bot time.

Two chats take the same text turns against the fake model in its own process (--call-tools);
in one of them every message asks the model to call a tool, which answers at once, so each of
its turns is two requests with a call and its result in between, all stored. TurnStats.bot_s
leaves out the model's time and the tool's own, so the difference between the two chats is
what the loop costs the bot: target under 5 ms per round (issue 14).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from bench.harness import FakeModelProcess, Workdir, message, percentile, running_bot
from bench.seed import BATCH, ENCODING, chat_text, history
from core.boundary import AnswerDone, Failure
from core.storage.schema import MessageRow
from core.tokens import count_message, count_text, count_tool_calls
from core.tools.base import Tool, ToolCallContext, ToolOutput, ToolSpec

WARMUP_TURNS = 5


class Echo:
    """A tool that answers at once: only the loop's own work is left to measure."""

    spec = ToolSpec(
        name="echo",
        description="Repeats what it is given.",
        parameters={"type": "object", "properties": {"q": {"type": "string"}}},
    )

    def progress(self, arguments: Mapping[str, object]) -> str:
        return "🔁 echoing"

    async def run(self, arguments: Mapping[str, object], context: ToolCallContext) -> ToolOutput:
        return ToolOutput(str(arguments.get("q", ""))[:200])


class EchoSource:
    def tools(self) -> Sequence[Tool]:
        return [Echo()]

    def allowed_in(self, context: ToolCallContext) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class ToolsResult:
    turns: int
    text_p50_ms: float
    tool_p50_ms: float
    # (stored messages; a text turn's bot time p50 after a history of text alone, and after
    # one half of which is tool calls and results)
    history_p50_ms: tuple[tuple[int, float, float], ...] = ()

    @property
    def added_ms(self) -> float:
        return self.tool_p50_ms - self.text_p50_ms

    def table(self) -> str:
        return (
            f"tools: {self.turns} turns per chat; bot time p50 of a text turn "
            f"{self.text_p50_ms:.2f} ms, of a turn with one tool round {self.tool_p50_ms:.2f} ms "
            f"(the round adds {self.added_ms:+.2f} ms; target < 5 ms)"
            + "".join(
                f"; {size:,} messages of history: p50 {text:.2f} ms text only, {tools:.2f} ms "
                "half tool calls"
                for size, text, tools in self.history_p50_ms
            )
        )


def tool_history(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """About `count` stored rows (whole turns) as tool turns leave them: a question, the call,
    its result and the answer, each with its exact token count (half of the rows are tool calls
    and results)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        asked, answer, result = chat_text(rng), chat_text(rng, 20, 120), chat_text(rng, 40, 200)
        call_id = f"call_{len(rows)}"
        arguments = json.dumps({"q": asked[:40]})
        calls = [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": "echo", "arguments": arguments},
            }
        ]
        rows += [
            {"role": "user", "content": asked, "tokens": count_message("user", asked, ENCODING)},
            {
                "role": "assistant",
                "content": "",
                "tokens": count_message("assistant", "", ENCODING)
                + count_tool_calls([("echo", arguments)], ENCODING),
                "tool_calls": json.dumps(calls),
            },
            {
                "role": "tool",
                "content": result,
                "tokens": count_message("tool", result, ENCODING) + count_text(call_id, ENCODING),
                "tool_call_id": call_id,
            },
            {
                "role": "assistant",
                "content": answer,
                "tokens": count_message("assistant", answer, ENCODING),
            },
        ]
    return rows


async def seed_tool_history(
    database_url: str, conversation_id: int, rows: list[dict[str, Any]]
) -> None:
    engine = create_async_engine(database_url)
    now = datetime.now(UTC)
    values = [
        # Every row names every column: a batch insert takes its columns from the first row.
        {
            "conversation_id": conversation_id,
            "encoding": ENCODING,
            "created_at": now,
            "tool_calls": None,
            "tool_call_id": None,
            **row,
        }
        for row in rows
    ]
    async with engine.begin() as connection:
        for start in range(0, len(values), BATCH):
            await connection.execute(insert(MessageRow), values[start : start + BATCH])
    await engine.dispose()


async def run_tools(turns: int = 60, sizes: tuple[int, ...] = (10, 1000)) -> ToolsResult:
    workdir = Workdir()
    database = workdir.sqlite()
    database_url = database.url
    try:
        async with (
            FakeModelProcess(0.0, extra_args=("--call-tools",)) as model,
            running_bot(
                database,
                model.base_url,
                workdir,
                tool_sources=[EchoSource()],
                image_generation_enabled=False,
            ) as (app, log),
        ):
            rng = random.Random(1)
            texts = [chat_text(rng) for _ in range(WARMUP_TURNS + turns)]
            timings: dict[str, list[float]] = {"text": [], "tool": []}
            for index, text in enumerate(texts):
                for chat in ("text", "tool"):  # interleaved: the machine's noise hits both
                    said = f"[call:echo] {text}" if chat == "tool" else text
                    log.clear()
                    answered = ""
                    async for event in app.service.handle(message(chat, said)):
                        if isinstance(event, Failure):
                            raise RuntimeError(event.text)
                        if isinstance(event, AnswerDone):
                            answered = event.text
                    if chat == "tool" and not answered.startswith("The tool said:"):
                        raise RuntimeError(f"no tool round: {answered[:80]!r}")
                    if index >= WARMUP_TURNS:
                        timings[chat] += [stats.bot_s * 1000 for stats in log.turns]
            history_p50 = []
            for size in sizes:
                # Text turns in a chat whose stored history is half tool calls and results,
                # beside one of text alone: planned from stored counts alike, so both curves
                # stay flat.
                seeded = {
                    f"text-{size}": [
                        {"role": role, "content": content, "tokens": tokens}
                        for role, content, tokens in history(size)
                    ],
                    f"tools-{size}": tool_history(size),
                }
                for chat, rows in seeded.items():
                    key = message(chat, "").key
                    conversation = await app.storage.conversations.conversation(key)
                    await seed_tool_history(database_url, conversation.id, rows)
                bot_ms: dict[str, list[float]] = {chat: [] for chat in seeded}
                for index, text in enumerate(texts):
                    for chat in seeded:
                        log.clear()
                        async for event in app.service.handle(message(chat, text)):
                            if isinstance(event, Failure):
                                raise RuntimeError(event.text)
                        if index >= WARMUP_TURNS:
                            bot_ms[chat] += [stats.bot_s * 1000 for stats in log.turns]
                text_ms, tools_ms = (percentile(ms, 50) for ms in bot_ms.values())
                history_p50.append((size, text_ms, tools_ms))
    finally:
        workdir.close()
    return ToolsResult(
        turns=turns,
        text_p50_ms=percentile(timings["text"], 50),
        tool_p50_ms=percentile(timings["tool"], 50),
        history_p50_ms=tuple(history_p50),
    )

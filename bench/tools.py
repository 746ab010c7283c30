"""`python -m bench --tools`: what a round of tool calls adds to a turn's bot time.

Two chats take the same text turns against the fake model in its own process (--call-tools);
in one of them every message asks the model to call a tool, which answers at once, so each of
its turns is two requests with a call and its result in between, all stored. TurnStats.bot_s
leaves out the model's time and the tool's own, so the difference between the two chats is
what the loop costs the bot: target under 5 ms per round (issue 14).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.harness import FakeModelProcess, Workdir, message, percentile, running_bot
from bench.seed import chat_text
from core.boundary import AnswerDone, Failure
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

    @property
    def added_ms(self) -> float:
        return self.tool_p50_ms - self.text_p50_ms

    def table(self) -> str:
        return (
            f"tools: {self.turns} turns per chat; bot time p50 of a text turn "
            f"{self.text_p50_ms:.2f} ms, of a turn with one tool round {self.tool_p50_ms:.2f} ms "
            f"(the round adds {self.added_ms:+.2f} ms; target < 5 ms)"
        )


async def run_tools(turns: int = 60) -> ToolsResult:
    workdir = Workdir()
    try:
        async with (
            FakeModelProcess(0.0, extra_args=("--call-tools",)) as model,
            running_bot(
                workdir.sqlite(),
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
    finally:
        workdir.close()
    return ToolsResult(
        turns=turns,
        text_p50_ms=percentile(timings["text"], 50),
        tool_p50_ms=percentile(timings["tool"], 50),
    )

"""Item 3: many chats at once, each sending messages one after another, against a slow model.

Every chat runs its turns in sequence while all chats run concurrently; the model streams each
answer over `latency_s`. Ideal wall time is turns_per_chat x latency_s (the bot adding nothing).
Each answer echoes the text it was asked about and how many messages it saw, which proves no
reply carried another chat's context.

The "client alone" run sends the same chats x turns through the bot's own model client
(`core.bootstrap.model_client`, `core.llm.OpenAIChatModel`) with no service and no database: the
best efficiency a bot on the official `openai` client can reach on this machine. Both runs
record the CPU time of this process and, when the fake model runs in its own process, of that
server, per turn.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bench.harness import (
    Database,
    TurnFailed,
    Workdir,
    ask,
    bench_settings,
    peak_rss_mb,
    percentile,
    running_bot,
)
from bots.heap import frozen_startup_heap
from core.bootstrap import model_client
from core.model.catalog import ModelCatalog
from core.model.client import ModelRequest, OpenAIChatModel, ProviderError, TextDelta
from core.model.params import DEFAULT_REPLY_TOKENS, ChatParams
from core.personas import PersonaCatalog

ANSWER = re.compile(r"You said: (.*)\. I can see (\d+) earlier messages\.")


@dataclass(frozen=True, slots=True)
class ConcurrencyResult:
    chats: int
    turns_per_chat: int
    latency_s: float
    wall_s: float
    turns: int
    overhead_p50_ms: float
    overhead_p99_ms: float
    peak_rss_mb: float
    mixups: int  # replies that showed another chat's text, or a wrong amount of history
    failures: int  # turns answered with an error instead of an answer
    cpu_s: float = float("nan")  # this process (every thread) during the timed part
    loop_cpu_s: float = float("nan")  # of which the event loop's thread (the rest: SQLite's)
    model_cpu_s: float | None = None  # the fake model's process, when it has its own

    @property
    def ideal_s(self) -> float:
        return self.turns_per_chat * self.latency_s

    @property
    def efficiency(self) -> float:
        return self.ideal_s / self.wall_s

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.wall_s

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / max(1, self.turns)

    @property
    def loop_cpu_ms_per_turn(self) -> float:
        return self.loop_cpu_s * 1000 / max(1, self.turns)

    @property
    def model_cpu_ms_per_turn(self) -> float | None:
        return None if self.model_cpu_s is None else self.model_cpu_s * 1000 / max(1, self.turns)

    @property
    def model_cpu_share(self) -> float | None:
        """How much of one core the fake model's process used over the run."""
        return None if self.model_cpu_s is None else self.model_cpu_s / self.wall_s


ModelCpu = Callable[
    [], float
]  # the fake model process's CPU seconds so far (FakeModelProcess.cpu_s)


def check_answer(answer: str, text: str, turn: int) -> bool:
    """The answer echoes `text` and saw the system prompt plus two messages per earlier turn."""
    found = ANSWER.fullmatch(answer)
    return found is not None and found.group(1) == text and int(found.group(2)) == 1 + 2 * turn


async def run_concurrency(
    database: Database,
    model_url: str,
    latency_s: float,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
    model_cpu: ModelCpu | None = None,
) -> ConcurrencyResult:
    async with running_bot(database, model_url, workdir) as (app, log):
        await ask(app, "warmup", "warm up")  # connections, encodings, lazy imports
        log.clear()
        mixups = failures = 0

        async def chat(number: int) -> None:
            nonlocal mixups, failures
            for turn in range(turns_per_chat):
                text = f"chat {number} turn {turn}"
                try:
                    answer = await ask(app, f"c{number}", text)
                except TurnFailed:
                    failures += 1
                    return  # the chat's later turns would see a different history
                if not check_answer(answer, text, turn):
                    mixups += 1

        with frozen_startup_heap():  # as `python -m bots` serves
            wall_s, (cpu_s, loop_cpu_s), model_cpu_s = await _timed(
                asyncio.gather(*(chat(number) for number in range(chats))), model_cpu
            )
        overheads = [stats.bot_s * 1000 for stats in log.turns]
        return ConcurrencyResult(
            chats=chats,
            turns_per_chat=turns_per_chat,
            latency_s=latency_s,
            wall_s=wall_s,
            turns=len(log.turns),
            overhead_p50_ms=percentile(overheads, 50),
            overhead_p99_ms=percentile(overheads, 99),
            peak_rss_mb=peak_rss_mb(),
            mixups=mixups,
            failures=failures,
            cpu_s=cpu_s,
            loop_cpu_s=loop_cpu_s,
            model_cpu_s=model_cpu_s,
        )


async def run_client_alone(
    model_url: str,
    latency_s: float,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
    model_cpu: ModelCpu | None = None,
) -> ConcurrencyResult:
    """The same load through the bot's model client only: what the bot sends, minus the bot."""
    settings = bench_settings(Database("none", ""), model_url, workdir)
    spec = ModelCatalog.load(settings.model_context_window).get(settings.default_model)
    personas = PersonaCatalog.load(settings.default_persona)
    persona = personas.get(personas.default)
    assert persona is not None
    params = ChatParams().merged_over(persona.params)
    client = model_client(settings)
    model = OpenAIChatModel(client, settings.send_user_identifier)

    async def answer(messages: list[dict[str, str]]) -> str:
        request = ModelRequest(
            model=spec,
            messages=messages,
            params=params,
            max_tokens=min(spec.max_output_tokens, DEFAULT_REPLY_TOKENS),
            user_hash="0" * 32,
        )
        return "".join(
            [event.text async for event in model.stream(request) if isinstance(event, TextDelta)]
        )

    mixups = failures = turns = 0

    async def chat(number: int) -> None:
        nonlocal mixups, failures, turns
        history = [{"role": "system", "content": persona.system_prompt}]
        for turn in range(turns_per_chat):
            text = f"chat {number} turn {turn}"
            history.append({"role": "user", "content": text})
            try:
                reply = await answer(list(history))
            except ProviderError:
                failures += 1
                return
            turns += 1
            history.append({"role": "assistant", "content": reply})
            if not check_answer(reply, text, turn):
                mixups += 1

    try:
        await answer([{"role": "user", "content": "warm up"}])
        wall_s, (cpu_s, loop_cpu_s), model_cpu_s = await _timed(
            asyncio.gather(*(chat(number) for number in range(chats))), model_cpu
        )
    finally:
        await client.close()
    return ConcurrencyResult(
        chats=chats,
        turns_per_chat=turns_per_chat,
        latency_s=latency_s,
        wall_s=wall_s,
        turns=turns,
        overhead_p50_ms=float("nan"),  # no bot
        overhead_p99_ms=float("nan"),
        peak_rss_mb=peak_rss_mb(),
        mixups=mixups,
        failures=failures,
        cpu_s=cpu_s,
        loop_cpu_s=loop_cpu_s,
        model_cpu_s=model_cpu_s,
    )


async def _timed(
    work: Awaitable[object], model_cpu: ModelCpu | None
) -> tuple[float, tuple[float, float], float | None]:
    """Spent awaiting `work`: wall s, (this process's CPU s, this thread's CPU s), and the model
    process's CPU s or None."""
    model_start = model_cpu() if model_cpu is not None else 0.0
    cpu_start, loop_start = time.process_time(), time.thread_time()
    started = time.perf_counter()
    await work
    wall_s = time.perf_counter() - started
    cpu_s, loop_cpu_s = time.process_time() - cpu_start, time.thread_time() - loop_start
    model_cpu_s = model_cpu() - model_start if model_cpu is not None else None
    return wall_s, (cpu_s, loop_cpu_s), model_cpu_s

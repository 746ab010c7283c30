"""The core alone under the Telegram run's load, for its CPU per turn: what a Telegram turn's
CPU is compared with.

The Telegram run's answers go out at most 30 a second for the whole bot (Telegram's limit, kept
by the adapter), and each user writes again once the answer arrived, so about ten turns are in
flight at a time whatever the number of chats. The core's CPU per turn depends on that: with a
hundred turns at once each pass of the event loop serves many of them (one `epoll` for all,
fuller socket reads), with ten it serves few. So the core is driven here the way the Telegram
run drives it: the same fake model process (first text after 50 ms, 300 ms an answer), every
chat writing at the same instant, and each chat's next message sent once its answer has had its
turn in a bot-wide 30 a second. Only the adapter and PTB are missing.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.harness import Database, FakeModelProcess, Workdir, ask, running_bot
from bench.telegram_model import LATENCY_S, first_text_args
from bots.heap import frozen_startup_heap


@dataclass(frozen=True, slots=True)
class PacedCoreResult:
    chats: int
    turns: int
    per_s: int
    wall_s: float
    cpu_s: float

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / max(1, self.turns)


class BotWidePace:
    """Answers leave at most `per_s` a second, in the order they are ready."""

    def __init__(self, per_s: int) -> None:
        self._gap_s = 1 / per_s
        self._next_at = 0.0

    async def wait_turn(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        at = max(now, self._next_at)
        self._next_at = at + self._gap_s
        await asyncio.sleep(at - now)


async def run_core_at_telegram_pace(
    database: Database, workdir: Workdir, chats: int, turns_per_chat: int = 5, per_s: int = 30
) -> PacedCoreResult:
    first_texts = workdir.path / f"core-paced-first-text-{chats}.log"
    model = FakeModelProcess(
        LATENCY_S, module="bench.telegram_model", extra_args=first_text_args(first_texts)
    )
    async with model as llm, running_bot(database, llm.base_url, workdir) as (app, log):
        await ask(app, "warmup", "warm up")
        log.clear()
        pace = BotWidePace(per_s)

        async def chat(number: int) -> None:
            for turn in range(turns_per_chat):
                await ask(app, f"c{number}", f"chat {number} turn {turn}")
                await pace.wait_turn()

        with frozen_startup_heap():  # as `python -m bots` serves
            cpu_at_start, started = time.process_time(), time.perf_counter()
            await asyncio.gather(*(chat(number) for number in range(chats)))
            cpu_s, wall_s = time.process_time() - cpu_at_start, time.perf_counter() - started
    return PacedCoreResult(
        chats=chats, turns=len(log.turns), per_s=per_s, wall_s=wall_s, cpu_s=cpu_s
    )

"""Item 3: many chats at once, each sending messages one after another, against a slow model.

Every chat runs its turns in sequence while all chats run concurrently; the model streams each
answer over `latency_s`. Ideal wall time is turns_per_chat x latency_s (the bot adding nothing).
Each answer echoes the text it was asked about and how many messages it saw, which proves no
reply carried another chat's context.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

from bench.harness import (
    Database,
    TurnFailed,
    Workdir,
    ask,
    peak_rss_mb,
    percentile,
    running_bot,
)

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

    @property
    def ideal_s(self) -> float:
        return self.turns_per_chat * self.latency_s

    @property
    def efficiency(self) -> float:
        return self.ideal_s / self.wall_s

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.wall_s


async def run_concurrency(
    database: Database,
    model_url: str,
    latency_s: float,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
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
                found = ANSWER.fullmatch(answer)
                # Seen before the new message: the system prompt and two messages per turn.
                if found is None or found.group(1) != text or int(found.group(2)) != 1 + 2 * turn:
                    mixups += 1

        started = time.perf_counter()
        await asyncio.gather(*(chat(number) for number in range(chats)))
        wall_s = time.perf_counter() - started
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
        )

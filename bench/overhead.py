"""Items 1 and 2: the bot's own time per turn against history length, next to the naive turn.

The core reports its own time for every answered turn (TurnStats.bot_s: the whole turn minus the
time spent waiting for the model's stream and for the consumer of the replies); the naive turn is
timed the same way. The model answers with no added latency.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.harness import Database, Workdir, ask, percentile, running_bot
from bench.naive import naive_bot
from bench.seed import chat_text, history, seed_history
from core.boundary import ConversationKey

HISTORY_SIZES = (10, 1000, 10000)
WARMUP_TURNS = 5


@dataclass(frozen=True, slots=True)
class OverheadResult:
    history: int
    turns: int
    p50_ms: float
    p99_ms: float
    naive_p50_ms: float | None
    naive_p99_ms: float | None

    @property
    def naive_ratio(self) -> float | None:
        return None if self.naive_p50_ms is None else self.naive_p50_ms / self.p50_ms


async def run_overhead(
    database: Database,
    model_url: str,
    workdir: Workdir,
    turns: int,
    naive_turns: int,
    sizes: tuple[int, ...] = HISTORY_SIZES,
) -> list[OverheadResult]:
    results = []
    async with running_bot(database, model_url, workdir) as (app, log):
        for size in sizes:
            ours, theirs = f"ours-{size}", f"naive-{size}"
            for chat in (ours, theirs):
                conversation = await app.storage.conversations.conversation(
                    ConversationKey("bench", chat)
                )
                await seed_history(database.url, conversation.id, history(size))
            rng = random.Random(size)
            texts = [chat_text(rng) for _ in range(WARMUP_TURNS + max(turns, naive_turns))]
            for text in texts[:WARMUP_TURNS]:
                await ask(app, ours, text)
            log.clear()
            for text in texts[WARMUP_TURNS : WARMUP_TURNS + turns]:
                await ask(app, ours, text)
            ours_ms = [stats.bot_s * 1000 for stats in log.turns]
            naive_ms: list[float] = []
            if naive_turns:
                async with naive_bot(database.url, model_url) as naive:
                    key = ConversationKey("bench", theirs)
                    for text in texts[:WARMUP_TURNS]:
                        await naive.turn(key, text)
                    for text in texts[WARMUP_TURNS : WARMUP_TURNS + naive_turns]:
                        naive_ms.append((await naive.turn(key, text)).bot_s * 1000)
            results.append(
                OverheadResult(
                    history=size,
                    turns=len(ours_ms),
                    p50_ms=percentile(ours_ms, 50),
                    p99_ms=percentile(ours_ms, 99),
                    naive_p50_ms=percentile(naive_ms, 50) if naive_ms else None,
                    naive_p99_ms=percentile(naive_ms, 99) if naive_ms else None,
                )
            )
    return results

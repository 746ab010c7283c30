"""Item 4: resident memory after many distinct chats have each had one turn.

The start is measured after a warm-up (first connections, tokenizer tables, lazy imports: paid
once), so the growth is what the chats themselves leave behind.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bench.harness import Database, Workdir, ask, running_bot, settled_rss_mb

WARMUP_CHATS = 200  # fewer when the run itself is smaller
PARALLEL = 100


@dataclass(frozen=True, slots=True)
class MemoryResult:
    chats: int
    start_mb: float
    end_mb: float

    @property
    def growth_mb(self) -> float:
        return self.end_mb - self.start_mb


async def run_memory(
    database: Database, model_url: str, workdir: Workdir, chats: int
) -> MemoryResult:
    async with running_bot(database, model_url, workdir) as (app, log):

        async def one_turn_each(prefix: str, count: int) -> None:
            for start in range(0, count, PARALLEL):
                numbers = range(start, min(start + PARALLEL, count))
                await asyncio.gather(*(ask(app, f"{prefix}{n}", "hello there") for n in numbers))
                log.clear()

        await one_turn_each("warm", min(WARMUP_CHATS, chats))
        start_mb = settled_rss_mb()
        await one_turn_each("m", chats)
        return MemoryResult(chats=chats, start_mb=start_mb, end_mb=settled_rss_mb())

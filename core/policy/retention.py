"""Optional retention (RETENTION_DAYS), at start and then hourly: stored messages older than N
days; usage rows older than that and than the previous month (budgets sum this month's rows, and
/usage may be read just after the month turns); the personas and the empty conversation rows of
chats unheard of for N days."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from core.storage.erasure import ErasureStore
from core.storage.errors import StorageError
from core.storage.records import RetentionReport

log = logging.getLogger("core.retention")
PRUNE_EVERY_S = 3600.0


def start_of_previous_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


async def prune_once(
    erasure: ErasureStore, days: int, now: datetime | None = None
) -> RetentionReport:
    """Delete what is past `days`; what went."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    report = await erasure.prune(
        messages_before=cutoff,
        usage_before=min(cutoff, start_of_previous_month(now)),
        idle_before=cutoff,
    )
    if report.total():
        log.info(
            "retention (%d days): deleted %d messages, %d usage rows, %d personas, "
            "%d empty conversations",
            days,
            report.messages,
            report.usage,
            report.personas,
            report.conversations,
        )
    return report


async def prune_forever(erasure: ErasureStore, days: int, every_s: float = PRUNE_EVERY_S) -> None:
    """Prune every `every_s` seconds until cancelled; a failed run waits for the next one."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await prune_once(erasure, days)
        except StorageError:
            log.exception("retention: pruning failed; trying again in %.0f s", every_s)

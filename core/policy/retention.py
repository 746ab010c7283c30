"""Optional retention: stored messages older than N days are deleted, at start and then hourly."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from core.storage.erasure import ErasureStore
from core.storage.errors import StorageError

log = logging.getLogger("core.retention")
PRUNE_EVERY_S = 3600.0


async def prune_once(erasure: ErasureStore, days: int) -> int:
    """Delete messages older than `days`; how many went."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    deleted = await erasure.delete_messages_before(cutoff)
    if deleted:
        log.info("retention: deleted %d messages older than %d days", deleted, days)
    return deleted


async def prune_forever(erasure: ErasureStore, days: int, every_s: float = PRUNE_EVERY_S) -> None:
    """Prune every `every_s` seconds until cancelled; a failed run waits for the next one."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await prune_once(erasure, days)
        except StorageError:
            log.exception("retention: pruning failed; trying again in %.0f s", every_s)

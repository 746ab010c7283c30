"""Long polling that confirms an update to Telegram only once its turn has started, and at a
stop only what was answered (see intake.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bots.telegram_adapter.intake import UpdateLedger
from bots.telegram_adapter.send_pacing import retry_after_seconds

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 30.0


class UpdatePoller:
    """Fetches updates into the application's update queue until cancelled.

    The next getUpdates (which confirms the previous batch) waits until every update of the
    previous batch has started: a stop then finds every confirmed update started, and the
    unconfirmed ones still with Telegram. Waiting for a slot also keeps a flood at Telegram
    instead of in memory.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        ledger: UpdateLedger,
        *,
        timeout_s: float,
        allowed_updates: Sequence[str],
    ) -> None:
        self._application = application
        self._ledger = ledger
        self._timeout_s = timeout_s
        self._allowed = list(allowed_updates)
        self._next = 0  # the offset that confirms every update fetched so far
        self._confirmed = 0  # the offset of the latest getUpdates sent

    async def run(self) -> None:
        bot = self._application.bot
        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
        backoff = 1.0
        while True:
            try:
                self._confirmed = self._next
                updates = await bot.get_updates(
                    offset=self._next, timeout=int(self._timeout_s), allowed_updates=self._allowed
                )
            except InvalidToken:
                raise
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except TelegramError as exc:
                log.warning("telegram: getUpdates failed (%s); again in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 1.0
            await self._hand_over(updates)

    async def _hand_over(self, updates: Sequence[Update]) -> None:
        fresh = [u for u in updates if u.update_id >= self._next]
        for update in fresh:
            self._ledger.fetched(update.update_id)
            self._application.update_queue.put_nowait(update)
        if fresh:
            self._next = fresh[-1].update_id + 1
            await self._ledger.until_started(u.update_id for u in fresh)

    async def confirm_answered(self) -> None:
        """After a stop: confirm the fetched updates up to the first one not answered, which
        Telegram then delivers again (with any after it) to the next run."""
        first = self._ledger.first_unanswered(at_least=self._confirmed)
        upto = self._next if first is None else first
        if upto <= self._confirmed:
            return
        try:
            await self._application.bot.get_updates(
                offset=upto, timeout=0, limit=1, allowed_updates=self._allowed
            )
        except TelegramError as exc:
            log.warning("telegram: could not confirm the answered updates (%s)", exc)
        if first is not None:
            log.info("telegram: updates from %d on are left for Telegram to deliver again", first)

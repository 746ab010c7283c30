"""Counting refused and failed turns per UTC day and kind for the owner's web console (issue 16):
the one place that names the kinds and writes them (core/storage/turn_events.py).

Counting must never break or slow a turn: one statement per refusal or failure, nothing on a
turn that is answered, and a count that cannot be written is logged at DEBUG and dropped.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from core.boundary import Failure, IncomingMessage, ReplyEvent
from core.policy.limits import Refusal
from core.storage.errors import StorageError
from core.storage.turn_events import TurnEventStore
from core.texts import Texts

log = logging.getLogger("core.turn")

NOT_ALLOWED = "refused.not_allowed"
BACKLOG = "refused.backlog"
STORAGE = "error.storage"
INTERNAL = "error.internal"


def refusal_kind(refusal: Refusal) -> str:
    """`limit.rate_user` and `limit.rate_chat` are rate limits; every `limit.budget_*` (and a
    projected cost over a budget) is a budget."""
    return "refused.rate_limit" if refusal.key.startswith("limit.rate") else "refused.budget"


def provider_kind(kind: str) -> str:
    return f"error.provider.{kind}"


class OutcomeCounts:
    def __init__(
        self,
        store: TurnEventStore | None = None,  # None: nothing is counted (tests, benchmarks)
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._now = now

    async def add(self, platform: str, kind: str) -> None:
        if self._store is None:
            return
        try:
            await self._store.add(self._now().astimezone(UTC).date(), platform, kind)
        except Exception as error:  # the turn's own outcome matters; the count does not
            log.debug("could not count %s on %s: %s", kind, platform, type(error).__name__)

    async def guarded(
        self, turn: AsyncIterator[ReplyEvent], message: IncomingMessage, texts: Texts
    ) -> AsyncIterator[ReplyEvent]:
        """A turn's events; a storage failure or a bug ends it with a short message, counted."""
        try:
            async for event in turn:
                yield event
        except StorageError:
            log.exception("storage failed for %s", message.key)
            await self.add(message.key.platform, STORAGE)
            yield Failure(texts.get("error.storage"))
        except Exception:
            # A bug must not reach the chat as a traceback or as silence.
            log.exception("turn failed for %s", message.key)
            await self.add(message.key.platform, INTERNAL)
            yield Failure(texts.get("error.internal"))

"""Admitting a turn: who may use the bot at all, and whether their limits allow one more answer.

A refused message is not stored: it was not accepted. Each refusal is counted per day and kind
(core/turn/outcome_counts.py) for the owner's web console.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.boundary import Failure, IncomingMessage
from core.model.catalog import ModelSpec
from core.policy.access import AccessPolicy
from core.policy.limits import AbuseLimits, Refusal, refusal_text
from core.texts import Texts
from core.turn.outcome_counts import NOT_ALLOWED, OutcomeCounts, refusal_kind


@dataclass(frozen=True, slots=True)
class Refused:
    said: Failure | None  # None: refused in silence (a group, or said already this minute)


class Admission:
    def __init__(
        self, access: AccessPolicy, limits: AbuseLimits, counts: OutcomeCounts | None = None
    ) -> None:
        self._access = access
        self._limits = limits
        self.counts = counts or OutcomeCounts()

    def is_owner(self, message: IncomingMessage) -> bool:
        return self._access.is_owner(message)

    async def refuse_user(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """Allow- and deny-lists, for every message, commands included."""
        if self._access.allows(message):
            return None
        if message.addressed or message.is_private:
            # Not every line of a group's chatter: a database write each would be a cost on
            # every message of a busy group with an allow-list.
            await self.counts.add(message.key.platform, NOT_ALLOWED)
        # In a group a refusal would be noise for everyone else; privately it is an answer.
        if message.is_private or message.is_interaction:
            return Refused(Failure(texts.get("not_allowed_user")))
        return Refused(None)

    async def refuse_command(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """The commands' own rate per user (issue 11 item 5): said once a minute, then quiet."""
        refusal = await self._limits.admit_command(message, self.is_owner(message))
        if refusal is None:
            return None
        await self.counts.add(message.key.platform, refusal_kind(refusal))
        return _said(refusal, message, texts)

    async def refuse_turn(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """Rate limits and budgets, for a message the bot would answer (it is counted)."""
        refusal = await self._limits.admit(message, self.is_owner(message))
        if refusal is None:
            return None
        await self.counts.add(message.key.platform, refusal_kind(refusal))
        return _said(refusal, message, texts)

    async def refuse_model(
        self, message: IncomingMessage, spec: ModelSpec, texts: Texts
    ) -> Refused | None:
        """A model without a price while a budget in dollars is on (issue 11 item 3): its use
        would cost nothing against the budget. /model refuses such a pick; this catches a chat
        whose model was picked before the budget, or an unpriced default. Owners are not limited.
        """
        if spec.priced or not self._limits.config.usd_on() or self.is_owner(message):
            return None
        await self.counts.add(message.key.platform, "refused.unpriced")
        return Refused(Failure(texts.get("model.unpriced_turn", name=spec.name[:40])))

    async def refuse_thread(self, message: IncomingMessage, texts: Texts) -> Failure | None:
        """Whether the author may have the bot open a thread: allowed at all, budgets left.

        Not counted against rate limits: the thread's first message is a turn of its own and is
        counted then, and a member allowed to create threads could open one without the bot.
        """
        if not self._access.allows(message):
            await self.counts.add(message.key.platform, NOT_ALLOWED)
            return Failure(texts.get("not_allowed_user"))
        if self.is_owner(message) or not self._limits.active:
            return None
        for status in await self._limits.statuses(message):
            if status.spent >= status.budget.limit:
                refusal = Refusal(f"limit.budget_{status.budget.scope}", {"status": status})
                await self.counts.add(message.key.platform, refusal_kind(refusal))
                return Failure(refusal_text(refusal, texts))
        return None


def _said(refusal: Refusal, message: IncomingMessage, texts: Texts) -> Refused:
    """Said once a minute in a chat; always to a slash command or button press, which must be
    answered (privately) and would otherwise show an empty reply."""
    if refusal.announce or message.is_interaction:
        return Refused(Failure(refusal_text(refusal, texts)))
    return Refused(None)

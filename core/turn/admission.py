"""Admitting a turn: who may use the bot at all, and whether their limits allow one more answer.

A refused message is not stored: it was not accepted.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.boundary import Failure, IncomingMessage
from core.policy.access import AccessPolicy
from core.policy.limits import AbuseLimits, refusal_text
from core.texts import Texts


@dataclass(frozen=True, slots=True)
class Refused:
    said: Failure | None  # None: refused in silence (a group, or said already this minute)


class Admission:
    def __init__(self, access: AccessPolicy, limits: AbuseLimits) -> None:
        self._access = access
        self._limits = limits

    def is_owner(self, message: IncomingMessage) -> bool:
        return self._access.is_owner(message)

    def refuse_user(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """Allow- and deny-lists, for every message, commands included."""
        if self._access.allows(message):
            return None
        # In a group a refusal would be noise for everyone else; privately it is an answer.
        if message.is_private or message.is_interaction:
            return Refused(Failure(texts.get("not_allowed_user")))
        return Refused(None)

    def refuse_command(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """The commands' own rate per user (issue 11 item 5): said once a minute, then quiet."""
        refusal = self._limits.admit_command(message, self.is_owner(message))
        if refusal is None:
            return None
        return Refused(Failure(refusal_text(refusal, texts)) if refusal.announce else None)

    async def refuse_turn(self, message: IncomingMessage, texts: Texts) -> Refused | None:
        """Rate limits and budgets, for a message the bot would answer (it is counted)."""
        refusal = await self._limits.admit(message, self.is_owner(message))
        if refusal is None:
            return None
        return Refused(Failure(refusal_text(refusal, texts)) if refusal.announce else None)

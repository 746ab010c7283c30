"""Calls waiting for the user's Yes or No. The turn that asks holds its conversation's lock while
it waits, so the answer (a button press sending `/confirm ID yes|no`) is taken by the service
before the conversation's queue, by the same process (the turn lives in its memory)."""

from __future__ import annotations

import asyncio
import enum
import secrets
from dataclasses import dataclass


class Answered(enum.Enum):
    TAKEN = "taken"
    NOT_YOURS = "not_yours"  # someone else pressed: only the user who asked may answer
    UNKNOWN = "unknown"  # answered already, timed out, or never asked (another process)


@dataclass(slots=True)
class _Pending:
    user_id: str
    answer: asyncio.Future[bool]


class Confirmations:
    def __init__(self) -> None:
        self._pending: dict[str, _Pending] = {}

    def ask(self, user_id: str) -> tuple[str, asyncio.Future[bool]]:
        """A new question for `user_id`: its id (for the buttons) and the future of the answer."""
        confirm_id = secrets.token_urlsafe(6)
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending[confirm_id] = _Pending(user_id, answer)
        return confirm_id, answer

    async def wait(self, confirm_id: str, answer: asyncio.Future[bool], timeout_s: float) -> bool:
        """The user's answer; no answer within `timeout_s` is a No."""
        try:
            async with asyncio.timeout(timeout_s):
                return await asyncio.shield(answer)
        except TimeoutError:
            return False
        finally:
            self._pending.pop(confirm_id, None)

    def answer(self, confirm_id: str, user_id: str, yes: bool) -> Answered:
        pending = self._pending.get(confirm_id)
        if pending is None or pending.answer.done():
            return Answered.UNKNOWN
        if pending.user_id != user_id:
            return Answered.NOT_YOURS
        pending.answer.set_result(yes)
        return Answered.TAKEN

"""Questions a turn waits on ("Run this tool?") and their answers, in the database, so that any
process of the bot may take the press and the process whose turn waits sees the answer."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from core.storage.retry import Store, retried
from core.storage.schema import ToolConfirmationRow as Row

# A question whose turn died is never removed by it: it goes this long after it expired (long
# after any turn could still wait on it).
FORGOTTEN_AFTER_S = 3600.0


class ConfirmationStore(Store):
    @retried
    async def ask(self, confirm_id: str, user_id: str, expires_at: float, now: float) -> None:
        """A new open question of `user_id`'s (and the long-expired ones forgotten)."""
        values = {"id": confirm_id, "user_id": user_id, "answer": None, "expires_at": expires_at}

        def work(connection: Connection) -> None:
            connection.execute(delete(Row).where(Row.expires_at < now - FORGOTTEN_AFTER_S))
            connection.execute(insert(Row).values(values))

        await self.database.run(work)

    @retried
    async def answer_of(self, confirm_id: str) -> bool | None:
        """The answer given so far; None while there is none."""
        query = select(Row.answer).where(Row.id == confirm_id)
        return await self.database.read(lambda c: c.execute(query).scalar())

    @retried
    async def answer(self, confirm_id: str, user_id: str, yes: bool, now: float) -> str | None:
        """Record `user_id`'s answer when the question is theirs, open and not expired. The
        user who asked an open question (`user_id` itself when the answer was taken); None
        when there is none (answered already, expired, removed, or never asked)."""
        is_open = (Row.id == confirm_id, Row.answer.is_(None), Row.expires_at > now)
        # One statement decides: of two presses at once, exactly one finds the question open.
        take = update(Row).where(*is_open, Row.user_id == user_id).values(answer=yes)
        asker = select(Row.user_id).where(*is_open)

        def work(connection: Connection) -> str | None:
            if connection.execute(take).rowcount == 1:
                return user_id
            return connection.execute(asker).scalar()

        return await self.database.run(work)

    @retried
    async def remove(self, confirm_id: str) -> bool | None:
        """Close the question: its answer, if one came before it closed; None otherwise. A
        press after this finds nothing, so the answer returned is the one that counts."""
        statement = delete(Row).where(Row.id == confirm_id).returning(Row.answer)
        return await self.database.run(lambda c: c.execute(statement).scalar())

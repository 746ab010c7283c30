"""What each answer cost (tokens and dollars), summed per conversation, per user, per chat.

Spending outlives /forget (else forgetting would reset every budget): erasure swaps a row's user
id, and a deleted private chat's conversation, for salted hashes of them, and budgets sum the
rows found by id and those found by hash.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, insert, or_, select

from core.storage.engine import Database
from core.storage.records import Spending, UsageRecord, UsageTotal
from core.storage.retry import Store, retried
from core.storage.schema import ConversationRow, UsageRow

# Written with the turn's answer, in its transaction (messages.py).
INSERT_USAGE = insert(UsageRow)


def usage_values(conversation_id: int, usage: UsageRecord) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "user_id": usage.user_id,
        "model": usage.model,
        "prompt_tokens": usage.prompt_tokens,
        "cached_tokens": usage.cached_tokens,
        "completion_tokens": usage.completion_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cost_usd": usage.cost_usd,
        "kind": usage.kind,
        "quantity": usage.quantity,
    }


def identity_hash(salt: bytes, kind: str, platform: str, identity: str) -> str:
    """A user's or chat's stand-in on usage rows after /forget: the same for the same one, and
    without the salt no way back to the id. `kind` keeps it apart from the hash sent to the
    provider as the end-user id."""
    message = f"usage-{kind}:{platform}:{identity}".encode()
    return hmac.new(salt, message, hashlib.sha256).hexdigest()[:32]


class UsageStore(Store):
    def __init__(self, database: Database, identifier_salt: bytes, retry_s: float = 30.0) -> None:
        super().__init__(database, retry_s)
        self._salt = identifier_salt

    def user_hash(self, platform: str, user_id: str) -> str:
        return identity_hash(self._salt, "user", platform, user_id)

    def chat_hash(self, platform: str, chat_id: str) -> str:
        return identity_hash(self._salt, "chat", platform, chat_id)

    @retried
    async def usage_totals(
        self, conversation_id: int, since: datetime | None = None
    ) -> list[UsageTotal]:
        query = (
            select(
                UsageRow.model,
                func.count(),
                func.sum(UsageRow.prompt_tokens),
                func.sum(UsageRow.cached_tokens),
                func.sum(UsageRow.completion_tokens),
                func.sum(UsageRow.cost_usd),
                func.sum(UsageRow.reasoning_tokens),
                UsageRow.kind,
                func.sum(UsageRow.quantity),
            )
            .where(UsageRow.conversation_id == conversation_id)
            .group_by(UsageRow.kind, UsageRow.model)
            .order_by(UsageRow.kind, UsageRow.model)
        )
        if since is not None:
            query = query.where(UsageRow.created_at >= since)
        rows = await self.database.run(lambda c: c.execute(query).all())
        return [
            UsageTotal(
                model=r[0],
                requests=int(r[1]),
                prompt_tokens=int(r[2] or 0),
                cached_tokens=int(r[3] or 0),
                completion_tokens=int(r[4] or 0),
                cost_usd=float(r[5] or 0.0),
                reasoning_tokens=int(r[6] or 0),
                kind=r[7],
                quantity=float(r[8] or 0.0),
            )
            for r in rows
        ]

    @retried
    async def add_usage(self, conversation_id: int, records: list[UsageRecord]) -> None:
        """Spending outside a turn's answer (a transcription), in one transaction."""
        if not records:
            return
        values = [usage_values(conversation_id, record) for record in records]

        def work(connection: Connection) -> None:
            connection.execute(INSERT_USAGE, values)

        await self.database.run(work)

    @retried
    async def user_spending(
        self, platform: str, user_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one user spent on one platform today and this month, in every chat, before and
        after a /forget."""
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)
        by_id = (UsageRow.user_id == user_id) & UsageRow.conversation_id.in_(on_platform)
        by_hash = UsageRow.user_hash == self.user_hash(platform, user_id)
        return await self._spending(day, month, or_(by_id, by_hash))

    @retried
    async def chat_spending(
        self, platform: str, chat_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one chat (all its topics or threads) spent today and this month, also before a
        /forget deleted it (a private chat)."""
        in_chat = select(ConversationRow.id).where(
            ConversationRow.platform == platform, ConversationRow.chat_id == chat_id
        )
        by_hash = UsageRow.chat_hash == self.chat_hash(platform, chat_id)
        return await self._spending(day, month, or_(UsageRow.conversation_id.in_(in_chat), by_hash))

    async def _spending(self, day: datetime, month: datetime, *where: Any) -> Spending:
        since = min(day, month)
        tokens = UsageRow.prompt_tokens + UsageRow.completion_tokens
        today = UsageRow.created_at >= day
        query = select(
            func.sum(case((today, tokens), else_=0)),
            func.sum(case((today, UsageRow.cost_usd), else_=0.0)),
            func.sum(tokens),
            func.sum(UsageRow.cost_usd),
        ).where(UsageRow.created_at >= since, *where)
        row = await self.database.run(lambda c: c.execute(query).one())
        return Spending(
            day_tokens=int(row[0] or 0),
            day_usd=float(row[1] or 0.0),
            month_tokens=int(row[2] or 0),
            month_usd=float(row[3] or 0.0),
        )

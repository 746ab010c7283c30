"""What each answer cost (tokens and dollars), summed per conversation, per user, per chat."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select

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
        "cost_usd": usage.cost_usd,
    }


class UsageStore(Store):
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
            )
            .where(UsageRow.conversation_id == conversation_id)
            .group_by(UsageRow.model)
            .order_by(UsageRow.model)
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
            )
            for r in rows
        ]

    @retried
    async def user_spending(
        self, platform: str, user_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one user spent on one platform today and this month, in every chat."""
        on_platform = select(ConversationRow.id).where(ConversationRow.platform == platform)
        return await self._spending(
            day, month, UsageRow.user_id == user_id, UsageRow.conversation_id.in_(on_platform)
        )

    @retried
    async def chat_spending(
        self, platform: str, chat_id: str, day: datetime, month: datetime
    ) -> Spending:
        """What one chat (all its topics or threads) spent today and this month."""
        in_chat = select(ConversationRow.id).where(
            ConversationRow.platform == platform, ConversationRow.chat_id == chat_id
        )
        return await self._spending(day, month, UsageRow.conversation_id.in_(in_chat))

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

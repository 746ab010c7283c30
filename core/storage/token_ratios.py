"""Learned token ratios per model: read once at start, written with a turn's usage (in the
same transaction, see messages.complete_turn), so the hot path never reads them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.retry import Store, retried
from core.storage.schema import TokenRatioRow, utcnow


def upsert_ratio(dialect: str) -> Insert:
    """INSERT of a model's new ratio, or UPDATE of the one stored (bound: model, ratio)."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(TokenRatioRow)
    upsert: Insert = insert.on_conflict_do_update(
        index_elements=[TokenRatioRow.model],
        set_={
            "ratio": insert.excluded.ratio,
            "samples": TokenRatioRow.samples + 1,
            "updated_at": insert.excluded.updated_at,
        },
    )
    return upsert


def ratio_values(model: str, ratio: float) -> dict[str, Any]:
    return {"model": model, "ratio": ratio, "samples": 1, "updated_at": utcnow()}


class TokenRatioStore(Store):
    @retried
    async def all_ratios(self) -> dict[str, float]:
        query = select(TokenRatioRow.model, TokenRatioRow.ratio)
        rows = await self.database.run(lambda c: c.execute(query).all())
        return {model: float(ratio) for model, ratio in rows}

"""RETENTION_DAYS: old messages are deleted at start and then on a schedule; new ones stay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from core.bootstrap import App
from core.policy.retention import prune_forever
from core.storage.schema import MessageRow, UsageRow
from tests.core.helpers import private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def contents(app: App) -> list[str]:
    async with session_on(app) as session:
        return list(await session.scalars(select(MessageRow.content).order_by(MessageRow.id)))


async def age(app: App, content: str, days: float) -> None:
    async with session_on(app, begin=True) as session:
        await session.execute(
            update(MessageRow)
            .where(MessageRow.content.startswith(content))
            .values(created_at=datetime.now(UTC) - timedelta(days=days))
        )


async def test_retention_deletes_old_messages_at_start_and_keeps_recent_ones(
    make_app: MakeApp,
) -> None:
    async with make_app() as app:
        await say(app.service, private("old secret"))
        await say(app.service, private("recent"))
        await age(app, "old secret", 31)
        await age(app, "You said: old secret", 31)
    async with make_app(retention_days=30) as app:
        assert await contents(app) == ["recent", "You said: recent. I can see 3 earlier messages."]
        async with session_on(app) as session:  # usage rows hold no text: they stay
            assert len((await session.scalars(select(UsageRow))).all()) == 2
        assert (await say(app.service, private("still works"))).startswith("You said: still")


async def test_retention_runs_again_on_its_schedule(app: App) -> None:
    await say(app.service, private("soon old"))
    pruning = asyncio.create_task(prune_forever(app.storage.erasure, days=1, every_s=0.05))
    try:
        await age(app, "soon old", 2)
        await age(app, "You said: soon old", 2)
        for _ in range(100):
            if not await contents(app):
                break
            await asyncio.sleep(0.02)
        assert await contents(app) == []
    finally:
        pruning.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pruning

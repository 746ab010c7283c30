"""RETENTION_DAYS: old messages are deleted at start and then on a schedule; new ones stay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.bootstrap import App
from core.boundary import ConversationKey
from core.policy.retention import prune_forever
from core.storage.schema import ConversationRow, CustomPersonaRow, MessageRow, UsageRow
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


def start_of_previous_month(now: datetime) -> datetime:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


def chat(chat_id: str) -> ConversationKey:
    return ConversationKey("telegram", chat_id)


async def age_chat(app: App, chat_id: str, created: datetime, *rows: Any) -> None:
    """Make a chat's rows of the given kinds (messages, usage, the conversation) that old."""
    in_chat = select(ConversationRow.id).where(ConversationRow.chat_id == chat_id)
    async with session_on(app, begin=True) as session:
        for row in rows:
            if row is ConversationRow:
                statement = update(row).where(row.chat_id == chat_id).values(updated_at=created)
            else:
                statement = update(row).where(row.conversation_id.in_(in_chat))
                statement = statement.values(created_at=created)
            await session.execute(statement)


async def test_retention_keeps_usage_for_budgets_and_drops_what_no_chat_uses_any_more(
    make_app: MakeApp,
) -> None:
    """Usage rows go once older than RETENTION_DAYS and than last month (monthly budgets sum
    this month's); personas go with a space unheard of that long; conversation rows go once
    nothing is left in them."""
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=100)
    async with make_app() as app:
        for space, name in (("s1", "stale"), ("s2", "fresh"), ("s3", "busy")):
            await say(app.service, private(f"/newpersona {name} Prompt.", key=chat(space)))
        await say(app.service, private("/usage", key=chat("empty")))
        await say(app.service, private("/usage", key=chat("recent")))
        await say(app.service, private("spent long ago", key=chat("old")))
        await say(app.service, private("spent last month", key=chat("last")))
        await say(app.service, private("spent now", key=chat("now")))
        await age_chat(app, "old", long_ago, MessageRow, UsageRow, ConversationRow)
        await age_chat(app, "empty", long_ago, ConversationRow)
        await age_chat(app, "last", start_of_previous_month(now) + timedelta(hours=1), UsageRow)
        async with session_on(app, begin=True) as session:
            await session.execute(
                update(CustomPersonaRow)
                .where(CustomPersonaRow.space_id.in_(["s1", "s3"]))
                .values(space_seen_at=long_ago)
            )
        # A turn in s3 shows the space is still in use.
        await say(app.service, private("still here", key=chat("s3")))
    async with make_app(retention_days=1) as app, session_on(app) as session:
        usage = select(ConversationRow.chat_id).join(UsageRow).order_by(UsageRow.id)
        assert (await session.scalars(usage)).all() == ["last", "now", "s3"]
        personas = select(CustomPersonaRow.name).order_by(CustomPersonaRow.name)
        assert (await session.scalars(personas)).all() == ["busy", "fresh"]
        chats = select(ConversationRow.chat_id).order_by(ConversationRow.chat_id)
        assert (await session.scalars(chats)).all() == [
            "last",
            "now",
            "recent",
            "s1",
            "s2",
            "s3",
        ]

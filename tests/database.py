"""Looking into a running bot's database from a test, on a connection of the test's own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from core.bootstrap import App


@asynccontextmanager
async def session_on(app: App, begin: bool = False) -> AsyncIterator[AsyncSession]:
    """A session on the bot's database; with `begin`, one transaction committed at the end."""
    engine = create_async_engine(app.settings.database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            if begin:
                async with session.begin():
                    yield session
            else:
                yield session
    finally:
        await engine.dispose()

"""Engine creation and migrations: SQLite (WAL, foreign keys) by default, PostgreSQL via asyncpg."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def create_engine(database_url: str, busy_timeout_s: float = 30.0) -> AsyncEngine:
    """`busy_timeout_s`: how long a SQLite write waits for another writer before failing."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout_s})
        busy_ms = int(busy_timeout_s * 1000)
        event.listen(
            engine.sync_engine, "connect", lambda conn, record: _sqlite_pragmas(conn, busy_ms)
        )
        return engine
    # A turn waits for a free connection rather than failing: with 1,000 chats at once the
    # default 30 s ran out while the process was merely busy (python -m bench, concurrency).
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, pool_timeout=120
    )


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    # WAL lets readers run while a turn writes; busy_timeout waits out a concurrent writer
    # instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def migrate(engine: AsyncEngine) -> None:
    """Apply every Alembic migration that has not run yet."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")

"""The database connection: each transaction runs as one piece of synchronous SQLAlchemy code.

SQLite (the default) runs it on one dedicated thread with the standard `sqlite3` driver: one
hand-off per transaction. Through an asyncio driver every statement costs several hand-offs
(open cursor, execute, fetch, close), which made a turn's three transactions take ~4 ms instead
of ~0.8 ms (python -m bench). One thread is also SQLite's one writer, so this process never
competes with itself for the write lock. PostgreSQL runs the same code through asyncpg
(`run_sync`), where the round trips are the network's.

A turn's first step, reading its conversation's row, is `read`: in SQLite's WAL mode a reader
never waits for a writer, so that one indexed row is read on the event loop itself: cheaper
than a trip to the thread, and never queued behind another chat's write waiting for the lock.
If the file is busy after all (not in WAL mode, or another process is recovering it) the read
goes to the thread instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

from core.storage.errors import DatabaseClosed

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

Result = TypeVar("Result")
Work = Callable[[Connection], Result]


class Database:
    """Runs transactions; `run(work)` commits when `work` returns and rolls back if it raises."""

    dialect: str
    closed = False

    def close(self) -> None:
        """Refuse new transactions from now on. Called first at shutdown, so a turn still
        running when the bot stops (its model stream cut by the closing client) cannot store
        half an answer; it stays a question without an answer."""
        self.closed = True

    def _check_open(self) -> None:
        if self.closed:
            raise DatabaseClosed("the bot is stopping")

    async def run(self, work: Work[Result]) -> Result:
        raise NotImplementedError

    async def read(self, work: Work[Result]) -> Result:
        """`run` for a short read of a few indexed rows (it may run on the event loop)."""
        return await self.run(work)

    async def dispose(self) -> None:
        raise NotImplementedError


class ThreadedSqlite(Database):
    dialect = "sqlite"

    def __init__(self, engine: Engine, reader: Engine | None) -> None:
        self.engine = engine
        # Used on the event loop's thread only, and never waits for a lock. None for an
        # in-memory database, which only the thread's own connection can see.
        self._reader = reader
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")

    async def run(self, work: Work[Result]) -> Result:
        self._check_open()
        return await asyncio.get_running_loop().run_in_executor(
            self._thread, self._transaction, work
        )

    async def read(self, work: Work[Result]) -> Result:
        if self._reader is None:
            return await self.run(work)
        self._check_open()
        try:
            with self._reader.connect() as connection:
                return work(connection)
        except OperationalError:  # busy: let the thread wait for it
            return await self.run(work)

    def _transaction(self, work: Work[Result]) -> Result:
        with self.engine.begin() as connection:
            return work(connection)

    async def dispose(self) -> None:
        # Transactions already handed to the thread finish (and commit) before the engine closes.
        await asyncio.to_thread(self._thread.shutdown, wait=True)
        self.engine.dispose()
        if self._reader is not None:
            self._reader.dispose()


class AsyncServer(Database):
    """A database server reached through an asyncio driver (PostgreSQL with asyncpg)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    async def run(self, work: Work[Result]) -> Result:
        self._check_open()
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def dispose(self) -> None:
        await self.engine.dispose()


def open_database(database_url: str, busy_timeout_s: float = 30.0) -> Database:
    """`busy_timeout_s`: how long a SQLite write waits for another process's writer.

    Every engine hides statement parameters from its errors: they hold what users wrote, and a
    failing statement is logged (issue 11 item 3)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        url = url.set(drivername="sqlite")
        engine = create_sync_engine(
            url,
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
            hide_parameters=True,
        )
        busy_ms = int(busy_timeout_s * 1000)
        event.listen(engine, "connect", lambda conn, record: _sqlite_pragmas(conn, busy_ms))
        if not url.database or url.database == ":memory:":
            return ThreadedSqlite(engine, reader=None)
        reader = create_sync_engine(
            url, connect_args={"timeout": 0}, poolclass=SingletonThreadPool, hide_parameters=True
        )
        event.listen(reader, "connect", lambda conn, record: _sqlite_pragmas(conn, 0))
        return ThreadedSqlite(engine, reader)
    url, connect_args = asyncpg_connect_args(url)
    # A turn waits for a free connection rather than failing: with 1,000 chats at once the
    # default 30 s ran out while the process was merely busy (python -m bench, concurrency).
    return AsyncServer(
        create_async_engine(
            url,
            connect_args=connect_args,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            pool_timeout=120,
            hide_parameters=True,
        )
    )


# libpq query parameters of hosted PostgreSQL URLs (Neon, Supabase, Render, Heroku...).
# SQLAlchemy hands a URL's query to asyncpg.connect() as keywords, which it does not take
# (`sslmode=require` was a TypeError); asyncpg reads these from a DSN of its own instead.
ASYNCPG_DSN_PARAMETERS = frozenset(
    {
        "sslmode",
        "sslcert",
        "sslkey",
        "sslrootcert",
        "sslcrl",
        "sslpassword",
        "sslnegotiation",
        "ssl_min_protocol_version",
        "ssl_max_protocol_version",
        "target_session_attrs",
        "krbsrvname",
        "gsslib",
        "passfile",
        "application_name",  # asyncpg sends it as a server setting
    }
)
# libpq parameters asyncpg has no equivalent for: it negotiates SCRAM channel binding itself,
# and the others tune libpq's own socket or GSS handling.
IGNORED_LIBPQ_PARAMETERS = frozenset(
    {
        "channel_binding",
        "gssencmode",
        "gssdelegation",
        "keepalives",
        "keepalives_idle",
        "keepalives_interval",
        "keepalives_count",
        "tcp_user_timeout",
        "sslcompression",
        "sslsni",
        "sslcertmode",
        "require_auth",
        "load_balance_hosts",
    }
)


def asyncpg_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """The URL without its libpq query parameters, and the asyncpg arguments they mean."""
    libpq: dict[str, str] = {}
    connect_args: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    for name, value in url.query.items():
        last = value[-1] if isinstance(value, tuple) else value
        if name in ASYNCPG_DSN_PARAMETERS:
            libpq[name] = last
        elif name == "fallback_application_name":
            libpq.setdefault("application_name", last)
        elif name == "connect_timeout":
            connect_args["timeout"] = float(last)
        elif name == "options":
            server_settings.update(_server_options(last))
    if libpq:
        connect_args["dsn"] = "postgresql://?" + urlencode(libpq)
    if server_settings:
        connect_args["server_settings"] = server_settings
    # Other parameters (asyncpg's own keywords, such as prepared_statement_cache_size) stay.
    moved = set(libpq) | {"fallback_application_name", "connect_timeout", "options"}
    return url.difference_update_query(moved | IGNORED_LIBPQ_PARAMETERS), connect_args


def _server_options(options: str) -> dict[str, str]:
    """libpq's `options=-c key=value -c other=value` as server settings."""
    settings: dict[str, str] = {}
    words = options.split()
    for index, word in enumerate(words):
        pair = ""
        if word == "-c" and index + 1 < len(words):
            pair = words[index + 1]
        elif word.startswith(("-c", "--")):
            pair = word[2:]
        key, sep, value = pair.partition("=")
        if sep and key:
            settings[key.replace("-", "_")] = value
    return settings


def _sqlite_pragmas(dbapi_connection: Any, busy_ms: int) -> None:
    # WAL lets other processes read while this one writes; busy_timeout waits out another
    # process's writer instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


async def migrate(database: Database) -> None:
    """Apply every Alembic migration that has not run yet."""
    await database.run(_upgrade)


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")

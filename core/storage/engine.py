"""The database connection: each transaction runs as one piece of synchronous SQLAlchemy code.

SQLite (the default) uses the standard `sqlite3` driver. Through an asyncio driver every statement
costs several hand-offs (open cursor, execute, fetch, close), which made a turn's three
transactions take ~4 ms instead of ~0.8 ms (python -m bench). PostgreSQL runs the same code
through asyncpg (`run_sync`), where the round trips are the network's.

A turn's transactions are a few indexed rows, so SQLite runs them on the event loop itself, on a
connection that never waits for a lock (busy timeout 0): under load a dedicated thread spent most
of its time waiting for the interpreter, not for the disk (at 300 chats turns queued ~0.7 s for
it; python -m bench --concurrency). In WAL mode a reader never waits for a writer; a write finds
the lock taken only when another process holds it. Then the transaction is rolled back (nothing
of it stays) and run again on the thread, whose connection waits up to the busy timeout; while
any work is on the thread, new work follows it there, so transactions still run in the order
they were asked for and this process never competes with itself for the write lock. Long work
(migrations, retention and erasure sweeps) goes to the thread with `run_long`, so it never holds
up the event loop.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import SingletonThreadPool

from core.storage.errors import DatabaseClosed
from core.storage.lock_keys import lock_key

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK = lock_key("migrations")

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

    async def run_long(self, work: Work[Result]) -> Result:
        """`run` for work that may take long (migrations, sweeps): never on the event loop."""
        return await self.run(work)

    async def dispose(self) -> None:
        raise NotImplementedError


class ThreadedSqlite(Database):
    dialect = "sqlite"

    def __init__(self, engine: Engine, on_loop: Engine | None) -> None:
        self.engine = engine
        # Used on the event loop's thread only, and never waits for a lock. None for an
        # in-memory database, which only the thread's own connection can see.
        self._on_loop = on_loop
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._on_thread_count = 0  # transactions handed to the thread and not finished

    @property
    def engines(self) -> tuple[Engine, ...]:
        """The thread's engine and the event loop's (to listen to every statement)."""
        return (self.engine,) if self._on_loop is None else (self.engine, self._on_loop)

    async def run(self, work: Work[Result]) -> Result:
        self._check_open()
        if self._on_loop is not None and self._on_thread_count == 0:
            try:
                with self._on_loop.begin() as connection:
                    return work(connection)
            except OperationalError as error:
                if not is_busy(error):
                    raise
        return await self._run_on_thread(work)

    async def run_long(self, work: Work[Result]) -> Result:
        self._check_open()
        return await self._run_on_thread(work)

    async def read(self, work: Work[Result]) -> Result:
        if self._on_loop is None:
            return await self.run(work)
        self._check_open()
        try:
            with self._on_loop.connect() as connection:
                return work(connection)
        except OperationalError as error:
            if not is_busy(error):
                raise
        return await self._run_on_thread(work)

    async def _run_on_thread(self, work: Work[Result]) -> Result:
        self._on_thread_count += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._transaction, work
            )
        finally:
            self._on_thread_count -= 1

    def _transaction(self, work: Work[Result]) -> Result:
        with self.engine.begin() as connection:
            return work(connection)

    async def dispose(self) -> None:
        # Transactions already handed to the thread finish (and commit) before the engine closes.
        await asyncio.to_thread(self._thread.shutdown, wait=True)
        self.engine.dispose()
        if self._on_loop is not None:
            self._on_loop.dispose()


def is_busy(error: OperationalError) -> bool:
    """SQLite's "database is locked" (or busy): another connection holds the lock."""
    code = getattr(error.orig, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error.orig) or "busy" in str(error.orig)


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


def open_database(
    database_url: str, busy_timeout_s: float = 30.0, pool_size: int = 10, max_overflow: int = 10
) -> Database:
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
            return ThreadedSqlite(engine, on_loop=None)
        on_loop = create_sync_engine(
            url, connect_args={"timeout": 0}, poolclass=SingletonThreadPool, hide_parameters=True
        )
        event.listen(on_loop, "connect", lambda conn, record: _sqlite_pragmas(conn, 0))
        return ThreadedSqlite(engine, on_loop)
    url, connect_args = asyncpg_connect_args(url)
    # A turn waits for a free connection rather than failing: with 1,000 chats at once the
    # default 30 s ran out while the process was merely busy (python -m bench, concurrency).
    return AsyncServer(
        create_async_engine(
            url,
            connect_args=connect_args,
            pool_pre_ping=True,
            pool_size=pool_size,
            max_overflow=max_overflow,
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
    await database.run_long(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Processes started together (a deploy of N) migrate one after the other: the first
        # upgrades, the others then find the schema at head. Released at the commit.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")

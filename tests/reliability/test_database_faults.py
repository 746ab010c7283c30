"""Database faults injected for real: a SQLite writer holding the lock, PostgreSQL backends
terminated (what a server restart does to the pool), and a PostgreSQL database refusing
connections for a while. The user gets the answer late or a short storage message; the next turn
always works."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from config.settings import Settings
from core.bootstrap import App, bootstrap
from core.boundary import AnswerDelta, Failure
from core.storage.engine import open_database
from core.storage.schema import MessageRow
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.core.helpers import collect, private, say
from tests.database import session_on
from tests.reliability.postgres import admin_sql, terminate

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
STORAGE = "I couldn't reach my memory (database). Please try again in a moment."


def hold_sqlite_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process-like writer: BEGIN EXCLUSIVE on its own connection for `seconds`."""
    locked = threading.Event()

    def run() -> None:
        connection = sqlite3.connect(path, timeout=5, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        threading.Event().wait(seconds)
        connection.execute("ROLLBACK")
        connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    locked.wait(5)
    return thread


async def user_rows(app: App) -> list[str]:
    async with session_on(app) as session:
        query = select(MessageRow.content).where(MessageRow.role == "user").order_by(MessageRow.id)
        return list((await session.scalars(query)).all())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_briefly_locked_sqlite_database_only_delays_the_turn(
    make_app: MakeApp, database_url: str
) -> None:
    path = Path(make_url(database_url).database or "")
    async with make_app(database_retry_s=5) as app:
        await say(app.service, private("warm up"))
        thread = hold_sqlite_write_lock(path, 0.5)
        assert (await say(app.service, private("while locked"))).startswith("You said: while")
        thread.join()
        assert await user_rows(app) == ["warm up", "while locked"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_sqlite_lock_outlasting_the_retry_time_gives_the_storage_message(
    make_app: MakeApp, database_url: str
) -> None:
    path = Path(make_url(database_url).database or "")
    async with make_app(database_retry_s=0.3) as app:
        await say(app.service, private("warm up"))
        thread = hold_sqlite_write_lock(path, 1.0)
        started = asyncio.get_running_loop().time()
        assert await collect(app.service, private("while locked")) == [Failure(STORAGE)]
        assert asyncio.get_running_loop().time() - started < 1.5  # bounded, not 30 s
        thread.join()
        assert (await say(app.service, private("after"))).startswith("You said: after")
        assert await user_rows(app) == ["warm up", "after"]  # nothing half-stored


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_reading_a_conversation_does_not_wait_for_another_writer(
    make_app: MakeApp, database_url: str
) -> None:
    path = Path(make_url(database_url).database or "")
    async with make_app(database_retry_s=10) as app:
        await say(app.service, private("/persona coder"))
        thread = hold_sqlite_write_lock(path, 3.0)
        # This turn's insert waits for the lock on the database thread...
        waiting = asyncio.create_task(say(app.service, private("while locked")))
        await asyncio.sleep(0.3)
        # ...and the next chat's turn still reads its conversation meanwhile.
        state = await app.storage.conversations.conversation(private("x").key)
        assert thread.is_alive() and not waiting.done()
        assert state.persona == "coder"
        assert (await waiting).startswith("You said: while locked")


def settings_for(url: str, llm: FakeOpenAI, tmp_path: Path, **overrides: object) -> Settings:
    return Settings(
        openai_api_key="sk-test-key-123456",
        openai_base_url=llm.base_url,
        openai_max_retries=0,
        database_url=url,
        tiktoken_cache_dir=tmp_path / "tiktoken",
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )


@pytest.mark.postgres
async def test_killed_postgres_connections_are_replaced_and_the_turn_works(
    own_postgres: tuple[str, str], llm: FakeOpenAI, tmp_path: Path
) -> None:
    url, admin_url = own_postgres
    name = make_url(url).database or ""
    async with bootstrap(settings_for(url, llm, tmp_path)) as app:
        await say(app.service, private("my name is Alice"))
        # What a server restart does to a running bot: every pooled connection dies.
        await admin_sql(admin_url, terminate(name))
        assert await say(app.service, private("what is my name")) == "Your name is Alice."
        await admin_sql(admin_url, terminate(name))
        assert await say(app.service, private("what is my name")) == "Your name is Alice."


@pytest.mark.postgres
async def test_postgres_refusing_connections_briefly_only_delays_the_turn(
    own_postgres: tuple[str, str], llm: FakeOpenAI, tmp_path: Path
) -> None:
    url, admin_url = own_postgres
    name = make_url(url).database or ""
    async with bootstrap(settings_for(url, llm, tmp_path, database_retry_s=5)) as app:
        await say(app.service, private("hello"))
        await admin_sql(
            admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', terminate(name)
        )

        async def come_back() -> None:
            await asyncio.sleep(0.6)
            await admin_sql(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

        back = asyncio.create_task(come_back())
        assert (await say(app.service, private("are you there"))).startswith("You said: are")
        await back
        assert await user_rows(app) == ["hello", "are you there"]


@pytest.mark.postgres
async def test_postgres_down_longer_than_the_retry_time_gives_the_storage_message(
    own_postgres: tuple[str, str], llm: FakeOpenAI, tmp_path: Path
) -> None:
    url, admin_url = own_postgres
    name = make_url(url).database or ""
    async with bootstrap(settings_for(url, llm, tmp_path, database_retry_s=0.5)) as app:
        await say(app.service, private("hello"))
        await admin_sql(
            admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', terminate(name)
        )
        assert await collect(app.service, private("anyone?")) == [Failure(STORAGE)]
        assert await collect(app.service, private("/usage")) == [Failure(STORAGE)]
        await admin_sql(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        assert (await say(app.service, private("back"))).startswith("You said: back")
        assert await user_rows(app) == ["hello", "back"]


async def test_an_unreachable_database_server_gives_the_storage_message(
    make_app: MakeApp, llm: FakeOpenAI, tmp_path: Path
) -> None:
    async with make_app() as app:
        # Point the running bot's stores at a port where nothing listens (a server gone).
        stores = app.storage.stores()
        working = stores[0].database
        gone = open_database("postgresql+asyncpg://postgres@127.0.0.1:9/none")
        for store in stores:
            store.database, store.retry_s = gone, 0.2
        try:
            assert await collect(app.service, private("hi")) == [Failure(STORAGE)]
        finally:
            for store in stores:
                store.database = working
            await gone.dispose()


async def test_a_turn_still_running_when_the_bot_stops_stores_no_half_answer(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: FakeReply("story " * 300, chunk_size=6, chunk_delay_s=0.02)
    events: list[object] = []
    streaming = asyncio.Event()

    async def turn(app: App) -> None:
        async for event in app.service.handle(private("a long story please")):
            events.append(event)
            if isinstance(event, AnswerDelta):
                streaming.set()

    async with make_app() as app:
        running = asyncio.create_task(turn(app))
        await asyncio.wait_for(streaming.wait(), 10)
    # The bot stopped under the turn: its model client closed, so the stream broke, and the
    # database refused the half answer instead of storing it as if the provider had failed.
    await asyncio.wait_for(running, 10)
    assert events[-1] == Failure(STORAGE)
    async with make_app() as app:
        async with session_on(app) as session:
            roles = list(await session.scalars(select(MessageRow.role)))
        assert roles == ["user"]

"""SQLite's short transactions run on the event loop, and go to the database thread when another
connection holds the write lock, when work is already queued there, or when they may take long."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from core.storage.engine import Database, open_database

CREATE = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite:///{tmp_path / 'bot.db'}", busy_timeout_s=5)
    await database.run_long(lambda c: c.execute(text(CREATE)))
    yield database
    await database.dispose()


def add(body: str) -> Callable[[Connection], tuple[str, int]]:
    """Work that stores one note and says on which thread it ran."""

    def work(connection: Connection) -> tuple[str, int]:
        connection.execute(text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
        return body, threading.get_ident()

    return work


async def bodies(database: Database) -> list[str]:
    return await database.run(
        lambda c: [row[0] for row in c.execute(text("SELECT body FROM notes ORDER BY id"))]
    )


def hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another process's writer: holds SQLite's write lock for `seconds`."""
    locked = threading.Event()

    def run() -> None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(seconds)
        connection.execute("ROLLBACK")
        connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert locked.wait(5)
    return thread


async def test_a_short_transaction_runs_on_the_event_loop(database: Database) -> None:
    _, ran_on = await database.run(add("one"))
    assert ran_on == threading.get_ident()
    assert await bodies(database) == ["one"]


async def test_long_work_runs_on_the_database_thread(database: Database) -> None:
    _, ran_on = await database.run_long(add("sweep"))
    assert ran_on != threading.get_ident()
    assert await bodies(database) == ["sweep"]


async def test_a_write_finding_the_lock_taken_is_stored_once_by_the_thread(
    database: Database, tmp_path: Path
) -> None:
    holder = hold_write_lock(tmp_path / "bot.db", 0.3)
    _, ran_on = await database.run(add("while locked"))
    holder.join()
    assert ran_on != threading.get_ident()  # waited for the lock on the thread, not the loop
    assert await bodies(database) == ["while locked"]


async def test_work_asked_for_later_waits_for_work_already_on_the_thread(
    database: Database,
) -> None:
    def slow(connection: Connection) -> tuple[str, int]:
        time.sleep(0.3)  # e.g. a retention sweep, before it writes
        return add("first")(connection)

    first = asyncio.create_task(database.run_long(slow))
    await asyncio.sleep(0.05)  # the sweep is running on the thread
    second = await database.run(add("second"))
    await first
    assert second[1] != threading.get_ident()
    assert await bodies(database) == ["first", "second"]


async def test_another_error_on_the_loop_is_raised_without_running_the_work_again(
    database: Database,
) -> None:
    attempts = 0

    def wrong(connection: Connection) -> None:
        nonlocal attempts
        attempts += 1
        connection.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(OperationalError, match="no such table"):
        await database.run(wrong)
    assert attempts == 1


async def test_an_in_memory_database_runs_everything_on_its_thread() -> None:
    database = open_database("sqlite:///:memory:")
    try:
        await database.run_long(lambda c: c.execute(text(CREATE)))
        _, ran_on = await database.run(add("one"))
        assert ran_on != threading.get_ident()
        assert await bodies(database) == ["one"]
    finally:
        await database.dispose()

"""The shared inbox (core/cluster/inbox.py) on PostgreSQL: two inboxes on their own engines
and lock sessions stand for two processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from config.settings import normalize_database_url
from core.boundary import StoredUpdate as Received
from core.cluster.inbox import Inbox
from core.cluster.locks import SessionLocks
from core.storage.engine import AsyncServer, migrate, open_database
from core.storage.inbox import InboxStore
from tests.conftest import POSTGRES_URL, _reset_postgres


@pytest.fixture
async def databases() -> AsyncIterator[list[AsyncServer]]:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)
    opened = [open_database(url), open_database(url)]
    await migrate(opened[0])
    try:
        yield [d for d in opened if isinstance(d, AsyncServer)]
    finally:
        for database in opened:
            await database.dispose()


async def test_two_processes_answer_a_conversation_once_each_in_update_order(
    databases: list[AsyncServer],
) -> None:
    handled: list[tuple[int, int]] = []  # (process, update id)
    running: set[str] = set()

    def handler(process: int) -> object:
        async def handle(step: list[Received]) -> None:
            conversation = step[0].payload
            assert conversation not in running, "two turns of one conversation at once"
            running.add(conversation)
            await asyncio.sleep(0.01)  # a turn takes a while: the other process receives meanwhile
            running.discard(conversation)
            if step[0].update_id == 5:
                raise ValueError("an update that cannot be read")
            handled.extend((process, r.update_id) for r in step)

        return handle

    inboxes = [
        Inbox(
            InboxStore(database),
            SessionLocks(database.engine),
            "telegram",
            handler(n),  # type: ignore[arg-type]
            concurrency=8,
            sweep_s=0.2,
        )
        for n, database in enumerate(databases)
    ]
    # Ten updates of one chat, received alternately by the two processes, each twice.
    for update_id in range(1, 11):
        for inbox in (inboxes[update_id % 2], inboxes[(update_id + 1) % 2]):
            await inbox.receive(update_id, "telegram:1:", None, "telegram:1:")
    for _ in range(400):
        if len(handled) == 9:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert [update_id for _, update_id in handled] == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    for inbox in inboxes:
        await inbox.stop(1)
        await inbox._locks.close()


async def test_a_dead_process_s_pending_updates_are_taken_over_by_the_sweep(
    databases: list[AsyncServer],
) -> None:
    handled: list[int] = []

    async def handle(step: list[Received]) -> None:
        handled.extend(r.update_id for r in step)

    store = InboxStore(databases[0])
    # Stored by a process that died before handling them (nothing holds their lock).
    for update_id in (7, 8):
        assert await store.add("telegram", update_id, "telegram:2:", None, "{}")
    assert not await store.add("telegram", 7, "telegram:2:", None, "{}")  # a redelivery
    survivor = Inbox(
        InboxStore(databases[1]),
        SessionLocks(databases[1].engine),
        "telegram",
        handle,
        concurrency=8,
        sweep_s=0.1,
    )
    survivor.start()
    for _ in range(400):
        if len(handled) == 2:
            break
        await asyncio.sleep(0.05)
    assert handled == [7, 8]
    await survivor.stop(1)
    await survivor._locks.close()

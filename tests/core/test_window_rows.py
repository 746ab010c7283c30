"""The window cache: a turn reads only its new rows, yet never misses what changed in the
database behind its back (another process writing or deleting, retention, /reset)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select

from core.bootstrap import App
from core.storage.schema import MessageRow
from core.storage.window_cache import WindowRows, WindowShape
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import private, say
from tests.database import session_on


@dataclass(frozen=True)
class Row:
    id: int


def test_only_the_most_recently_used_windows_are_kept() -> None:
    windows: WindowRows[Row] = WindowRows(conversations=2)
    windows.put(1, 0, (Row(2), Row(1)))
    windows.put(2, 0, (Row(3),))
    assert windows.get(1, 0) is not None  # 1 is now the most recent
    windows.put(3, 0, (Row(4),))
    assert windows.get(2, 0) is None and windows.get(1, 0) is not None and len(windows) == 2
    assert windows.get(1, start_id=5) is None  # the window moved on since


def test_a_stored_answer_extends_the_window_and_a_cut_drops_its_oldest_rows() -> None:
    windows: WindowRows[Row] = WindowRows()
    windows.put(1, 1, (Row(3), Row(2), Row(1)))
    windows.stored(1, Row(4), new_start_id=3)
    window = windows.get(1, 3)
    assert window is not None and window.newest_first == (Row(4), Row(3))
    windows.stored(1, Row(2), new_start_id=None)  # older than the newest: not trusted
    assert windows.get(1, 3) is None


def test_a_window_is_only_extended_when_the_database_agrees() -> None:
    windows: WindowRows[Row] = WindowRows()
    windows.put(1, 0, (Row(5), Row(2)))
    window = windows.get(1, 0)
    assert window is not None
    assert window.extended(Row(9), WindowShape(3, 9, 16)) == (Row(9), Row(5), Row(2))
    assert window.extended(Row(9), WindowShape(4, 9, 24)) is None  # a row added by others
    assert window.extended(Row(9), WindowShape(2, 9, 14)) is None  # a row deleted
    assert window.extended(Row(9), WindowShape(3, 9, 17)) is None  # one swapped for another


async def add_foreign_row(app: App, conversation_id: int, content: str) -> None:
    async with session_on(app, begin=True) as session:
        await session.execute(
            insert(MessageRow).values(
                conversation_id=conversation_id,
                role="user",
                content=content,
                tokens=10,
                encoding="o200k_base",
            )
        )


async def test_rows_written_or_deleted_by_another_process_reach_the_next_prompt(
    app: App, llm: FakeOpenAI
) -> None:
    await say(app.service, private("first"))
    await say(app.service, private("second"))
    assert len(app.storage.messages.windows) == 1
    conversation = await app.storage.conversations.conversation(private("x").key)
    await add_foreign_row(app, conversation.id, "written elsewhere")
    await say(app.service, private("third"))
    sent = [m["content"] for m in llm.last_messages[1:]]
    assert sent[-2:] == ["written elsewhere", "third"]
    assert "first" in sent

    async with session_on(app, begin=True) as session:
        await session.execute(delete(MessageRow).where(MessageRow.content == "first"))
    await say(app.service, private("fourth"))
    sent = [m["content"] for m in llm.last_messages[1:]]
    assert "first" not in sent and sent[0] == "You said: first. I can see 1 earlier messages."
    assert sent[-1] == "fourth" and "written elsewhere" in sent


async def test_the_cached_window_is_exactly_what_a_fresh_read_gives(
    app: App, llm: FakeOpenAI
) -> None:
    for number in range(6):
        await say(app.service, private(f"message {number}"))
    cached = llm.last_messages
    app.storage.messages.windows.forget()
    await say(app.service, private("after forgetting"))
    assert llm.last_messages[: len(cached)] == cached
    async with session_on(app) as session:
        stored = list(await session.scalars(select(MessageRow.content).order_by(MessageRow.id)))
    assert [m["content"] for m in llm.last_messages[1:]] == stored[:-1]


async def test_reset_empties_the_cached_window(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("remember this"))
    await say(app.service, private("/reset"))
    await say(app.service, private("fresh start"))
    assert [m["content"] for m in llm.last_messages[1:]] == ["fresh start"]

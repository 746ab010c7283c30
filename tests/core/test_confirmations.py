"""A tool call's question and its answer go through the database, on both databases: two
`Confirmations` on one database stand for two processes (the question asked by one, the press
taken by the other); only the asker answers, once; the row goes when the wait ends."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import func, select

from core.bootstrap import App
from core.storage.schema import ToolConfirmationRow
from core.tools.confirmations import Answered, Confirmations
from tests.database import session_on


async def open_questions(app: App) -> int:
    async with session_on(app) as session:
        return int((await session.execute(select(func.count(ToolConfirmationRow.id)))).scalar_one())


async def test_an_answer_taken_by_another_process_reaches_the_waiting_one(app: App) -> None:
    asking = Confirmations(app.storage.confirmations, poll_s=0.05)
    pressed = Confirmations(app.storage.confirmations)
    confirm_id = await asking.ask("11", 30)
    waiting = asyncio.create_task(asking.wait(confirm_id, 30))
    await asyncio.sleep(0.1)
    assert await pressed.answer(confirm_id, "12", True) is Answered.NOT_YOURS
    assert not waiting.done()
    started = time.monotonic()
    assert await pressed.answer(confirm_id, "11", True) is Answered.TAKEN
    assert await asyncio.wait_for(waiting, 5) is True
    assert time.monotonic() - started < 2  # the next poll, not the timeout
    assert await pressed.answer(confirm_id, "11", True) is Answered.UNKNOWN  # over
    assert await asking.answer(confirm_id, "12", False) is Answered.UNKNOWN
    assert await open_questions(app) == 0


async def test_a_no_and_a_press_in_the_same_process(app: App) -> None:
    confirmations = Confirmations(app.storage.confirmations, poll_s=60)  # woken, not polled
    confirm_id = await confirmations.ask("11", 30)
    waiting = asyncio.create_task(confirmations.wait(confirm_id, 30))
    await asyncio.sleep(0.05)
    assert await confirmations.answer(confirm_id, "11", False) is Answered.TAKEN
    assert await asyncio.wait_for(waiting, 2) is False
    assert await confirmations.answer(confirm_id, "11", True) is Answered.UNKNOWN


async def test_no_answer_is_a_no_and_a_press_just_before_the_end_counts(app: App) -> None:
    confirmations = Confirmations(app.storage.confirmations, poll_s=60)
    other = Confirmations(app.storage.confirmations)
    unanswered = await confirmations.ask("11", 0.2)
    assert await confirmations.wait(unanswered, 0.2) is False
    assert await other.answer(unanswered, "11", True) is Answered.UNKNOWN  # too late

    # Answered by another process between the waiter's last look and its end: the waiter's
    # closing of the question returns that answer, so the "OK, running it" said was true.
    late = await confirmations.ask("11", 0.5)
    waiting = asyncio.create_task(confirmations.wait(late, 0.5))
    await asyncio.sleep(0.1)
    assert await other.answer(late, "11", True) is Answered.TAKEN
    assert await waiting is True
    assert await open_questions(app) == 0


async def test_a_cancelled_wait_closes_its_question(app: App) -> None:
    confirmations = Confirmations(app.storage.confirmations)
    confirm_id = await confirmations.ask("11", 30)
    waiting = asyncio.create_task(confirmations.wait(confirm_id, 30))
    await asyncio.sleep(0.05)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert await open_questions(app) == 0
    assert await confirmations.answer(confirm_id, "11", True) is Answered.UNKNOWN


async def test_an_expired_question_is_refused_and_forgotten_later(app: App) -> None:
    store = app.storage.confirmations
    now = time.time()
    await store.ask("expired", "11", now - 1, now)
    assert await store.answer("expired", "11", True, now) is None
    assert await open_questions(app) == 1  # its turn died: nobody removed it
    await store.ask("fresh", "11", now + 30, now + 2 * 3600)  # an hour after it expired
    assert await open_questions(app) == 1  # only the new one
    assert await store.remove("fresh") is None

"""Process faults with real processes: kill -9 in the middle of a turn and restart; SIGTERM while
an answer streams. The fake OpenAI server runs in the test process, slowed down so that the turn
is really in flight."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from core.storage.schema import MessageRow, UsageRow
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.reliability.process import ConsoleBot

SLOW = FakeReply("slow " * 30, chunk_size=5, chunk_delay_s=0.05)  # about 1.5 s to stream


@pytest.fixture
async def bots(
    llm: FakeOpenAI, database_url: str, tmp_path: Path
) -> AsyncIterator[Callable[..., ConsoleBot]]:
    started: list[ConsoleBot] = []

    def make(**env: str) -> ConsoleBot:
        bot = ConsoleBot(
            {
                "OPENAI_API_KEY": "sk-test-key-123456",
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_MAX_RETRIES": "0",
                "DATABASE_URL": database_url,
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                **env,
            },
            tmp_path,
        )
        started.append(bot)
        return bot

    yield make
    for bot in started:
        await bot.stop()


async def stored(database_url: str) -> tuple[list[tuple[str, str]], int]:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        messages = (
            await connection.execute(
                select(MessageRow.role, MessageRow.content).order_by(MessageRow.id)
            )
        ).all()
        usage = len((await connection.execute(select(UsageRow.id))).all())
    await engine.dispose()
    return [(role, content) for role, content in messages], usage


def slow_for(marker: str) -> Callable[[dict], str | FakeReply]:
    from fakes.openai_server import default_responder

    def respond(body: dict) -> str | FakeReply:
        said = body["messages"][-1]["content"]
        return SLOW if marker in said else default_responder(body)

    return respond


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_kill_9_mid_turn_loses_no_accepted_message_and_writes_no_half_turn(
    bots: Callable[..., ConsoleBot], llm: FakeOpenAI, database_url: str
) -> None:
    llm.responder = slow_for("in flight")
    bot = await bots().start()
    for n in (1, 2):
        await bot.send(f"message {n}")
        await bot.read_until(f"You said: message {n}.")
    await bot.send("in flight")
    await bot.read_chunk()  # the answer has started streaming
    bot.signal(signal.SIGKILL)
    assert await bot.wait(10) == -signal.SIGKILL

    messages, usage = await stored(database_url)
    # The accepted message is stored; its answer is not, and neither is its usage: no half turn.
    assert [content for role, content in messages if role == "user"] == [
        "message 1",
        "message 2",
        "in flight",
    ]
    assert [role for role, _ in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert usage == 2

    restarted = await bots().start()
    await restarted.send("after the crash")
    answer = await restarted.read_until("You said: after the crash.")
    assert answer.endswith("I can see 6 earlier messages.")  # everything before it, in order
    await restarted.send("/usage")
    await restarted.read_until("Total:")
    messages, usage = await stored(database_url)
    assert [role for role, _ in messages] == ["user", "assistant"] * 2 + ["user"] * 2 + [
        "assistant"
    ]
    assert usage == 3
    # Nothing was answered twice: one model request per user message, the killed one included.
    asked = [r.body["messages"][-1]["content"] for r in llm.chat_requests]
    assert asked == ["message 1", "message 2", "in flight", "after the crash"]

    # SIGTERM while idle, input still open (the console is blocked reading it): it exits (a
    # reader thread joined at exit would wait for input forever); the bound is for a busy machine.
    restarted.signal(signal.SIGTERM)
    assert await restarted.wait(10) == 0


LONG = FakeReply("endless " * 400, chunk_size=8, chunk_delay_s=0.05)  # about 20 s to stream
LONG_S = 20


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_sigterm_finishes_a_short_answer_and_cuts_a_long_one_at_the_grace_period(
    bots: Callable[..., ConsoleBot], llm: FakeOpenAI, database_url: str, tmp_path: Path
) -> None:
    """Two bots at once (so the test pays for one start-up): one whose answer ends within
    SHUTDOWN_GRACE_S, one whose answer would outlast it."""
    llm.responder = lambda body: SLOW if "short" in body["messages"][-1]["content"] else LONG
    other_database = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    patient = await bots(SHUTDOWN_GRACE_S="10").start()
    hurried = await bots(SHUTDOWN_GRACE_S="1", DATABASE_URL=other_database).start()
    await patient.send("a short answer please")
    await hurried.send("talk for a long time")
    await asyncio.gather(patient.read_chunk(), hurried.read_chunk())  # both are streaming
    sent = time.monotonic()
    patient.signal(signal.SIGTERM)
    hurried.signal(signal.SIGTERM)
    hurried_code = await hurried.wait(15)
    hurried_took = time.monotonic() - sent
    assert await patient.wait(15) == 0 and hurried_code == 0
    # Cut by the console at SHUTDOWN_GRACE_S (not by the entry point's backstop 2 s later), and
    # out well before the answer would have ended. Behaviour, not a tight time: on a loaded
    # 2-core machine the exit took up to 4.8 s before the entry point skipped the interpreter's
    # teardown (1.1-1.2 s since; see bots/__main__.py run()).
    assert "reply still running after 1 s; cancelling it" in hurried.stderr
    assert "still busy" not in hurried.stderr
    assert hurried_took < LONG_S / 2, f"exited {hurried_took:.1f} s after SIGTERM"

    # The short answer was finished, printed and stored whole, with its usage.
    output = "".join(patient.output) + await patient.rest_of_output()
    assert SLOW.text in output.replace("\n", "")
    messages, usage = await stored(database_url)
    assert messages[-1] == ("assistant", SLOW.text) and usage == 1
    # The long one was cut off: its user message is kept, no half-written answer.
    messages, usage = await stored(other_database)
    assert messages == [("user", "talk for a long time")] and usage == 0
    assert "Traceback" not in patient.stderr + hurried.stderr

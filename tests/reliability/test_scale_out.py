"""Three real `python -m bots telegram` processes in webhook mode on one PostgreSQL database
(issue 15): conversations' messages POSTed to the processes at random, with duplicates, the way
a PaaS router and Telegram's redelivery spread them; one process killed with -9 halfway.

Every message must be answered exactly once, in its conversation's order, each answer seeing
every earlier message and answer, whichever process took which message.

The issue's figures, 200 conversations x 10 messages, are the default: 44 s on the shared
2-core machine at load average 2 (three bots ~15 s of CPU each, the fakes and sender ~7 s), but
177-236 s while other jobs kept it at load 8-10. SCALE_CONVERSATIONS and SCALE_MESSAGES shrink
the run (100 x 4: 15 s) without changing what it checks: every conversation spread over the
three processes, the kill between its halves, a backlog behind each conversation's turn.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core.storage.schema import ConversationRow, InboundUpdateRow, MessageRow
from fakes.openai_server import Body, FakeOpenAI, FakeReply, default_responder
from fakes.telegram_api import FakeTelegram
from tests.reliability.process import ConsoleBot

CONVERSATIONS = int(os.environ.get("SCALE_CONVERSATIONS", "200"))
MESSAGES = int(os.environ.get("SCALE_MESSAGES", "10"))
PROCESSES = 3
DUPLICATES = 0.10
SECRET = "scale-out-secret-token"
FIRST_CHAT = 10_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Gate:
    """Holds the fake model's answers before their first byte while closed, so that a kill
    finds every turn either done or waiting for the model (none between the answer sent and
    stored: no outside system can make that step atomic, and the test must not be flaky)."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.held = 0  # requests waiting at the closed gate now

    async def respond(self, body: Body) -> str | FakeReply:
        self.held += 1
        try:
            await self.open.wait()
        finally:
            self.held -= 1
        # In one piece: one sendMessage per answer, no edits (Telegram paces a private chat at
        # about one message or edit a second, which would make the test slow, not stricter).
        return FakeReply(default_responder(body), chunk_size=1000)


class Sender:
    """Telegram as the bot's processes see it behind a router: each update POSTed to one of
    them at random, again (elsewhere) until one answers 200, sometimes twice."""

    def __init__(self, session: aiohttp.ClientSession, ports: list[int], path: str) -> None:
        self._session = session
        self._ports = ports
        self._path = path
        self._ids = itertools.count(1)
        self.acknowledged = 0
        self.redelivered = 0
        self.duplicated = 0

    def next_id(self) -> int:
        return next(self._ids)

    async def post(self, port: int, update: dict[str, Any], secret: str = SECRET) -> int:
        url = f"http://127.0.0.1:{port}/{self._path}"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, OSError):
            return 0

    async def deliver(self, update: dict[str, Any]) -> None:
        while await self.post(random.choice(self._ports), update) != 200:
            self.redelivered += 1
            await asyncio.sleep(0.05)
        self.acknowledged += 1
        if random.random() < DUPLICATES:
            self.duplicated += 1
            await self.post(random.choice(self._ports), update)


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


def expected_answer(chat: int, k: int) -> str:
    # The default persona's system prompt, then k - 1 earlier questions with their answers.
    return f"You said: c{chat} m{k}. I can see {1 + 2 * (k - 1)} earlier messages."


async def test_three_webhook_processes_answer_each_message_once_in_order_across_a_kill(
    own_postgres: tuple[str, str], telegram: FakeTelegram, tmp_path: Path
) -> None:
    database_url, _ = own_postgres
    gate = Gate()
    ports = [free_port() for _ in range(PROCESSES)]
    async with FakeOpenAI(responder=gate.respond) as llm:
        bots = [
            ConsoleBot(
                {
                    "TELEGRAM_BOT_TOKEN": telegram.token,
                    "TELEGRAM_BASE_URL": telegram.root_url,
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                    "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "TELEGRAM_USE_DRAFTS": "false",
                    # 2,000 answers in well under a minute is more than Telegram's 30 messages/s
                    # per bot allows (README, Scaling); the fake has no such cap.
                    "TELEGRAM_MAX_MESSAGES_PER_S": "0",
                    "PORT": str(port),
                    "OPENAI_API_KEY": "sk-test-key-123456",
                    "OPENAI_BASE_URL": llm.base_url,
                    "OPENAI_MAX_RETRIES": "0",
                    "DATABASE_URL": database_url,
                    "DATABASE_POOL_SIZE": "5",
                    "INBOX_SWEEP_S": "1",
                    "THINKING_PREVIEW_AFTER_S": "120",  # no placeholder while the gate holds
                    "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                },
                tmp_path,
                adapter="telegram",
            )
            for port in ports
        ]
        try:
            # Started together: the migrations run once, under their lock.
            await asyncio.gather(*(bot.start() for bot in bots))
            async with aiohttp.ClientSession() as session:
                await _until_healthy(session, ports, bots)
                sender = Sender(session, ports, "telegram")
                # Each process checks the secret token.
                for port in ports:
                    assert await sender.post(port, {"update_id": 0}, secret="wrong") == 403
                await _run(telegram, llm, gate, sender, bots, database_url)
        finally:
            keep = os.environ.get("SCALE_KEEP_LOGS")
            if keep:  # CPU seconds of each process, to see where a slow run's time went
                cpu = [_cpu_s(bot) for bot in bots]
                text = f"{cpu} test={time.process_time():.1f}\n"
                Path(keep, "cpu.txt").write_text(text)  # noqa: ASYNC240
            for bot in bots:
                await bot.stop()
            if keep:  # the processes' logs, to read after a failure
                for n, bot in enumerate(bots):
                    Path(keep, f"bot-{n}.log").write_text(bot.stderr)  # noqa: ASYNC240
        survivors = bots[1:]
        for bot in survivors:
            assert "Traceback" not in bot.stderr, bot.stderr[-3000:]
        assert sender.redelivered > 0  # some POSTs found the killed process gone
        # The killed process had turns in flight, which the others took over: their question
        # went to the model twice (once held when the process died), their answer went out once.
        asked = [r.body["messages"][-1]["content"] for r in llm.chat_requests]
        assert len(asked) > CONVERSATIONS * MESSAGES
        assert set(asked) == {f"c{c} m{k}" for c, k in _all()}

    answers = answers_by_chat(telegram)
    for chat in _chats():
        texts = answers.get(chat)
        assert texts == [expected_answer(chat, k) for k in range(1, MESSAGES + 1)], chat
    await _check_database(database_url)


def _cpu_s(bot: ConsoleBot) -> float:
    """User and system CPU of a running process (Linux), in seconds."""
    assert bot.process is not None
    try:
        fields = Path(f"/proc/{bot.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 1)


def _chats() -> range:
    return range(FIRST_CHAT, FIRST_CHAT + CONVERSATIONS)


def _all() -> list[tuple[int, int]]:
    return [(c, k) for c in _chats() for k in range(1, MESSAGES + 1)]


async def _until_healthy(
    session: aiohttp.ClientSession, ports: list[int], bots: list[ConsoleBot]
) -> None:
    for port, bot in zip(ports, bots, strict=True):
        for _ in range(600):
            assert bot.process is not None and bot.process.returncode is None, bot.stderr
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        body = await response.json()
                        assert body["ok"] and body["role"] == "telegram webhook"
                        break
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.1)
        else:
            raise AssertionError(f"process on {port} never became healthy:\n{bot.stderr}")


async def _run(
    telegram: FakeTelegram,
    llm: FakeOpenAI,
    gate: Gate,
    sender: Sender,
    bots: list[ConsoleBot],
    database_url: str,
) -> None:
    gate_closed = asyncio.Event()
    killed = asyncio.Event()
    first_halves = asyncio.Event()
    at_half: set[int] = set()
    half = MESSAGES // 2

    async def conversation(chat: int) -> None:
        for k in range(1, MESSAGES + 1):
            if k == half + 1:
                at_half.add(chat)
                if len(at_half) == CONVERSATIONS:
                    first_halves.set()
                await gate_closed.wait()  # this one's turn is held at the model when the kill comes
            if k == half + 2:
                await killed.wait()  # the rest goes to two live processes and a dead one
            message = telegram.incoming(chat, f"c{chat} m{k}")
            await sender.deliver({"update_id": sender.next_id(), "message": message})
            await asyncio.sleep(random.uniform(0, 0.4))  # the user types on

    senders = asyncio.gather(*(conversation(chat) for chat in _chats()))
    try:
        await first_halves.wait()
        gate.open.clear()
        gate_closed.set()
        # Every conversation has a turn waiting for the model: the victim holds about a third of
        # them, so it dies mid-turn (their questions are asked again by the process taking over).
        for _ in range(1200):
            if gate.held >= CONVERSATIONS:
                break
            await asyncio.sleep(0.1)
        await _kill_between_turns(telegram, gate, bots[0], database_url)
        killed.set()
        await asyncio.wait_for(senders, 120)
    finally:
        gate.open.set()
        senders.cancel()

    for _ in range(2400):  # up to 4 minutes on a very busy machine
        answers = answers_by_chat(telegram)
        if (
            all(texts[-1:] == [expected_answer(chat, MESSAGES)] for chat, texts in answers.items())
            and len(answers) == CONVERSATIONS
        ):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2 * 1.0)  # two sweeps: a second answer would come by now


def answers_by_chat(telegram: FakeTelegram) -> dict[int, list[str]]:
    """The bot's messages by chat, as they read now, in one pass (bot_messages(chat) sorts
    every message of every chat: 200 times that per check was most of the test's time)."""
    found: dict[int, list[tuple[int, str]]] = {}
    for (chat, message_id), message in telegram.messages.items():
        found.setdefault(chat, []).append((message_id, message.text))
    return {chat: [text for _, text in sorted(texts)] for chat, texts in found.items()}


async def _kill_between_turns(
    telegram: FakeTelegram, gate: Gate, victim: ConsoleBot, database_url: str
) -> None:
    """Close the gate, wait until every answer sent is stored too (none is between the two),
    kill -9, open the gate."""
    gate.open.clear()
    engine = create_async_engine(database_url)
    try:
        while True:
            sent = {chat: len(texts) for chat, texts in answers_by_chat(telegram).items()}
            if sent == await _stored_answers(engine):
                break
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()
    victim.signal(signal.SIGKILL)
    assert await victim.wait(10) == -signal.SIGKILL
    gate.open.set()


async def _stored_answers(engine: AsyncEngine) -> dict[int, int]:
    query = (
        select(ConversationRow.chat_id, func.count())
        .join(MessageRow, MessageRow.conversation_id == ConversationRow.id)
        .where(MessageRow.role == "assistant")
        .group_by(ConversationRow.chat_id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return {int(chat): count for chat, count in rows}


async def _check_database(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(
                        MessageRow.conversation_id, MessageRow.role, MessageRow.content
                    ).order_by(MessageRow.id)
                )
            ).all()
            updates = (
                await connection.execute(select(func.count(), func.count(InboundUpdateRow.done_at)))
            ).one()
    finally:
        await engine.dispose()
    by_conversation: dict[int, list[tuple[str, str]]] = {}
    for conversation_id, role, content in rows:
        by_conversation.setdefault(conversation_id, []).append((role, content))
    assert len(by_conversation) == CONVERSATIONS
    for history in by_conversation.values():
        # Consistent history: question, answer, question, answer... nothing twice, none lost.
        assert [role for role, _ in history] == ["user", "assistant"] * MESSAGES
        chat = int(history[0][1].split()[0][1:])
        assert [content for role, content in history if role == "user"] == [
            f"c{chat} m{k}" for k in range(1, MESSAGES + 1)
        ]
    # Every update stored once (duplicates and redeliveries included) and done.
    assert tuple(updates) == (CONVERSATIONS * MESSAGES, CONVERSATIONS * MESSAGES)

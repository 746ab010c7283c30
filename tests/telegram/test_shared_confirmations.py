"""A tool's "Run …? Yes / No" through Telegram webhooks on PostgreSQL (the shared inbox): the turn
that asked holds its chat's conversation while it waits, so the press must not queue behind it,
and the press may reach another process than the one whose turn waits. Each bot here is a real
bootstrap with its own database sessions and lock connection (another process, as far as the
database and the inbox can tell), fed by POSTs the way Telegram and a PaaS router deliver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import serve
from config.settings import normalize_database_url
from core.bootstrap import bootstrap
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram, SentMessage
from tests.conftest import POSTGRES_URL, _reset_postgres
from tests.telegram.harness import bot_settings
from tests.telegram.test_bot import mention, replies, texts
from tests.telegram.test_tools import look_up_then_answer
from tests.tools.scripted import ScriptedSource, ScriptedTool, answering

GROUP = -100700
ALICE = 501
BOB = 502
ASKED = "@testbot when are the tides?"
CONFIRM_TIMEOUT_S = 30.0  # long: an answer that waited for it would come far too late
PROMPTLY_S = 10.0


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(responder=look_up_then_answer) as server:
        yield server


@pytest.fixture
async def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)
    return url


@pytest.fixture
def lookup() -> ScriptedTool:
    return ScriptedTool("lookup", answering("high at {q}"), needs_confirmation=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Deliveries:
    """Telegram's webhook POSTs to one process or another, each update with its own id."""

    def __init__(self, http: aiohttp.ClientSession, secret: str) -> None:
        self._http = http
        self._secret = secret
        self._ids = itertools.count(1)

    async def post(self, port: int, update: dict[str, Any]) -> dict[str, Any]:
        """POST `update` (given an id unless it has one) until it is acknowledged."""
        update = {"update_id": next(self._ids), **update}
        headers = {"X-Telegram-Bot-Api-Secret-Token": self._secret}
        url = f"http://127.0.0.1:{port}/telegram"
        async with self._http.post(url, json=update, headers=headers) as response:
            assert response.status == 200, await response.text()
        return update


@contextlib.asynccontextmanager
async def webhook_bots(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path, url: str, tool: ScriptedTool, count: int
) -> AsyncIterator[tuple[list[int], Deliveries]]:
    """`count` bots on one PostgreSQL database, each answering webhooks on its own port.

    The sweep is slow (60 s): every update is handled by the process it was POSTed to (or by
    the one holding its conversation), never taken over by another."""
    ports = [free_port() for _ in range(count)]
    secret = ""
    async with contextlib.AsyncExitStack() as stack:
        for port in ports:
            settings = bot_settings(
                tg,
                llm,
                tmp_path / "unused.db",
                database_url=url,
                telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
                port=port,
                inbox_sweep_s=60,
                tools_confirm_timeout_s=CONFIRM_TIMEOUT_S,
            )
            app = await stack.enter_async_context(
                bootstrap(settings, tool_sources=[ScriptedSource([tool])])
            )
            options = TelegramOptions.from_settings(app.settings)
            secret = options.effective_webhook_secret
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app.service, options, stop, app.cluster))

            async def stopped(stop: asyncio.Event = stop, task: asyncio.Task[None] = task) -> None:
                stop.set()
                await asyncio.wait_for(task, 20)

            stack.push_async_callback(stopped)
        # Each server listens before it registers its webhook.
        await tg.wait_until(lambda: len(tg.calls_to("setWebhook")) == count, within=60)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        yield ports, Deliveries(http, secret)


async def asked(tg: FakeTelegram, deliveries: Deliveries, port: int) -> tuple[SentMessage, str]:
    """Alice asks (POSTed to `port`); the question the turn then waits on, and its Yes."""
    alice = tg.user(ALICE, "Alice")
    await deliveries.post(
        port, {"message": tg.incoming(GROUP, ASKED, user=alice, entities=mention(ASKED))}
    )
    await tg.wait_until(lambda: len(tg.bot_messages(GROUP)) >= 2, within=30)
    progress, question = tg.bot_messages(GROUP)
    assert progress.text == "🔎 lookup: tides"
    assert question.text == 'Run lookup with {"q": "tides"}?'
    assert question.reply_markup is not None
    yes = question.reply_markup["inline_keyboard"][0][0]
    assert yes["text"] == "Yes"
    return question, yes["callback_data"]


async def pending_questions(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(text("SELECT count(*) FROM tool_confirmations"))).scalar()
                or 0
            )
    finally:
        await engine.dispose()


async def test_one_webhook_process_answers_the_press_while_the_turn_holds_its_chat(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path, postgres_url: str, lookup: ScriptedTool
) -> None:
    async with webhook_bots(tg, llm, tmp_path, postgres_url, lookup, 1) as ([port], deliveries):
        question, yes = await asked(tg, deliveries, port)
        pressed = time.monotonic()
        press = tg.button_press(GROUP, question.message_id, yes, user=tg.user(ALICE, "Alice"))
        await deliveries.post(port, press)
        await tg.wait_until(lambda: "OK, running it." in texts(tg, GROUP), within=PROMPTLY_S)
        await tg.wait_until(
            lambda: texts(tg, GROUP)[0] == "Found: high at tides", within=PROMPTLY_S
        )
        answered_in = time.monotonic() - pressed
        shown = await replies(tg, GROUP, 3)
    assert answered_in < PROMPTLY_S < CONFIRM_TIMEOUT_S
    assert shown == ["Found: high at tides", question.text, "OK, running it."]
    assert lookup.calls == [{"q": "tides"}]
    assert await pending_questions(postgres_url) == 0  # removed once answered


async def test_the_press_reaches_the_process_whose_turn_waits(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path, postgres_url: str, lookup: ScriptedTool
) -> None:
    async with webhook_bots(tg, llm, tmp_path, postgres_url, lookup, 2) as (ports, deliveries):
        asking, other = ports
        question, yes = await asked(tg, deliveries, asking)  # the turn waits in `asking`
        press = tg.button_press(GROUP, question.message_id, yes, user=tg.user(ALICE, "Alice"))
        await deliveries.post(other, press)
        await tg.wait_until(
            lambda: texts(tg, GROUP)[0] == "Found: high at tides", within=PROMPTLY_S
        )
        shown = await replies(tg, GROUP, 3)
    assert shown == ["Found: high at tides", question.text, "OK, running it."]
    assert lookup.calls == [{"q": "tides"}]
    assert await pending_questions(postgres_url) == 0


async def test_another_user_is_refused_and_a_second_press_has_expired(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path, postgres_url: str, lookup: ScriptedTool
) -> None:
    alice, bob = tg.user(ALICE, "Alice"), tg.user(BOB, "Bob")
    async with webhook_bots(tg, llm, tmp_path, postgres_url, lookup, 2) as (ports, deliveries):
        asking, other = ports
        question, yes = await asked(tg, deliveries, asking)
        await deliveries.post(other, tg.button_press(GROUP, question.message_id, yes, user=bob))
        await tg.wait_until(lambda: len(texts(tg, GROUP)) >= 3, within=PROMPTLY_S)
        assert texts(tg, GROUP)[2] == "Only the person who asked can answer this."
        assert lookup.calls == []

        press = await deliveries.post(
            asking, tg.button_press(GROUP, question.message_id, yes, user=alice)
        )
        await tg.wait_until(
            lambda: texts(tg, GROUP)[0] == "Found: high at tides", within=PROMPTLY_S
        )
        # Telegram delivers the same press again (to the other process): stored once, not
        # answered twice. Then Alice presses Yes a second time: that question is over.
        await deliveries.post(other, press)
        await deliveries.post(other, tg.button_press(GROUP, question.message_id, yes, user=alice))
        shown = await replies(tg, GROUP, 5)
    assert shown == [
        "Found: high at tides",
        question.text,
        "Only the person who asked can answer this.",
        "OK, running it.",
        "That question has expired or was answered already.",
    ]
    assert lookup.calls == [{"q": "tides"}]
    assert len(llm.chat_requests) == 2  # the call, then the answer: the tool ran once
    assert await pending_questions(postgres_url) == 0

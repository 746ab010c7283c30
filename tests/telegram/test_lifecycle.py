"""Starting and stopping: webhook mode, replies finishing on stop, and a real SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bots.telegram_adapter.options import TelegramOptions
from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot

USER = 42
GROUP = -100500
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mention() -> list[dict[str, object]]:
    return [{"type": "mention", "offset": 0, "length": 8}]


def roles(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return [row[0] for row in connection.execute("SELECT role FROM messages ORDER BY id")]


async def test_webhook_mode_checks_the_secret_token(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    llm.responder = lambda body: "via webhook"
    port = free_port()
    url = "https://bot.example.com/telegram/hook"
    async with running_bot(
        tg, llm, tmp_path / "bot.db", telegram_webhook_url=url, port=port
    ) as bot:
        [registered] = tg.calls_to("setWebhook")
        secret = TelegramOptions.from_settings(bot.app.settings).effective_webhook_secret
        assert registered.params["url"] == url
        assert registered.params["secret_token"] == secret
        update = {"update_id": 1, "message": tg.incoming(USER, "hello")}
        local = f"http://127.0.0.1:{port}/telegram/hook"
        async with aiohttp.ClientSession() as http:
            wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
            for _ in range(50):  # PTB registers the webhook before its server listens
                try:
                    async with http.post(local, json=update, headers=wrong) as response:
                        assert response.status == 403
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the webhook server never listened")
            right = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with http.post(local, json=update, headers=right) as response:
                assert response.status == 200
        await tg.wait_until(lambda: [m.text for m in tg.bot_messages(USER)] == ["via webhook"])
    assert not tg.calls_to("getUpdates")
    assert len(llm.chat_requests) == 1


async def test_stop_lets_a_reply_in_flight_finish(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    answer = " ".join(f"word{i}" for i in range(60))
    llm.responder = lambda body: FakeReply(answer, chunk_size=10, chunk_delay_s=0.03)
    db = tmp_path / "bot.db"
    async with running_bot(tg, llm, db, shutdown_grace_s=5) as bot:
        tg.send_text(GROUP, "@testbot talk", entities=mention())
        await tg.wait_until(lambda: bool(tg.calls_to("sendMessage", GROUP)))
        bot.stop.set()
        await asyncio.wait_for(bot.task, 8)
    assert [m.text for m in tg.bot_messages(GROUP)] == [answer]
    assert roles(db) == ["user", "assistant"]


async def test_sigterm_mid_stream_exits_cleanly_with_consistent_storage(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    """The real entry point in its own process, stopped the way a PaaS stops it."""
    llm.responder = lambda body: FakeReply("story " * 400, chunk_size=6, chunk_delay_s=0.02)
    db = tmp_path / "bot.db"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "sk-test-key-123456",
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{db}",
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_BASE_URL": tg.root_url,
        "TELEGRAM_EDIT_INTERVAL_S": "0.2",
        "TELEGRAM_POLL_TIMEOUT_S": "1",
        "SHUTDOWN_GRACE_S": "0.5",
        "DISCORD_BOT_TOKEN": "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bots", "telegram", cwd=tmp_path, env=env
    )
    try:
        await tg.wait_until(lambda: bool(tg.calls_to("getUpdates")), within=20)
        tg.send_text(GROUP, "@testbot a long story please", entities=mention())
        await tg.wait_until(lambda: bool(tg.calls_to("editMessageText", GROUP)))
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 10) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    # The question is kept; the interrupted answer is not half-stored.
    assert roles(db) == ["user"]

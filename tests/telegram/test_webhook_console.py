"""Webhook mode with the web console on: one aiohttp server on PORT receives Telegram's updates
and serves the console under /console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import serve
from bots.web_console.serve import Mounter, console_deps
from core.bootstrap import bootstrap
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import bot_settings
from tests.telegram.test_lifecycle import USER, free_port

TOKEN = "console-test-token-0123456789"


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def test_one_server_takes_updates_and_serves_the_console(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    llm.responder = lambda body: "via webhook"
    port = free_port()
    settings = bot_settings(
        tg,
        llm,
        tmp_path / "bot.db",
        telegram_webhook_url="https://bot.example.com/telegram/hook",
        port=port,
        web_console_token=TOKEN,
    )
    async with bootstrap(settings) as app:
        stop = asyncio.Event()
        options = TelegramOptions.from_settings(settings)
        mount = Mounter(console_deps(settings, app.console))
        task = asyncio.create_task(serve(app.service, options, stop, web_mount=mount))
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # PTB registers the webhook before its server listens
                    try:
                        async with http.get(f"{base}/console/", allow_redirects=False) as answer:
                            assert answer.status == 302
                            assert answer.headers["Location"] == "/console/signin"
                            break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                else:
                    pytest.fail("the webhook server never listened")
                async with http.get(f"{base}/console/signin") as answer:
                    assert answer.status == 200
                    assert "Content-Security-Policy" in answer.headers
                update = {"update_id": 1, "message": tg.incoming(USER, "hello")}
                secret = {"X-Telegram-Bot-Api-Secret-Token": options.effective_webhook_secret}
                async with http.post(f"{base}/telegram/hook", json=update, headers=secret) as r:
                    assert r.status == 200
            await tg.wait_until(lambda: [m.text for m in tg.bot_messages(USER)] == ["via webhook"])
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

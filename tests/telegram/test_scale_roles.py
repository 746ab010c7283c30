"""Several processes on one PostgreSQL database (issue 15): Telegram allows one long poller, so
a second one stands by, says so in one line, and takes over when the first stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import serve
from config.settings import normalize_database_url
from core.bootstrap import bootstrap
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.conftest import POSTGRES_URL, _reset_postgres
from tests.telegram.harness import bot_settings

USER = 42


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def postgres_url() -> str:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)
    return url


async def test_a_second_poller_stands_by_and_takes_over_when_the_first_stops(
    tg: FakeTelegram,
    llm: FakeOpenAI,
    postgres_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = bot_settings(tg, llm, tmp_path / "unused.db", database_url=postgres_url)
    options = TelegramOptions.from_settings(settings)
    async with bootstrap(settings) as first, bootstrap(settings) as second:
        assert first.cluster is not None and second.cluster is not None
        second.cluster.standby_s = 0.1
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        polling = asyncio.create_task(serve(first.service, options, stop_first, first.cluster))
        await tg.wait_until(lambda: bool(tg.calls_to("getUpdates")), within=60)
        with caplog.at_level(logging.INFO, logger="core.cluster"):
            standing_by = asyncio.create_task(
                serve(second.service, options, stop_second, second.cluster)
            )
            tg.send_text(USER, "one")
            await tg.wait_until(lambda: "You said: one" in tg.transcript(USER), within=60)
            stands_by = [r for r in caplog.records if "standing by" in r.getMessage()]
            assert len(stands_by) == 1  # one line, however long it waits
            assert "another process is already the telegram-poller" in stands_by[0].getMessage()
            assert not standing_by.done()
            await asyncio.sleep(0.5)  # several standby rounds: not one Bot API call among them
            assert len(tg.calls_to("getMe")) == 1  # the second has not even started PTB

            stop_first.set()
            await asyncio.wait_for(polling, 60)
            tg.send_text(USER, "two")
            await tg.wait_until(lambda: "You said: two" in tg.transcript(USER), within=60)
            assert any("taking over" in r.getMessage() for r in caplog.records)
            assert len(tg.calls_to("getMe")) == 2
        stop_second.set()
        await asyncio.wait_for(standing_by, 60)

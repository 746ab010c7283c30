from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.ext import ExtBot

from bots.telegram_adapter.send_pacing import SendPacing
from fakes.telegram_api import FakeTelegram

# What the adapter sets when it starts (see bots.telegram_adapter.startup.serve): PTB >= 22.2
# warns on every RetryAfter unless durations are opted in to datetime.timedelta.
os.environ.setdefault("PTB_TIMEDELTA", "true")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """PTB's bot as the adapter builds it: with our send pacing."""
    pacing = SendPacing()
    async with ExtBot(tg.token, base_url=tg.base_url, rate_limiter=pacing) as real_bot:
        yield real_bot

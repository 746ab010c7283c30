"""One flooded chat must not stall the others (issue 11 item 6): real PTB polling the fake Bot
API, the real core, the fake OpenAI server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.texts import EN
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot

FLOODED = 42
OTHER = 43
FLOOD = 500
TYPING_INTERVAL_S = 0.5
TURN_S = 2.0  # every answer takes about this long, so a flooded chat stays busy


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(latency_s=TURN_S) as server:
        yield server


async def reply_time(tg: FakeTelegram, text: str) -> float:
    """Seconds from OTHER's message to the bot's complete answer in OTHER."""
    before = len(tg.bot_messages(OTHER))
    started = time.monotonic()
    tg.send_text(OTHER, text)
    # Generous: before the fix the answer came after ~250 turns of the flooded chat.
    await tg.wait_for_chat(OTHER, lambda: len(tg.bot_messages(OTHER)) > before, within=60)
    return time.monotonic() - started


async def test_a_flooded_chat_does_not_delay_another_chat(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    async with running_bot(
        tg, llm, tmp_path / "bot.db", telegram_typing_interval_s=TYPING_INTERVAL_S
    ):
        await reply_time(tg, "warm up")
        unflooded = await reply_time(tg, "how long without a flood?")

        flood_started = time.monotonic()
        for n in range(FLOOD):
            tg.send_text(FLOODED, f"flood {n}")
        flooded = await reply_time(tg, "and during one?")

        # Within 2x of the same reply without the flood, measured in this same run.
        assert flooded < 2 * unflooded, (unflooded, flooded)

        # The flood past the backlog was refused with one short notice, not one per message.
        busy = EN["busy.backlog_full"]
        await tg.wait_for_chat(FLOODED, lambda: busy in texts(tg, FLOODED), within=30)
        assert texts(tg, FLOODED).count(busy) == 1

        # Typing came only from the turn running (turns run one after another), not from every
        # message waiting: before the fix, 256 indicators started at once.
        elapsed = time.monotonic() - flood_started
        turns = elapsed / TURN_S + 1
        typed = len(tg.calls_to("sendChatAction", FLOODED))
        assert typed <= turns + elapsed / TYPING_INTERVAL_S + 5, (typed, elapsed)


def texts(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [message.text for message in tg.bot_messages(chat_id)]

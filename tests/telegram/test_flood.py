"""One flooded chat must not stall the others (issue 11 item 6): real PTB polling the fake Bot
API, the real core, the fake OpenAI server."""

from __future__ import annotations

import asyncio
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


SLOTS = 8
FLOODED_CHATS = [100 + n for n in range(4)]
MESSAGES_EACH = 5  # within the backlog: every one is answered, none refused


async def test_messages_waiting_behind_their_chat_take_no_update_slot(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """Four chats of five messages hold 4 x 4 messages waiting, more than the bot's 8 slots:
    before, they kept them all and another chat's message waited for slots behind the flood
    (three turns of 1 s here); now only the four running turns hold one."""
    async with (
        FakeOpenAI(latency_s=1.0) as llm,
        running_bot(tg, llm, tmp_path / "bot.db", slots=SLOTS),
    ):
        await reply_time(tg, "warm up")
        unflooded = await reply_time(tg, "how long without a flood?")
        for n in range(MESSAGES_EACH):
            for chat in FLOODED_CHATS:
                tg.send_text(chat, f"flood {n}")
        await tg.wait_until(lambda: len(llm.chat_requests) >= 2 + len(FLOODED_CHATS))
        flooded = await reply_time(tg, "and during one?")
        assert flooded < 2 * unflooded, (unflooded, flooded)
        for chat in FLOODED_CHATS:  # the flood itself is answered whole, in order
            await tg.wait_for_chat(
                chat, lambda c=chat: len(tg.bot_messages(c)) == MESSAGES_EACH, within=30
            )


async def test_running_turns_still_hold_a_slot_each(tg: FakeTelegram, tmp_path: Path) -> None:
    """Slots still bound the turns that run: with two, four chats' questions reach the model
    two at a time."""
    async with FakeOpenAI() as llm, running_bot(tg, llm, tmp_path / "bot.db", slots=2):
        llm.hang_next(1.5, count=4)
        for chat in FLOODED_CHATS:
            tg.send_text(chat, "a question")
        await tg.wait_until(lambda: len(llm.chat_requests) >= 2)
        await asyncio.sleep(0.5)
        assert len(llm.chat_requests) == 2
        for chat in FLOODED_CHATS:
            await tg.wait_for_chat(chat, lambda c=chat: bool(tg.bot_messages(c)), within=20)

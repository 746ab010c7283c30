"""Reminders on Telegram: the scheduler sends them through the running adapter into the chat's
forum topic (fake Bot API), /reminders lists them with buttons that cancel."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.boundary import ConversationKey
from core.storage.reminders import NewReminder, Reminder, ReminderStore
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot

FORUM = -100400
TOPIC = 11
ALICE = 501


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


def command(text: str) -> list[dict[str, object]]:
    return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]


def in_topic(due_at: datetime, text: str) -> NewReminder:
    return NewReminder(
        ConversationKey("telegram", str(FORUM), str(TOPIC)), str(ALICE), "Ann", text, due_at, "UTC"
    )


async def test_a_due_reminder_is_sent_into_its_forum_topic(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    tg.chat(FORUM, "supergroup", is_forum=True)
    async with running_bot(tg, llm, tmp_path / "bot.db") as bot:
        now = datetime.now(UTC)
        added = await bot.app.storage.reminders.add(in_topic(now, "call mum"), 10, now)
        assert isinstance(added, Reminder)
        bot.app.reminders.poke()
        await tg.wait_until(lambda: bool(tg.bot_messages(FORUM)))
        [sent] = tg.bot_messages(FORUM)
        assert (sent.text, sent.thread_id) == ("⏰ Reminder for Ann: call mum", TOPIC)
        await no_longer_pending(bot.app.storage.reminders, added.key)


async def no_longer_pending(store: ReminderStore, key: ConversationKey) -> None:
    """Marked delivered once Telegram answered the send (just after the fake recorded it)."""
    async with asyncio.timeout(10):
        while True:
            if not await store.pending(key):
                return
            await asyncio.sleep(0.02)


async def test_a_refused_reminder_stays_pending_for_another_attempt(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    tg.chat(FORUM, "supergroup", is_forum=True)
    tg.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")
    async with running_bot(tg, llm, tmp_path / "bot.db") as bot:
        now = datetime.now(UTC)
        added = await bot.app.storage.reminders.add(in_topic(now, "call mum"), 10, now)
        assert isinstance(added, Reminder)
        bot.app.reminders.poke()
        await tg.wait_until(lambda: bool(tg.calls_to("sendMessage", FORUM)))
        [pending] = await bot.app.storage.reminders.pending(added.key)
        assert pending.attempts == 1  # claimed once, its lease keeps it until the next attempt


async def test_reminders_buttons_cancel_in_telegram(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    async with running_bot(tg, llm, tmp_path / "bot.db") as bot:
        later = datetime.now(UTC) + timedelta(days=1)
        key = ConversationKey("telegram", str(ALICE))
        await bot.app.storage.reminders.add(
            NewReminder(key, str(ALICE), "", "water plants", later, "UTC"), 10, later
        )
        tg.send_text(ALICE, "/reminders", entities=command("/reminders"))
        await tg.wait_until(lambda: bool(tg.bot_messages(ALICE)))
        listing = tg.bot_messages(ALICE)[0]
        assert listing.text.startswith("Reminders in this chat (UTC):\n#1 ")
        assert listing.reply_markup is not None
        [button] = itertools.chain.from_iterable(listing.reply_markup["inline_keyboard"])
        assert button["text"] == "✖ #1 water plants"

        tg.press_button(ALICE, listing.message_id, button["callback_data"])
        await tg.wait_until(lambda: len(tg.bot_messages(ALICE)) >= 2)
        assert tg.bot_messages(ALICE)[1].text == "Cancelled reminder #1: water plants"
        assert await bot.app.storage.reminders.pending(key) == []

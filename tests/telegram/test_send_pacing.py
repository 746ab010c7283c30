"""Pacing of Bot API calls (bots/telegram_adapter/send_pacing.py), through real PTB and real
deliveries against the fake Bot API: who waits, who goes first, what is never queued."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from telegram.ext import ExtBot

from bots.telegram_adapter.bot_api import Outbox
from bots.telegram_adapter.buttons import ChoiceButtons, signing_key
from bots.telegram_adapter.delivery import DraftSupport, StreamPolicy, TurnDelivery
from bots.telegram_adapter.formatting import plain
from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.send_pacing import Pace, SendPacing
from config.settings import Settings
from core.boundary import AnswerDelta, AnswerDone, CommandReply, ReplyEvent
from fakes.telegram_api import Call, FakeTelegram

GROUP = -100300
POLICY = StreamPolicy(edit_interval_s=0.05, typing_interval_s=60, use_drafts=True)


@asynccontextmanager
async def paced_bot(tg: FakeTelegram, max_messages_per_s: int = 30) -> AsyncIterator[ExtBot[Pace]]:
    pacing = SendPacing(max_messages_per_s)
    async with ExtBot(tg.token, base_url=tg.base_url, rate_limiter=pacing) as bot:
        yield bot


async def stream(events: Sequence[ReplyEvent], gap: float) -> AsyncIterator[ReplyEvent]:
    for event in events:
        await asyncio.sleep(gap)
        yield event


async def deliver(
    bot: ExtBot[Pace], chat_id: int, events: Sequence[ReplyEvent], gap: float = 0.0
) -> None:
    delivery = TurnDelivery(
        Outbox(bot, chat_id, None),
        private=chat_id > 0,
        reply_to=None,
        policy=POLICY,
        drafts=DraftSupport(),
        keyboard=ChoiceButtons(signing_key("123456:TEST-TOKEN")).keyboard,
    )
    await delivery.run(stream(events, gap), typing_now=False)


def answer(text: str) -> list[ReplyEvent]:
    words = text.split(" ")
    deltas: list[ReplyEvent] = [AnswerDelta(w + " ") for w in words[:-1]] + [AnswerDelta(words[-1])]
    return [*deltas, AnswerDone(text)]


def most_in_any_span(calls: Sequence[Call], span_s: float) -> int:
    times = sorted(c.at for c in calls)
    return max((sum(1 for t in times[i:] if t - start < span_s) for i, start in enumerate(times)))


async def test_many_private_chats_see_their_first_draft_while_answers_wait_for_the_bot_budget(
    tg: FakeTelegram,
) -> None:
    chats = [1000 + n for n in range(16)]
    async with paced_bot(tg, max_messages_per_s=4) as bot:
        await asyncio.gather(
            *(
                deliver(bot, chat, answer(f"answer for {chat} in a few words"), 0.01)
                for chat in chats
            )
        )

    sends = tg.calls_to("sendMessage")
    first_drafts = [tg.calls_to("sendMessageDraft", chat)[0].at for chat in chats]
    # Every chat saw text at once: 16 messages under the budget (4 a second, bursts of 4)
    # would have taken 3 s.
    assert max(first_drafts) - min(first_drafts) < 1.0
    # ... while the answers kept to the budget: never more than a burst plus the rate.
    assert len(sends) == len(chats)
    assert sends[-1].at - sends[0].at > 2.0
    assert most_in_any_span(sends, 1.0) <= 4 + 4 + 1
    for chat in chats:
        assert tg.transcript(chat) == f"answer for {chat} in a few words"


async def test_first_text_of_a_reply_goes_ahead_of_messages_waiting_for_the_budget(
    tg: FakeTelegram,
) -> None:
    async with paced_bot(tg, max_messages_per_s=2) as bot:
        waiting = [
            asyncio.create_task(Outbox(bot, 2000 + n, None).send_once(plain(f"notice {n}")))
            for n in range(8)
        ]
        await tg.wait_until(lambda: len(tg.calls_to("sendMessage")) >= 2)  # the burst is spent
        await deliver(bot, 3000, [CommandReply("the reply")])
        await asyncio.gather(*waiting)

    order = [c.params["chat_id"] for c in tg.calls_to("sendMessage")]
    assert order.index(3000) <= 3  # behind at most the burst and the one already released
    assert sorted(order) == sorted([*(2000 + n for n in range(8)), 3000])


async def test_a_group_gets_at_most_20_messages_a_minute(tg: FakeTelegram) -> None:
    async with paced_bot(tg) as bot:
        replies = [
            asyncio.create_task(deliver(bot, GROUP, [CommandReply(f"reply {n}")]))
            for n in range(24)
        ]
        await tg.wait_until(lambda: len(tg.calls_to("sendMessage", GROUP)) >= 20)
        await tg.wait_quiet(1.0)  # the 21st is due a minute after the first
        held = [r for r in replies if not r.done()]
        for reply in held:
            reply.cancel()
        await asyncio.gather(*replies, return_exceptions=True)

    assert len(tg.calls_to("sendMessage", GROUP)) == 20
    assert len(held) == 4


async def test_previews_in_a_busy_group_are_skipped_not_queued(tg: FakeTelegram) -> None:
    async with paced_bot(tg) as bot:
        for n in range(14):  # 6 of the group's 20 a minute left: previews must leave 10
            await deliver(bot, GROUP, [CommandReply(f"reply {n}")])
        text = " ".join(f"word{i}" for i in range(40))
        await deliver(bot, GROUP, answer(text), gap=0.01)

    [message] = [m for m in tg.bot_messages(GROUP) if m.text.startswith("word0")]
    assert message.text == text
    # The first text went out at once, no preview edit went (or queued), the final edit did.
    assert [c.status for c in tg.calls_to("editMessageText", GROUP)] == [200]
    assert len(tg.calls_to("sendMessage", GROUP)) == 15


async def test_a_stream_in_a_quiet_group_is_previewed(tg: FakeTelegram) -> None:
    async with paced_bot(tg) as bot:
        text = " ".join(f"word{i}" for i in range(40))
        await deliver(bot, GROUP, answer(text), gap=0.01)

    assert tg.transcript(GROUP) == text
    assert len(tg.calls_to("editMessageText", GROUP)) >= 2  # previews and the final text


async def test_flood_control_in_one_chat_does_not_hold_up_another(tg: FakeTelegram) -> None:
    flooded, other = 4000, 4001
    tg.fail_next("sendMessage", 429, retry_after=2, when=lambda p: p["chat_id"] == flooded)
    async with paced_bot(tg) as bot:
        await deliver(bot, other, [CommandReply("before")])
        first = asyncio.create_task(deliver(bot, flooded, [CommandReply("late")]))
        await tg.wait_until(lambda: bool(tg.calls_to("sendMessage", flooded)))
        await asyncio.sleep(0.3)  # the 429 reaches the bot; the chat is held for 2 s
        await deliver(bot, other, [CommandReply("on time")])
        assert tg.transcript(other) == "beforeon time"
        assert not first.done()  # still waiting out its chat's flood control
        await first

    assert tg.transcript(flooded) == "late"
    assert [c.status for c in tg.calls_to("sendMessage", flooded)] == [429, 200]
    refused, retried = tg.calls_to("sendMessage", flooded)
    answered = tg.calls_to("sendMessage", other)[-1]
    assert refused.at < answered.at < retried.at


async def test_drafts_to_a_chat_under_flood_control_are_held_back(tg: FakeTelegram) -> None:
    chat = 5000
    tg.fail_next("sendMessageDraft", 429, retry_after=2)
    text = " ".join(f"word{i}" for i in range(30))
    async with paced_bot(tg) as bot:
        refused = asyncio.create_task(deliver(bot, chat, answer("first answer"), gap=0.01))
        await tg.wait_until(lambda: bool(tg.calls_to("sendMessageDraft", chat)))
        # Another turn in the same chat streams for ~0.3 s, well inside the 2 s: none of its
        # drafts may go (they would meet the same 429); its final text waits and goes.
        await deliver(bot, chat, answer(text), gap=0.01)
        await refused

    assert [c.status for c in tg.calls_to("sendMessageDraft", chat)] == [429]
    assert sorted(m.text for m in tg.bot_messages(chat)) == sorted(["first answer", text])


def test_the_bot_wide_budget_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    assert TelegramOptions.from_settings(Settings(_env_file=None)).max_messages_per_s == 30  # type: ignore[call-arg]
    monkeypatch.setenv("TELEGRAM_MAX_MESSAGES_PER_S", "0")
    assert TelegramOptions.from_settings(Settings(_env_file=None)).max_messages_per_s == 0  # type: ignore[call-arg]

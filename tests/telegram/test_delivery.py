"""Streaming and delivering one turn's replies, through the real PTB Bot and the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Sequence

from telegram import Bot

from bots.chunking import utf16_len
from bots.telegram_adapter.bot_api import Outbox
from bots.telegram_adapter.buttons import ChoiceButtons, signing_key
from bots.telegram_adapter.delivery import DraftSupport, StreamPolicy, TurnDelivery
from core.boundary import AnswerDelta, AnswerDone, Choice, CommandReply, Failure, Notice, ReplyEvent
from fakes.telegram_api import FakeTelegram

USER = 42
GROUP = -100200

FAST = StreamPolicy(edit_interval_s=0.2, typing_interval_s=0.1, use_drafts=True)


async def stream(events: Sequence[ReplyEvent], gap: float = 0.0) -> AsyncIterator[ReplyEvent]:
    for event in events:
        if gap:
            await asyncio.sleep(gap)
        yield event


def answer_events(text: str, piece: int) -> list[ReplyEvent]:
    deltas: list[ReplyEvent] = [
        AnswerDelta(text[i : i + piece]) for i in range(0, len(text), piece)
    ]
    return [*deltas, AnswerDone(text)]


async def deliver(
    bot: Bot,
    chat_id: int,
    events: Sequence[ReplyEvent],
    *,
    gap: float = 0.0,
    policy: StreamPolicy = FAST,
    drafts: DraftSupport | None = None,
    reply_to: int | None = None,
    buttons: ChoiceButtons | None = None,
) -> None:
    delivery = TurnDelivery(
        Outbox(bot, chat_id, None),
        private=chat_id > 0,
        reply_to=reply_to,
        policy=policy,
        drafts=drafts or DraftSupport(),
        keyboard=(buttons or ChoiceButtons(signing_key("123456:TEST-TOKEN"))).keyboard,
    )
    await delivery.run(stream(events, gap), typing_now=True)


def words(tg: FakeTelegram, chat_id: int) -> list[str]:
    """What the chat shows, as words: message boundaries may fall where a space was."""
    return " ".join(m.text for m in tg.bot_messages(chat_id)).split()


async def test_group_stream_edits_one_message_throttled_and_ends_complete(
    tg: FakeTelegram, bot: Bot
) -> None:
    answer = " ".join(f"word{i}" for i in range(60))
    await deliver(bot, GROUP, answer_events(answer, 12), gap=0.02, reply_to=7)

    [message] = tg.bot_messages(GROUP)
    assert message.text == answer
    assert all(c.status == 200 for c in tg.calls)
    sends = tg.calls_to("sendMessage")
    assert len(sends) == 1
    assert sends[0].params["reply_parameters"]["message_id"] == 7
    edits = tg.calls_to("editMessageText")
    assert 1 <= len(edits) <= 7  # ~1.1 s of streaming at one edit per 0.2 s, plus the final one
    times = [sends[0].at] + [e.at for e in edits[:-1]]
    assert all(later - earlier >= 0.15 for earlier, later in itertools.pairwise(times))
    texts = [sends[0].params["text"]] + [e.params["text"] for e in edits]
    assert len(set(texts)) == len(texts), "identical text was sent twice"


async def test_private_stream_uses_drafts_then_sends_the_answer(tg: FakeTelegram, bot: Bot) -> None:
    answer = "Hello there, " * 20
    await deliver(bot, USER, answer_events(answer, 10), gap=0.02)

    drafts = tg.calls_to("sendMessageDraft")
    assert drafts, "no draft was streamed"
    assert len({d.params["draft_id"] for d in drafts}) == 1
    assert answer.startswith(drafts[-1].params["text"].rstrip())
    assert not tg.calls_to("editMessageText")
    assert [m.text for m in tg.bot_messages(USER)] == [answer.strip()]


async def test_drafts_unavailable_falls_back_to_editing_for_good(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.fail_next("sendMessageDraft", 404, "Not Found: method not found")
    drafts = DraftSupport()
    answer = "streamed without drafts " * 10
    await deliver(bot, USER, answer_events(answer, 20), gap=0.03, drafts=drafts)

    assert drafts.available is False
    assert len(tg.calls_to("sendMessageDraft")) == 1
    assert tg.calls_to("editMessageText")
    assert [m.text for m in tg.bot_messages(USER)] == [answer.strip()]


async def test_long_answer_is_split_in_order_with_nothing_lost(tg: FakeTelegram, bot: Bot) -> None:
    # Emoji count twice in UTF-16, so a split by len() alone would be refused by Telegram.
    answer = "\n\n".join(" ".join(f"w{p}_{i}😀" for i in range(40)) for p in range(60))
    assert len(answer) > 10_000 and utf16_len(answer) > len(answer)
    await deliver(bot, GROUP, answer_events(answer, 500), gap=0.0)

    messages = tg.bot_messages(GROUP)
    assert len(messages) >= 4
    assert all(utf16_len(m.text) <= 4096 for m in messages)
    assert words(tg, GROUP) == answer.split()
    assert all(c.status == 200 for c in tg.calls)


async def test_refused_formatting_is_resent_as_plain_text(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage")  # 400 "can't parse entities"
    answer = "Use **bold** and `code` here."
    await deliver(bot, GROUP, [AnswerDone(answer)])

    first, second = tg.calls_to("sendMessage")
    assert first.status == 400 and first.params["text"] == "Use bold and code here."
    assert second.params["text"] == answer and "entities" not in second.params
    assert [m.text for m in tg.bot_messages(GROUP)] == [answer]


async def test_retry_after_is_waited_out(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=1)
    await deliver(bot, GROUP, [AnswerDone("after the flood")])

    first, second = tg.calls_to("sendMessage")
    assert first.status == 429
    assert second.at - first.at >= 1.0
    assert [m.text for m in tg.bot_messages(GROUP)] == ["after the flood"]


async def test_retry_after_during_streaming_skips_previews_until_it_passes(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.fail_next("editMessageText", 429, retry_after=1)
    answer = " ".join(f"token{i}" for i in range(40))
    await deliver(bot, GROUP, answer_events(answer, 8), gap=0.03)

    edits = tg.calls_to("editMessageText")
    assert edits[0].status == 429
    assert all(e.at - edits[0].at >= 1.0 for e in edits[1:])
    assert [m.text for m in tg.bot_messages(GROUP)] == [answer]


async def test_server_errors_are_retried(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    await deliver(bot, GROUP, [AnswerDone("eventually")])
    assert [c.status for c in tg.calls_to("sendMessage")] == [502, 502, 200]
    assert [m.text for m in tg.bot_messages(GROUP)] == ["eventually"]


async def test_deleted_preview_gets_the_final_text_as_a_new_message(
    tg: FakeTelegram, bot: Bot
) -> None:
    answer = "first part of the answer and the rest of it"
    tg.fail_next(
        "editMessageText",
        description="Bad Request: message to edit not found",
        when=lambda p: p["text"] == answer,
    )
    await deliver(bot, GROUP, [AnswerDelta("first part"), AnswerDone(answer)])
    assert tg.bot_messages(GROUP)[-1].text == answer


async def test_typing_is_repeated_while_waiting_for_the_model(tg: FakeTelegram, bot: Bot) -> None:
    await deliver(bot, GROUP, [AnswerDone("ready")], gap=0.35)
    typing = tg.calls_to("sendChatAction", GROUP)
    assert len(typing) >= 3
    assert all(c.params["action"] == "typing" for c in typing)


async def test_with_drafts_typing_fills_only_a_slow_wait_for_the_first_words(
    tg: FakeTelegram, bot: Bot
) -> None:
    """A draft shows the answer being written: typing is for a model that is slow to start, and
    stops once the first draft is up."""
    policy = StreamPolicy(typing_interval_s=0.1, typing_before_draft_s=0.2, use_drafts=True)
    quick = answer_events("a quick answer, streamed", 6)
    await deliver(bot, USER, quick, gap=0.02, policy=policy)
    assert tg.calls_to("sendChatAction", USER) == []

    await deliver(
        bot,
        USER,
        [AnswerDelta("slow "), AnswerDelta("start"), AnswerDone("slow start")],
        gap=0.45,
        policy=policy,
    )
    typing = tg.calls_to("sendChatAction", USER)
    first_draft = tg.calls_to("sendMessageDraft", USER)[1]  # the first of this second turn
    assert len(typing) >= 2  # 0.2 s after the start, then every 0.1 s until the first draft
    assert all(call.at < first_draft.at for call in typing)


async def test_notices_failures_and_command_buttons(tg: FakeTelegram, bot: Bot) -> None:
    buttons = ChoiceButtons(signing_key("123456:TEST-TOKEN"))
    long_command = "/persona " + "한국어페르소나" * 4  # > 64 bytes of UTF-8
    await deliver(
        bot,
        GROUP,
        [
            Notice("History was trimmed."),
            CommandReply(
                "Pick one:", (Choice("Coder", "/persona coder"), Choice("KO", long_command))
            ),
            Failure("The model is unavailable."),
        ],
        buttons=buttons,
    )
    notice, reply, failure = tg.bot_messages(GROUP)
    assert (notice.text, failure.text) == ("History was trimmed.", "The model is unavailable.")
    assert reply.text == "Pick one:"
    assert reply.reply_markup is not None
    [[coder, korean]] = reply.reply_markup["inline_keyboard"]
    assert coder["text"] == "Coder"
    assert buttons.command_for(coder["callback_data"]) == "/persona coder"
    assert len(korean["callback_data"].encode()) <= 64
    assert buttons.command_for(korean["callback_data"]) == long_command


async def test_failure_after_partial_stream_keeps_what_was_shown(
    tg: FakeTelegram, bot: Bot
) -> None:
    await deliver(bot, GROUP, [AnswerDelta("partial answer"), Failure("Stream broke.")])
    assert [m.text for m in tg.bot_messages(GROUP)] == ["partial answer", "Stream broke."]


# issue 11 item 10: the model's links may neither ping anyone nor hide where they go.


def links_received(tg: FakeTelegram, chat_id: int) -> list[tuple[str, str]]:
    """(the text a link covers, where it goes) for every link Telegram received."""
    [message] = tg.bot_messages(chat_id)
    units = message.text.encode("utf-16-le")
    return [
        (units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le"), e["url"])
        for e in message.entities
        if e["type"] == "text_link"
    ]


async def test_model_links_to_users_or_other_schemes_arrive_as_plain_text(
    tg: FakeTelegram, bot: Bot
) -> None:
    answer = (
        "Ask [my friend](tg://user?id=123456) or <tg://user?id=7>, "
        "[mail](mailto:a@b.example), [run](javascript:alert(1)), [ftp](ftp://files.example); "
        "**[the docs](https://docs.python.org/3/)**"
    )
    await deliver(bot, GROUP, [AnswerDone(answer)])
    [message] = tg.bot_messages(GROUP)
    assert message.text == ("Ask my friend or tg://user?id=7, mail, run, ftp; the docs")
    assert links_received(tg, GROUP) == [("the docs", "https://docs.python.org/3/")]
    assert {e["type"] for e in message.entities} == {"text_link", "bold"}


async def test_a_link_whose_text_names_another_site_shows_its_real_target(
    tg: FakeTelegram, bot: Bot
) -> None:
    answer = (
        "Log in at [google.com](https://evil.example/login) 😀, "
        "**[https://paypal.com](http://paypa1.example)**, "
        "[www.python.org](https://python.org/downloads) and [here](https://example.org/)."
    )
    await deliver(bot, GROUP, [AnswerDone(answer)])
    [message] = tg.bot_messages(GROUP)
    assert message.text == (
        "Log in at google.com (https://evil.example/login) 😀, "
        "https://paypal.com (http://paypa1.example), www.python.org and here."
    )
    assert links_received(tg, GROUP) == [
        ("google.com", "https://evil.example/login"),
        ("https://paypal.com", "http://paypa1.example"),
        ("www.python.org", "https://python.org/downloads"),  # the same site: left as it is
        ("here", "https://example.org/"),
    ]
    [bold] = [e for e in message.entities if e["type"] == "bold"]
    covered = message.text.encode("utf-16-le")[2 * bold["offset"] :][: 2 * bold["length"]]
    assert covered.decode("utf-16-le") == "https://paypal.com"  # the real target is plain text

"""The Telegram bot end to end: real PTB polling the fake Bot API, the real core on a SQLite
file, the fake OpenAI server streaming real SSE."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bots.chunking import utf16_len
from core.commands.catalog import COMMANDS
from core.texts import EN
from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot

USER = 42
GROUP = -100300
FORUM = -100400
ALICE = 501
ADMIN = 502


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


def mention(text: str = "@testbot") -> list[dict[str, Any]]:
    return [{"type": "mention", "offset": text.index("@testbot"), "length": 8}]


def command(text: str) -> list[dict[str, Any]]:
    return [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]


def texts(tg: FakeTelegram, chat_id: int, thread_id: int | None = None) -> list[str]:
    return [m.text for m in tg.bot_messages(chat_id, thread_id)]


async def replies(
    tg: FakeTelegram, chat_id: int, count: int, thread_id: int | None = None
) -> list[str]:
    """Wait until the chat shows `count` bot messages and the bot has gone quiet.

    A turn in progress makes a call at least every 0.1 s (the typing indicator), so 0.35 s
    without any call means the last answer is complete, even on a loaded machine.
    """
    await tg.wait_until(lambda: len(tg.bot_messages(chat_id, thread_id)) >= count)
    await tg.wait_quiet(0.35)
    return texts(tg, chat_id, thread_id)


def rows(db: Path) -> list[tuple[str, str, str, str | None]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT c.chat_id, c.thread_id, m.role, m.content FROM messages m "
            "JOIN conversations c ON c.id = m.conversation_id ORDER BY m.id"
        ).fetchall()


async def test_private_turn_streams_a_draft_and_sends_the_answer(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    answer = "Hello! " + " ".join(f"word{i}" for i in range(30))
    llm.responder = lambda body: FakeReply(answer, chunk_size=8, chunk_delay_s=0.02)
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "hi there", user=tg.user(USER, "Alice"))
        assert await replies(tg, USER, 1) == [answer]

    assert llm.last_messages[-1] == {"role": "user", "content": "hi there"}
    assert tg.calls_to("sendChatAction", USER) == []  # the first draft came before typing would
    drafts = tg.calls_to("sendMessageDraft", USER)
    assert drafts and all(answer.startswith(d.params["text"]) for d in drafts)
    assert [r[2:] for r in rows(db)] == [("user", "hi there"), ("assistant", answer)]


async def test_commands_are_registered_in_english_and_korean_per_audience(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        pass
    menus = {
        (c.params["scope"]["type"], c.params.get("language_code", "")): c.params["commands"]
        for c in tg.calls_to("setMyCommands")
    }
    assert set(menus) == {
        (scope, language)
        for scope in ("default", "all_group_chats", "all_chat_administrators")
        for language in ("", "ko")
    }
    names = {key: [c["command"] for c in commands] for key, commands in menus.items()}
    assert names[("default", "")] == [spec.name for spec in COMMANDS]
    assert names[("all_chat_administrators", "ko")] == [spec.name for spec in COMMANDS]
    assert names[("all_group_chats", "")] == [s.name for s in COMMANDS if not s.admin_only]
    assert {"persona", "reset", "set"}.isdisjoint(names[("all_group_chats", "ko")])
    help_en = next(c for c in menus[("default", "")] if c["command"] == "help")
    help_ko = next(c for c in menus[("default", "ko")] if c["command"] == "help")
    assert help_en["description"] != help_ko["description"]


async def test_group_answers_only_when_addressed(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    llm.responder = lambda body: "Sure."
    alice = tg.user(ALICE, "Alice")
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "lunch at noon?", user=alice)
        asked = tg.send_text(GROUP, "@testbot is noon ok?", user=alice, entities=mention())
        assert await replies(tg, GROUP, 1) == ["Sure."]
        [sent] = tg.calls_to("sendMessage", GROUP)
        assert sent.params["reply_parameters"]["message_id"] == asked["message_id"]

        # A reply to the bot's message is addressed too, without any mention.
        bot_message = tg.bot_messages(GROUP)[0].message_id
        tg.send_text(GROUP, "and 1pm?", user=alice, reply_to=bot_message)
        assert await replies(tg, GROUP, 2) == ["Sure.", "Sure."]

    assert len(llm.chat_requests) == 2
    assert llm.last_messages[-1] == {"role": "user", "content": "Alice: and 1pm?"}
    # "listen" is off by default: the unaddressed message is neither answered nor stored.
    assert [r[3] for r in rows(db) if r[2] == "user"] == ["@testbot is noon ok?", "and 1pm?"]


async def test_forum_topics_are_separate_conversations(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    tg.chat(FORUM, "supergroup", is_forum=True)
    alice = tg.user(ALICE, "Alice")
    async with running_bot(tg, llm, db):
        tg.send_text(FORUM, "@testbot my name is Ann", user=alice, entities=mention(), thread_id=11)
        await replies(tg, FORUM, 1, thread_id=11)
        ask = "@testbot what is my name?"
        tg.send_text(FORUM, ask, user=alice, entities=mention(), thread_id=12)
        assert (await replies(tg, FORUM, 1, thread_id=12)) == ["I don't know your name."]
        tg.send_text(FORUM, ask, user=alice, entities=mention(), thread_id=11)
        assert (await replies(tg, FORUM, 2, thread_id=11))[-1] == "Your name is Ann."

    assert {c.params.get("message_thread_id") for c in tg.calls_to("sendMessage", FORUM)} == {
        11,
        12,
    }
    assert {(r[0], r[1]) for r in rows(db)} == {(str(FORUM), "11"), (str(FORUM), "12")}


async def test_commands_with_this_bots_name_and_not_another_bots(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "/help@otherbot", entities=command("/help@otherbot"))
        tg.send_text(GROUP, "/help@testbot", entities=command("/help@testbot"))
        [help_text] = await replies(tg, GROUP, 1)
    assert help_text.startswith(EN["help.title"])
    assert "/persona" in help_text
    assert not llm.chat_requests


async def test_settings_changes_are_for_group_admins(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    tg.chat(GROUP, "supergroup", admins={ADMIN})
    switch = "/persona coder"
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, switch, user=tg.user(ALICE), entities=command(switch))
        assert await replies(tg, GROUP, 1) == [EN["not_allowed"]]
        tg.send_text(GROUP, switch, user=tg.user(ADMIN), entities=command(switch))
        assert (await replies(tg, GROUP, 2))[1].startswith("Persona is now coder.")
        tg.send_text(GROUP, "/settings", user=tg.user(ALICE), entities=command("/settings"))
        assert (await replies(tg, GROUP, 3))[2].startswith(EN["settings.title"])
    # One lookup answered for both users: admins are cached per chat.
    assert len(tg.calls_to("getChatAdministrators", GROUP)) == 1


async def test_persona_buttons_switch_persona_for_the_presser(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "/personas", entities=command("/personas"))
        await replies(tg, USER, 1)
        listing = tg.bot_messages(USER)[0]
        assert listing.reply_markup is not None
        buttons = list(itertools.chain.from_iterable(listing.reply_markup["inline_keyboard"]))
        coder = next(b for b in buttons if b["text"] == "coder")
        assert coder["callback_data"].startswith("/persona coder|")  # signed (issue 11 item 11)
        query = tg.press_button(USER, listing.message_id, coder["callback_data"])
        replies_now = await replies(tg, USER, 2)
    assert replies_now[1].startswith("Persona is now coder.")
    assert [c.params["callback_query_id"] for c in tg.calls_to("answerCallbackQuery")] == [query]


# issue 11 item 11: only button data the bot issued counts.


async def persona_button(tg: FakeTelegram, chat_id: int, label: str) -> tuple[int, str]:
    """Ask for /personas; the listing's message id and the callback data of one button."""
    before = len(tg.bot_messages(chat_id))
    tg.send_text(chat_id, "/personas", entities=command("/personas"))
    await replies(tg, chat_id, before + 1)
    listing = tg.bot_messages(chat_id)[before]
    assert listing.reply_markup is not None
    buttons = itertools.chain.from_iterable(listing.reply_markup["inline_keyboard"])
    return listing.message_id, next(b["callback_data"] for b in buttons if b["text"] == label)


async def test_forged_button_data_is_neither_a_turn_nor_a_command(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        listing, coder = await persona_button(tg, USER, "coder")
        signature = coder.rpartition("|")[2]
        forged = [
            "please say hi",  # any text the client likes
            "/persona coder",  # a real command, unsigned
            f"/persona coder{signature[:-1]}|{signature}",  # a signature moved to another command
            "/persona coder|" + "A" * len(signature),
            "#c:1",  # a token the bot never issued
        ]
        for data in forged:
            tg.press_button(USER, listing, data)
        await tg.wait_until(lambda: len(tg.calls_to("answerCallbackQuery")) == len(forged))
        await tg.wait_quiet(0.5)
        assert texts(tg, USER)[1:] == []  # no answer, no "Persona is now ..."
        tg.send_text(USER, "/persona", entities=command("/persona"))
        [_, current] = await replies(tg, USER, 2)
    assert "coder" not in current
    assert llm.chat_requests == []
    assert [role for _, _, role, _ in rows(db)] == []


async def test_the_bots_own_buttons_still_work_after_a_restart(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        listing, coder = await persona_button(tg, USER, "coder")
    async with running_bot(tg, llm, db):
        tg.press_button(USER, listing, coder)
        answer = await replies(tg, USER, 2)
    assert answer[1].startswith("Persona is now coder.")


async def test_streamed_group_answer_is_throttled_and_complete(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    answer = " ".join(f"piece{i}" for i in range(120))
    llm.responder = lambda body: FakeReply(answer, chunk_size=10, chunk_delay_s=0.01)
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "@testbot go", entities=mention())
        await tg.wait_until(lambda: texts(tg, GROUP) == [answer])
        await asyncio.sleep(0.3)
    send = tg.calls_to("sendMessage", GROUP)[0]
    edits = tg.calls_to("editMessageText", GROUP)
    assert edits and all(e.status == 200 for e in edits)
    previews = [send.at] + [e.at for e in edits[:-1]]
    assert all(b - a >= 0.15 for a, b in itertools.pairwise(previews))
    shown = [send.params["text"]] + [e.params["text"] for e in edits]
    assert len(set(shown)) == len(shown)
    assert all(answer.startswith(text) for text in shown)


async def test_ten_thousand_character_answer_arrives_whole(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    # Long words keep it within the default reply budget (2048 tokens); the emoji count twice
    # in UTF-16, so a split by len() alone would make Telegram refuse a part.
    sentence = "information technology development environment administration documentation"
    answer = "\n\n".join(" ".join([sentence] * 4) + " 🙂" for _ in range(33))
    assert len(answer) >= 10_000 and utf16_len(answer) > len(answer)
    llm.responder = lambda body: FakeReply(answer, chunk_size=400)
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "a long one please")
        await tg.wait_until(lambda: " ".join(texts(tg, USER)).split() == answer.split())
    assert len(tg.bot_messages(USER)) >= 3
    assert all(utf16_len(m.text) <= 4096 for m in tg.bot_messages(USER))
    assert all(c.status == 200 for c in tg.calls if c.method == "sendMessage")


async def test_formatting_refused_falls_back_to_plain_text(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    answer = "Use **bold** and `code`."
    llm.responder = lambda body: answer
    # Telegram keeps refusing these entities, whatever the call.
    for method in ("sendMessage", "editMessageText"):
        tg.fail_next(method, times=100, when=lambda params: "entities" in params)
    async with running_bot(tg, llm, db, telegram_use_drafts=False):
        tg.send_text(USER, "format something")
        assert await replies(tg, USER, 1) == [answer]
    formatted = [c for c in tg.calls if "entities" in c.params]
    assert formatted and all(c.status == 400 for c in formatted)
    assert tg.bot_messages(USER)[0].entities == []


async def test_retry_after_is_honoured(tg: FakeTelegram, llm: FakeOpenAI, db: Path) -> None:
    llm.responder = lambda body: "patience"
    tg.fail_next("sendMessage", 429, retry_after=1)
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "hello")
        assert await replies(tg, USER, 1) == ["patience"]
    flooded, sent = tg.calls_to("sendMessage", USER)
    assert flooded.status == 429 and sent.status == 200
    assert sent.at - flooded.at >= 1.0


async def test_duplicate_update_is_answered_once_even_after_a_restart(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    llm.responder = lambda body: "once"
    message = tg.incoming(USER, "hello")
    async with running_bot(tg, llm, db):
        tg.push_update({"message": message})
        tg.push_update({"message": message})
        assert await replies(tg, USER, 1) == ["once"]
    async with running_bot(tg, llm, db):  # a new process; Telegram delivers it yet again
        tg.push_update({"message": message})
        tg.send_text(USER, "/help", entities=command("/help"))
        await replies(tg, USER, 2)
    assert texts(tg, USER)[0] == "once" and len(texts(tg, USER)) == 2
    assert len(llm.chat_requests) == 1


async def test_stop_during_a_streamed_reply_leaves_storage_consistent(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    long_story = " ".join(f"once{i}" for i in range(400))
    llm.responder = lambda body: FakeReply(long_story, chunk_size=5, chunk_delay_s=0.02)
    async with running_bot(tg, llm, db, shutdown_grace_s=0.5) as bot:
        tg.send_text(GROUP, "@testbot tell me a long story", entities=mention())
        await tg.wait_until(lambda: bool(tg.calls_to("editMessageText", GROUP)))
        bot.stop.set()  # what SIGTERM does
        await asyncio.wait_for(bot.task, 5)
    assert [r[2:] for r in rows(db)] == [("user", "@testbot tell me a long story")]

    llm.responder = lambda body: "fine"
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "@testbot still there?", entities=mention())
        await tg.wait_until(lambda: texts(tg, GROUP)[-1:] == ["fine"])
    assert [m["role"] for m in llm.last_messages] == ["system", "user", "user"]
    assert [r[2] for r in rows(db)] == ["user", "user", "assistant"]


async def test_listening_group_remembers_unaddressed_messages_with_names(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    tg.chat(GROUP, "supergroup", admins={ADMIN})
    llm.responder = lambda body: "Summary."
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "/listen on", user=tg.user(ADMIN, "Boss"), entities=command("/listen"))
        assert await replies(tg, GROUP, 1) == [EN["listen.on"]]
        tg.send_text(GROUP, "let's ship friday", user=tg.user(ALICE, "Alice"))
        text = "@testbot sum up"
        tg.send_text(GROUP, text, user=tg.user(ADMIN, "Boss"), entities=mention(text))
        assert (await replies(tg, GROUP, 2))[1] == "Summary."
    assert llm.last_messages[1:] == [
        {"role": "user", "content": "Alice: let's ship friday"},
        {"role": "user", "content": "Boss: @testbot sum up"},
    ]
    assert len(llm.chat_requests) == 1


async def test_allow_lists_refuse_privately_and_stay_silent_in_groups(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db, allowed_users="7"):
        text = "@testbot hello"
        tg.send_text(GROUP, text, user=tg.user(USER), entities=mention(text))
        tg.send_text(USER, "hello")
        assert await replies(tg, USER, 1) == [EN["not_allowed_user"]]
    assert not tg.bot_messages(GROUP)
    assert not llm.chat_requests


async def test_private_sticker_gets_an_explanation(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    sticker = {
        "file_id": "s",
        "file_unique_id": "u",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    async with running_bot(tg, llm, db):
        tg.send_text(USER, None, extra={"sticker": sticker})
        assert await replies(tg, USER, 1) == [EN["empty_message"]]
    assert not llm.chat_requests


async def test_trigger_word_gets_an_answer_without_a_mention(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    tg.chat(GROUP, "supergroup", admins={ADMIN})
    llm.responder = lambda body: "At your service."
    async with running_bot(tg, llm, db):
        tg.send_text(GROUP, "/trigger jarvis", user=tg.user(ADMIN), entities=command("/trigger"))
        await replies(tg, GROUP, 1)
        asked = tg.send_text(GROUP, "Jarvis, status?", user=tg.user(ALICE))
        assert (await replies(tg, GROUP, 2))[1] == "At your service."
    answer = tg.calls_to("sendMessage", GROUP)[-1]
    assert answer.params["reply_parameters"]["message_id"] == asked["message_id"]
    assert tg.calls_to("sendChatAction", GROUP)

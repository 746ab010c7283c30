"""Files and voice notes on Telegram end to end: real PTB polling the fake Bot API (getFile and
downloads from /file/bot<token>/...), the real core, the fake OpenAI server's transcriptions."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from bots.telegram_adapter.attachments import Received
from core.texts import EN
from fakes.media import ogg_comment, png
from fakes.openai_server import FakeOpenAI, count_prompt_tokens, count_request_tokens
from fakes.telegram_api import FakeTelegram
from tests.media_fixtures import pdf, photo, tiny_png, voice_note
from tests.telegram.harness import running_bot
from tests.telegram.test_bot import GROUP, USER, mention, replies, rows


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


async def test_a_voice_note_is_transcribed_shown_and_answered(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    audio = voice_note("remind me to call mom")
    async with running_bot(tg, llm, db):
        tg.send_text(USER, None, media=tg.media(voice=audio, duration=3))
        said = await replies(tg, USER, 2)

    assert said == [
        "🎤 “remind me to call mom”",
        "You said: remind me to call mom. I can see 1 earlier messages.",
    ]
    [heard] = llm.transcriptions
    assert (heard.file_name, heard.audio, heard.language) == ("voice.ogg", audio, "en")
    assert rows(db)[0][2:] == ("user", "remind me to call mom")
    [path] = tg.downloads
    # Neither the bot token (in every file URL) nor the file's path shows in the log.
    assert tg.token not in caplog.text and path not in caplog.text


async def test_an_album_is_one_turn(tg: FakeTelegram, llm: FakeOpenAI, db: Path) -> None:
    async with running_bot(tg, llm, db):
        tg.send_album(
            USER,
            [
                tg.media(document=("a.txt", "text/plain", b"alpha")),
                tg.media(document=("report.pdf", "application/pdf", pdf(["beta", "gamma"]))),
            ],
            caption="compare these",
        )
        [answer] = await replies(tg, USER, 1)

    [request] = llm.chat_requests
    expected = "compare these\n\n[file: a.txt]\nalpha\n\n[file: report.pdf]\nbeta\n\ngamma"
    assert request.body["messages"][-1] == {"role": "user", "content": expected}
    assert answer == f"You said: {expected}. I can see 1 earlier messages."
    assert [r[2] for r in rows(db)] == ["user", "assistant"]


async def test_in_a_group_a_file_is_read_when_its_caption_mentions_the_bot(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    alice = tg.user(501, "Alice")
    async with running_bot(tg, llm, db):
        document = ("notes.md", "text/markdown", b"# Notes\nship on Friday")
        tg.send_text(GROUP, "what day?", user=alice, media=tg.media(document=document))
        caption = "@testbot what day?"
        tg.send_text(
            GROUP, caption, user=alice, media=tg.media(document=document), entities=mention(caption)
        )
        await replies(tg, GROUP, 1)

    assert len(tg.downloads) == 1  # the unaddressed one was not even fetched
    [request] = llm.chat_requests
    assert request.body["messages"][-1]["content"] == (
        "Alice: @testbot what day?\n\n[file: notes.md]\n# Notes\nship on Friday"
    )


async def test_a_photo_goes_to_the_model_as_a_data_url_and_is_counted_exactly(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running_bot(tg, llm, db, default_model="gpt-4o"):
        tg.send_text(USER, "what colour is this?", media=tg.media(photo=photo(800, 600, "JPEG")))
        [answer] = await replies(tg, USER, 1)
        tg.send_text(USER, "sure?")
        tg.send_text(USER, "really sure?")
        await replies(tg, USER, 3)

    first, _, third = llm.chat_requests
    user = first.body["messages"][-1]
    [part] = [p for p in user["content"] if p["type"] == "image_url"]
    url = part["image_url"]["url"]
    assert url.startswith("data:image/jpeg;base64,") and tg.token not in str(first.body)
    assert answer == "You said: what colour is this?. I can see 1 earlier messages."
    # Two turns later the image is still in the prompt, sent as it was.
    assert third.body["messages"][1] == user
    with sqlite3.connect(db) as connection:
        stored, prompt = connection.execute(
            "SELECT m.tokens, u.prompt_tokens FROM messages m, usage u ORDER BY m.id, u.id"
        ).fetchone()
    assert stored == count_prompt_tokens([user], "gpt-4o") - 3  # the fake's own count
    assert prompt == count_request_tokens(first.body)
    assert tg.token not in caplog.text


async def test_images_turned_off_is_one_line_without_a_download(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db, images_enabled=False):
        tg.send_text(USER, "what colour is this?", media=tg.media(photo=tiny_png()))
        assert await replies(tg, USER, 1) == [EN["vision.off"]]
    assert tg.calls_to("getFile") == [] and llm.requests == [] and rows(db) == []


async def test_a_file_telegram_cannot_serve_is_one_line_and_nothing_is_stored(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    tg.fail_next(
        "getFile", 400, "Bad Request: wrong file_id or the file is temporarily unavailable"
    )
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "read", media=tg.media(document=("a.csv", "text/csv", b"a,b\n1,2")))
        assert await replies(tg, USER, 1) == [EN["media.fetch_failed"].format(name="a.csv")]
    assert llm.requests == [] and rows(db) == []


async def test_image_is_a_photo_and_voice_on_adds_a_voice_message(
    tg: FakeTelegram, llm: FakeOpenAI, db: Path
) -> None:
    async with running_bot(tg, llm, db):
        tg.send_text(USER, "/image a red bicycle")
        await tg.wait_until(lambda: len(tg.calls_to("sendPhoto")) == 1)
        tg.send_text(USER, "/voice on")
        await tg.wait_until(lambda: bool(tg.calls_to("sendMessage")))
        tg.send_text(USER, "What is my name?")
        await tg.wait_until(lambda: len(tg.calls_to("sendVoice")) == 1)

    [photo] = tg.calls_to("sendPhoto")
    assert photo.files["photo"].content == png()
    assert photo.params["caption"] == "🎨 a red bicycle"
    [voice] = tg.calls_to("sendVoice")
    audio = voice.files["voice"].content
    assert audio.startswith(b"OggS") and ogg_comment(audio) == "I don't know your name."


def test_a_download_is_handed_to_the_core_as_the_object_ptb_received() -> None:
    """PTB writes the downloaded body into `download_to_memory`'s `out` in one piece; the core
    gets that very object, not a copy (a 20 MB voice note is held once)."""
    body = voice_note("hello", padding=1024 * 1024)
    received = Received()
    assert received.write(body) == len(body)
    assert received.data() is body
    pieces = Received()  # should a later PTB write in pieces, they are joined once
    pieces.write(b"Ogg")
    pieces.write(memoryview(b"S tail"))
    assert pieces.data() == b"OggS tail"

"""Files and voice notes through the whole core: the real bootstrap, the real openai client
against the fake server (chat and transcriptions), a real database. Each refusal is one line and
stores nothing; what a transcription cost is priced and counted."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from core.bootstrap import App
from core.boundary import Author, Failure, Notice
from core.storage.schema import MessageRow, UsageRow
from core.texts import EN
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ADMIN, collect, group, private, say
from tests.core.test_conversation import rows
from tests.media_fixtures import Served, attachment, pdf, voice_note

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
KOREAN = Author("11", "Alice", "ko-KR", can_manage=False)


def user_contents(llm: FakeOpenAI) -> list[str]:
    return [m["content"] for m in llm.last_messages if m["role"] == "user"]


async def test_a_pdf_is_read_into_the_message_and_summarised(app: App, llm: FakeOpenAI) -> None:
    report = pdf(["Quarterly sales rose by 12 percent.", "Costs fell in (every) region."])
    message = private(
        "Summarise this", attachments=(attachment("file", report, "report.pdf", "application/pdf"),)
    )
    answer = await say(app.service, message)

    expected = (
        "Summarise this\n\n[file: report.pdf]\n"
        "Quarterly sales rose by 12 percent.\n\nCosts fell in (every) region."
    )
    assert user_contents(llm) == [expected]
    assert answer == f"You said: {expected}. I can see 1 earlier messages."
    stored = await rows(app, MessageRow)
    assert (stored[0].role, stored[0].content) == ("user", expected)


async def test_a_text_file_without_caption(app: App, llm: FakeOpenAI) -> None:
    notes = b"# Plan\n\n- buy milk\n- call Bob\n"
    message = private("", attachments=(attachment("file", notes, "notes.md", ""),))
    await say(app.service, message)
    assert user_contents(llm) == ["[file: notes.md]\n# Plan\n\n- buy milk\n- call Bob"]


@pytest.mark.parametrize(
    ("kind", "data", "name", "media_type", "key"),
    [
        ("file", b"PK\x03\x04zip", "archive.zip", "application/zip", "media.file_unsupported"),
        ("video", b"\x00\x00\x00\x18ftypmp42", "clip.mp4", "video/mp4", "media.video_unsupported"),
    ],
)
async def test_what_is_not_read_gets_one_line_and_nothing_is_stored(
    app: App, llm: FakeOpenAI, kind: str, data: bytes, name: str, media_type: str, key: str
) -> None:
    served = Served(data)
    message = private(
        "what is this?",
        attachments=(attachment(kind, data, name, media_type, served=served),),  # type: ignore[arg-type]
    )
    events = await collect(app.service, message)
    assert events == [Failure(EN[key].format(name=name))]
    assert served.fetches == 0
    assert llm.requests == []
    assert await rows(app, MessageRow) == []


async def test_a_pdf_without_a_text_layer_says_so(app: App, llm: FakeOpenAI) -> None:
    scan = attachment("file", pdf([None, None]), "scan.pdf", "application/pdf")
    assert await say(app.service, private("read it", attachments=(scan,))) == EN[
        "media.no_text_layer"
    ].format(name="scan.pdf")
    assert llm.chat_requests == []
    assert await rows(app, MessageRow) == []


async def test_size_limits_before_and_during_the_fetch(make_app: MakeApp, llm: FakeOpenAI) -> None:
    big = b"x" * 3000
    too_large = EN["media.too_large"].format(name="big.txt", limit="0.002")
    async with make_app(max_file_mb=0.002) as app:  # about 2 KB
        reported = Served(big)
        message = private(
            "hi", attachments=(attachment("file", big, "big.txt", "", served=reported),)
        )
        assert await say(app.service, message) == too_large
        assert reported.fetches == 0  # the platform said how big: not fetched at all
        unknown = Served(big)
        message = private(
            "hi", attachments=(attachment("file", big, "big.txt", "", served=unknown, size=None),)
        )
        assert await say(app.service, message) == too_large
        assert unknown.fetches == 1
        assert llm.requests == []
        assert await rows(app, MessageRow) == []


async def test_a_fetch_failure_is_one_line_and_stores_nothing(app: App, llm: FakeOpenAI) -> None:
    lost = Served(b"text", fails=True)
    message = private("see file", attachments=(attachment("file", b"", "a.txt", "", served=lost),))
    assert await say(app.service, message) == EN["media.fetch_failed"].format(name="a.txt")
    assert llm.requests == []
    assert await rows(app, MessageRow) == []


async def test_each_feature_can_be_turned_off(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(files_enabled=False, voice_enabled=False) as app:
        doc = attachment("file", b"hello", "a.txt", "text/plain")
        assert await say(app.service, private("x", attachments=(doc,))) == EN["media.files_off"]
        voice = attachment("voice", voice_note("hi"), "voice.ogg", "audio/ogg", duration_s=2)
        assert await say(app.service, private("", attachments=(voice,))) == EN["media.voice_off"]
        assert llm.requests == []
        assert await rows(app, MessageRow) == []


async def test_a_chat_turns_files_and_voice_notes_off_and_on(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    served = Served(b"hello")
    doc = attachment("file", b"hello", "a.txt", "text/plain", served=served)
    voice = attachment("voice", voice_note("hi"), "voice.ogg", "audio/ogg", duration_s=2)
    async with make_app() as app:
        assert "files" in await say(app.service, group("/set files off", author=ADMIN))
        assert "voice_notes" in await say(app.service, group("/set voice_notes off", author=ADMIN))
        settings = await say(app.service, group("/settings"))
        assert "files: off" in settings and "voice_notes: off" in settings
        assert await say(app.service, group("x", attachments=(doc,))) == EN["media.files_off_chat"]
        said = await say(app.service, group("", attachments=(voice,)))
        assert said == EN["media.voice_off_chat"]
        assert (served.fetches, llm.requests, llm.transcriptions) == (0, [], [])
        assert await rows(app, MessageRow) == []
        # Back on, both are read again.
        await say(app.service, group("/set files on", author=ADMIN))
        await say(app.service, group("/set voice_notes default", author=ADMIN))
        assert (await say(app.service, group("x", attachments=(doc,)))).startswith("You said:")
        await say(app.service, group("", attachments=(voice,)))
        assert len(llm.transcriptions) == 1
    async with make_app(files_enabled=False) as app:  # the owner's switch wins over the chat's
        await say(app.service, group("/set files on", author=ADMIN))
        assert await say(app.service, group("x", attachments=(doc,))) == EN["media.files_off"]


async def test_a_voice_note_is_transcribed_shown_stored_answered_and_priced(
    app: App, llm: FakeOpenAI
) -> None:
    audio = voice_note("what is the capital of France")
    voice = attachment("voice", audio, "voice.ogg", "audio/ogg", duration_s=30)
    events = await collect(app.service, private("", author=KOREAN, attachments=(voice,)))

    [heard] = llm.transcriptions
    assert (heard.model, heard.file_name, heard.audio, heard.language) == (
        "gpt-4o-mini-transcribe",
        "voice.ogg",
        audio,
        "ko",
    )
    assert events[0] == Notice("🎤 “what is the capital of France”")
    assert user_contents(llm) == ["what is the capital of France"]
    assert events[-1].text.startswith("You said: what is the capital of France.")  # type: ignore[union-attr]
    [question, _answer] = await rows(app, MessageRow)
    assert question.content == "what is the capital of France"
    transcription = [row for row in await rows(app, UsageRow) if row.kind == "transcription"]
    assert [(r.model, r.quantity, round(r.cost_usd, 6)) for r in transcription] == [
        ("gpt-4o-mini-transcribe", 30.0, 0.0015)  # half a minute at $0.003 a minute
    ]
    usage = await say(app.service, private("/usage"))
    assert "gpt-4o-mini-transcribe: 1 recordings transcribed, 0.5 min, $0.0015" in usage
    assert "gpt-4o-mini: 1 requests" in usage


async def test_voice_limits_are_said_before_anything_is_sent(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(max_voice_minutes=1) as app:
        long = attachment("voice", voice_note("hi"), "voice.ogg", "audio/ogg", duration_s=61)
        assert await say(app.service, private("", attachments=(long,))) == EN[
            "media.too_long"
        ].format(minutes="1")
        huge = attachment("audio", b"", "talk.mp3", "audio/mpeg", size=26 * 1024 * 1024)
        assert await say(app.service, private("", attachments=(huge,))) == EN[
            "media.too_large"
        ].format(name="talk.mp3", limit="25")
        assert llm.requests == []
        assert await rows(app, MessageRow) == []


async def test_a_failed_transcription_is_one_line_and_stores_nothing(
    app: App, llm: FakeOpenAI
) -> None:
    llm.fail_next_transcription(500)
    voice = attachment("voice", voice_note("hello"), "voice.ogg", "audio/ogg", duration_s=2)
    assert await say(app.service, private("", attachments=(voice,))) == EN["voice.failed"]
    assert llm.chat_requests == []
    assert await rows(app, MessageRow) == []


async def test_transcriptions_count_in_budgets(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(budget_user_daily_usd=0.002) as app:
        voice = attachment("voice", voice_note("hello"), "voice.ogg", "audio/ogg", duration_s=60)
        await say(app.service, private("", attachments=(voice,)))  # $0.003 of listening
        refused = await say(app.service, private("and now?"))
        assert refused.startswith("You've used")
        assert len(llm.chat_requests) == 1


async def test_a_long_file_is_cut_to_the_budget_with_the_usual_notice(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(default_context_tokens=400) as app:
        text = " ".join(f"word{i}" for i in range(20_000)).encode()
        message = private("read", attachments=(attachment("file", text, "long.txt", ""),))
        events = await collect(app.service, message)
        [question] = [row for row in await rows(app, MessageRow) if row.role == "user"]
        assert events[0] == Notice(EN["notice.input_cut"].format(tokens=question.tokens))
        assert question.content.startswith("read\n\n[file: long.txt]\nword0 word1")
        assert question.content.endswith(" […]")
        assert question.tokens <= 400
        assert user_contents(llm) == [question.content]

"""Images and speech out through the whole core: the real bootstrap, the real openai client
against the fake server's images and speech endpoints, a real database. Each refusal is one
line and stores nothing; what was made is priced, counted in /usage and in budgets."""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from core.bootstrap import App
from core.boundary import AnswerDelta, AnswerDone, Failure, ImageReply, Notice, VoiceReply
from core.storage.schema import MessageRow, UsageRow
from core.texts import CATALOG, Texts
from fakes.media import ogg_comment, png
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ADMIN, collect, group, private, say
from tests.core.test_conversation import rows

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
EN = CATALOG["en"]


async def test_image_sends_a_picture_and_keeps_prompt_and_description(
    app: App, llm: FakeOpenAI
) -> None:
    events = await collect(app.service, private("/image a red bicycle"))

    [picture] = events
    assert isinstance(picture, ImageReply)
    assert (picture.data, picture.media_type) == (png(), "image/png")
    assert picture.caption == "🎨 a red bicycle"
    [body] = llm.image_requests
    assert body == {
        "model": "gpt-image-1",
        "prompt": "a red bicycle",
        "n": 1,
        "size": "1024x1024",
        "quality": "low",
    }
    stored = await rows(app, MessageRow)
    assert [(m.role, m.content) for m in stored] == [
        ("user", "Draw: a red bicycle"),
        ("assistant", "[I drew an image for this (gpt-image-1, 1024x1024).]"),
    ]
    [usage] = await rows(app, UsageRow)
    assert (usage.kind, usage.model, usage.quantity, usage.cost_usd) == (
        "image",
        "gpt-image-1",
        1,
        0.011,
    )
    # The conversation can refer to it: the next turn's prompt carries both.
    await say(app.service, private("what colour was it?"))
    contents = [m["content"] for m in llm.last_messages]
    assert "Draw: a red bicycle" in contents


async def test_a_redelivered_image_command_is_drawn_and_charged_once(
    app: App, llm: FakeOpenAI
) -> None:
    command = private("/image a red bicycle", message_id="771")
    [picture] = await collect(app.service, command)
    assert isinstance(picture, ImageReply)
    assert await collect(app.service, command) == []  # the same update, delivered again
    assert len(llm.image_requests) == 1
    assert [u.kind for u in await rows(app, UsageRow)] == ["image"]
    # A later /image with the same words is a new request, drawn again.
    [again] = await collect(app.service, private("/image a red bicycle", message_id="772"))
    assert isinstance(again, ImageReply) and len(llm.image_requests) == 2


async def test_dall_e_3_chosen_per_chat_asks_for_base64_and_keeps_its_description(
    app: App, llm: FakeOpenAI
) -> None:
    assert await say(app.service, private("/set image_model dall-e-3")) == EN["set.done"].format(
        name="image_model", value="dall-e-3"
    )
    assert (await say(app.service, private("/set image_size 999x999"))).startswith(
        EN["set.choice"].format(name="image_size", allowed="1024x1024, 1792x1024, 1024x1792")
    )
    await say(app.service, private("/set image_quality hd"))
    await say(app.service, private("/set image_size 1792x1024"))
    [picture] = await collect(app.service, private("/image a lighthouse"))

    assert isinstance(picture, ImageReply)
    [body] = llm.image_requests
    assert (body["model"], body["size"], body["quality"], body["response_format"]) == (
        "dall-e-3",
        "1792x1024",
        "hd",
        "b64_json",
    )
    stored = await rows(app, MessageRow)
    assert stored[-1].content == (
        "[I drew an image for this (dall-e-3, 1792x1024): A detailed picture of a lighthouse.]"
    )
    assert [u.cost_usd for u in await rows(app, UsageRow)] == [0.12]


async def test_a_safety_refusal_is_one_line_and_stores_nothing(app: App, llm: FakeOpenAI) -> None:
    llm.refuse_next_image()
    assert await say(app.service, private("/image something forbidden")) == EN["image.refused"]
    llm.fail_next_image(500)
    assert await say(app.service, private("/image a cat")) == EN["image.failed"]
    assert await rows(app, MessageRow) == []
    assert await rows(app, UsageRow) == []


async def test_a_budget_that_would_be_crossed_refuses_before_the_request(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(budget_user_daily_usd=0.01) as app:
        [refusal] = await collect(app.service, private("/image a red bicycle"))
        assert isinstance(refusal, Failure)
        assert refusal.text.startswith("You: this would cross the daily budget")
        assert "this costs $0.011" in refusal.text
        assert llm.image_requests == []
        # dall-e-2's 256x256 at $0.016 is dearer still; a cheaper budget setting fits.
    async with make_app(budget_user_daily_usd=0.05) as app:
        [picture] = await collect(app.service, private("/image a red bicycle"))
        assert isinstance(picture, ImageReply)


async def test_speak_says_the_text_and_voice_on_speaks_each_answer(
    app: App, llm: FakeOpenAI
) -> None:
    [voice] = await collect(app.service, private("/speak hello there"))
    assert isinstance(voice, VoiceReply) and voice.media_type == "audio/ogg"
    assert voice.data.startswith(b"OggS") and ogg_comment(voice.data) == "hello there"
    assert llm.speech_requests[-1] == {
        "model": "gpt-4o-mini-tts",
        "voice": "alloy",
        "input": "hello there",
        "response_format": "opus",
    }
    assert await say(app.service, private("/set voice nobody")) == EN["set.choice"].format(
        name="voice",
        allowed="alloy, ash, ballad, coral, echo, fable, nova, onyx, sage, shimmer, verse",
    )
    await say(app.service, private("/set voice coral"))
    assert await say(app.service, private("/voice on")) == EN["voice.on"].format(voice="coral")
    events = [
        e
        for e in await collect(app.service, private("What is my name?"))
        if not isinstance(e, AnswerDelta)
    ]

    assert [type(e) for e in events] == [AnswerDone, VoiceReply]
    assert isinstance(events[0], AnswerDone) and isinstance(events[1], VoiceReply)
    assert ogg_comment(events[1].data) == events[0].text[:200]
    assert llm.speech_requests[-1]["voice"] == "coral"
    usage = [(u.kind, u.quantity) for u in await rows(app, UsageRow)]
    assert usage[0] == ("speech", len("hello there"))
    assert ("speech", len(events[0].text)) in usage

    lines = (await say(app.service, private("/usage"))).splitlines()
    assert any(line.startswith("gpt-4o-mini-tts: 2 voice messages") for line in lines)
    assert any(line.startswith("gpt-4o-mini: 1 requests") for line in lines)


async def test_a_long_answer_is_spoken_up_to_a_cut_and_said_so(app: App, llm: FakeOpenAI) -> None:
    long_text = "word " * 1000  # 5,000 characters, over the endpoint's 4,096
    events = await collect(app.service, private(f"/speak {long_text}"))
    assert isinstance(events[0], Notice) and isinstance(events[1], VoiceReply)
    spoken = llm.speech_requests[-1]["input"]
    assert len(spoken) <= 4096 and long_text.startswith(spoken)
    assert events[0].text == EN["speech.cut"].format(chars=len(spoken), limit=4096)


async def test_each_feature_turned_off_answers_in_one_line(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(image_generation_enabled=False, speech_enabled=False) as app:
        assert await say(app.service, private("/image a cat")) == EN["image.off"]
        assert await say(app.service, private("/speak hi")) == EN["speech.off"]
        assert await say(app.service, private("/voice on")) == EN["speech.off"]
    async with make_app() as app:
        # A group's admin turns them off there; members are then told so.
        assert "image_generation" in await say(
            app.service, group("/set image_generation off", author=ADMIN)
        )
        await say(app.service, group("/set speech off", author=ADMIN))
        assert await say(app.service, group("/image a cat")) == EN["image.off_chat"]
        assert await say(app.service, group("/speak hi")) == EN["speech.off_chat"]
        assert await say(app.service, private("/image")) == EN["image.usage"]
    assert llm.image_requests == [] and llm.speech_requests == []


async def test_a_speech_failure_after_an_answer_keeps_the_answer(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("/voice on"))
    llm.fail_next_speech(500)  # the tests' client does not retry
    events = [
        e for e in await collect(app.service, private("Hello")) if not isinstance(e, AnswerDelta)
    ]
    assert isinstance(events[0], AnswerDone)
    assert events[1:] == [Notice(EN["speech.failed"])]
    assert [m.role for m in await rows(app, MessageRow)] == ["user", "assistant"]


def test_every_media_out_text_is_in_both_languages() -> None:
    from core import texts_media_out

    assert set(texts_media_out.EN) == set(texts_media_out.KO)
    assert Texts("ko").get("image.off") != Texts("en").get("image.off")


def test_the_fake_png_decodes() -> None:
    assert base64.b64decode(base64.b64encode(png())).startswith(b"\x89PNG")

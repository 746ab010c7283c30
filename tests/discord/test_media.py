"""Files and voice messages on Discord end to end: attachments served from the fake's CDN, read
by discord.py's own Attachment.read, through the real core and the fake transcriptions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bots.discord_adapter import DiscordBot
from fakes.discord_gateway import (
    CHANNEL_ID,
    MOD_ROLE_ID,
    interaction_payload,
    message_payload,
    option,
)
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.media import ogg_comment, png
from fakes.openai_server import FakeOpenAI, count_prompt_tokens, count_request_tokens
from tests.discord.conftest import interact, receive
from tests.media_fixtures import photo, voice_note

ALICE = 42
DM_CHANNEL = 4242


async def test_a_voice_message_is_transcribed_shown_and_answered(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    audio = voice_note("is it going to rain")
    voice = discord_api.attachment(audio, "voice-message.ogg", "audio/ogg", voice_seconds=2.5)
    payload = message_payload(
        "", author_id=ALICE, channel_id=DM_CHANNEL, guild=False, attachments=[voice]
    )
    await receive(bot, "MESSAGE_CREATE", payload)

    assert discord_api.channel_texts(DM_CHANNEL) == [
        "🎤 “is it going to rain”",
        "You said: is it going to rain. I can see 1 earlier messages.",
    ]
    [heard] = llm.transcriptions
    assert (heard.file_name, heard.audio) == ("voice-message.ogg", audio)


async def test_every_attachment_of_a_mention_is_read(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    files = [
        discord_api.attachment(b"x = 1\n", "main.py", "text/x-python; charset=utf-8"),
        discord_api.attachment(b'{"ok": true}', "data.json", None),
    ]
    payload = message_payload(
        f"<@{BOT_ID}> check these",
        author_id=ALICE,
        mentions=((BOT_ID, "gptbot"),),
        attachments=files,
    )
    await receive(bot, "MESSAGE_CREATE", payload)

    assert len(discord_api.cdn_gets) == 2
    assert llm.chat_requests[-1].body["messages"][-1]["content"] == (
        'Alice: check these\n\n[file: main.py]\nx = 1\n\n[file: data.json]\n{"ok": true}'
    )
    [answer] = discord_api.channel_texts(CHANNEL_ID)
    assert answer.startswith("You said: Alice: check these")


async def test_image_and_speech_are_file_attachments(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    for text in ("/image a red bicycle", "/speak hello"):
        payload = message_payload(text, author_id=ALICE, channel_id=DM_CHANNEL, guild=False)
        await receive(bot, "MESSAGE_CREATE", payload)

    sent = [c for c in discord_api.calls_to("POST", f"/channels/{DM_CHANNEL}/messages") if c.files]
    assert [(c.files[0].filename, c.json.get("content")) for c in sent] == [
        ("image.png", "🎨 a red bicycle"),
        ("voice.ogg", None),
    ]
    assert sent[0].files[0].content == png()
    assert ogg_comment(sent[1].files[0].content) == "hello"


async def test_image_speak_and_voice_are_slash_commands_with_the_file_as_follow_up(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
) -> None:
    drawn = await interact(
        bot,
        discord_api,
        interaction_payload("image", [option("prompt", "a red bicycle")], user_id=ALICE),
    )
    spoken = await interact(
        bot, discord_api, interaction_payload("speak", [option("text", "hello")], user_id=ALICE)
    )
    voice = await interact(
        bot,
        discord_api,
        interaction_payload("voice", [option("state", "on")], user_id=ALICE, roles=(MOD_ROLE_ID,)),
    )

    # The caption (or a line saying the file follows) answers the interaction for everyone...
    assert [(r["data"]["content"], r["data"].get("flags", 0)) for r in (drawn, spoken)] == [
        ("🎨 a red bicycle", 0),
        ("Here it is:", 0),
    ]
    assert voice["data"]["content"].startswith("Voice replies are on")
    # ...and the file follows it, without repeating the caption.
    followups = [c for c in discord_api.calls_to("POST", r"/webhooks/\d+/[^/]+") if c.files]
    assert [(c.files[0].filename, c.json.get("content")) for c in followups] == [
        ("image.png", None),
        ("voice.ogg", None),
    ]
    assert followups[0].files[0].content == png()
    assert ogg_comment(followups[1].files[0].content) == "hello"
    assert [body["prompt"] for body in llm.image_requests] == ["a red bicycle"]


async def test_a_photo_goes_to_the_model_and_stays_in_the_prompt(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI, tmp_path: Path
) -> None:
    image = discord_api.attachment(photo(300, 200), "photo.png", "image/png")
    first = message_payload(
        "what colour is this?",
        author_id=ALICE,
        channel_id=DM_CHANNEL,
        guild=False,
        attachments=[image],
    )
    await receive(bot, "MESSAGE_CREATE", first)
    for text in ("sure?", "really?"):
        later = message_payload(text, author_id=ALICE, channel_id=DM_CHANNEL, guild=False)
        await receive(bot, "MESSAGE_CREATE", later)

    asked, _, third = llm.chat_requests
    user = asked.body["messages"][-1]
    assert user["content"][0] == {"type": "text", "text": "what colour is this?"}
    # 300x200 at "auto" is sent at low detail: gpt-4o-mini counts it as its base, 2833.
    assert user["content"][1]["image_url"]["detail"] == "low"
    assert user["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert third.body["messages"][1] == user
    assert (
        count_prompt_tokens([user], "gpt-4o-mini") - 3
        == 2833
        + count_prompt_tokens([{"role": "user", "content": "what colour is this?"}], "gpt-4o-mini")
        - 3
    )
    with sqlite3.connect(tmp_path / "bot.db") as connection:
        stored = connection.execute("SELECT tokens FROM messages ORDER BY id").fetchone()[0]
        reported = connection.execute("SELECT prompt_tokens FROM usage ORDER BY id").fetchone()[0]
    assert stored == count_prompt_tokens([user], "gpt-4o-mini") - 3  # the fake's own count
    assert reported == count_request_tokens(asked.body)
    assert discord_api.channel_texts(DM_CHANNEL)[0] == (
        "You said: what colour is this?. I can see 1 earlier messages."
    )

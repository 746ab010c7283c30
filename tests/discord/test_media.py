"""Files and voice messages on Discord end to end: attachments served from the fake's CDN, read
by discord.py's own Attachment.read, through the real core and the fake transcriptions."""

from __future__ import annotations

from bots.discord_adapter import DiscordBot
from fakes.discord_gateway import CHANNEL_ID, message_payload
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.media import ogg_comment, png
from fakes.openai_server import FakeOpenAI
from tests.discord.conftest import receive
from tests.media_fixtures import voice_note

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

"""How answers reach Discord: typing, throttled streaming edits, 429 backoff, 2000-character
parts, and no mentions on anything the bot sends."""

from __future__ import annotations

import itertools
import re

from bots.discord_adapter import DiscordBot
from fakes.discord_gateway import interaction_payload, message_payload
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.discord.conftest import EDIT_INTERVAL_S, BotFactory, interact, receive

ALICE = 42
DM_CHANNEL = 4343
EDIT = r"/channels/\d+/messages/\d+"
SLACK_S = 0.01  # timer granularity


def words(count: int) -> str:
    return " ".join(f"word{i}" for i in range(count))


def dm(text: str) -> dict[str, object]:
    return message_payload(text, author_id=ALICE, channel_id=DM_CHANNEL, guild=False)


async def test_streams_with_throttled_edits_and_ends_complete(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    answer = words(80)
    llm.responder = lambda body: FakeReply(answer, chunk_size=4, chunk_delay_s=0.004)

    await receive(bot, "MESSAGE_CREATE", dm("tell me a story"))

    assert discord_api.channel_texts(DM_CHANNEL) == [answer]
    [send] = discord_api.calls_to("POST", rf"/channels/{DM_CHANNEL}/messages")
    edits = discord_api.calls_to("PATCH", EDIT)
    assert len(edits) >= 2, "the answer should appear progressively"
    assert len(edits) < len(answer) / 4 / 2, "edits must coalesce streamed pieces"
    times = [send.at] + [edit.at for edit in edits]
    assert min(b - a for a, b in itertools.pairwise(times)) >= EDIT_INTERVAL_S - SLACK_S
    shown = [send.json["content"]] + [edit.json["content"] for edit in edits]
    assert all(answer.startswith(text) for text in shown)  # previews only ever grow
    # Typing shows while the model works, before the first part is sent.
    [typing, *_] = discord_api.calls_to("POST", rf"/channels/{DM_CHANNEL}/typing")
    assert typing.at <= send.at


async def test_backs_off_after_a_429(bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI):
    answer = words(120)
    llm.responder = lambda body: FakeReply(answer, chunk_size=4, chunk_delay_s=0.004)
    discord_api.fail_next("PATCH", EDIT, 429, retry_after=0.2)

    await receive(bot, "MESSAGE_CREATE", dm("tell me a long story"))

    assert discord_api.channel_texts(DM_CHANNEL) == [answer]
    edits = discord_api.calls_to("PATCH", EDIT)
    limited = next(i for i, call in enumerate(discord_api.calls) if call.method == "PATCH")
    retried = [e for e in edits if e.at > discord_api.calls[limited].at]
    assert retried, "the rate-limited edit is retried"
    gaps = [b.at - a.at for a, b in itertools.pairwise(retried)]
    assert gaps and min(gaps) >= 2 * EDIT_INTERVAL_S - SLACK_S  # the interval doubled


async def test_5000_characters_arrive_in_order_in_parts_of_2000(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    paragraphs = [words(60) + f" end{i}." for i in range(13)]
    answer = "\n\n".join(paragraphs)
    assert len(answer) > 5000
    llm.responder = lambda body: FakeReply(answer, chunk_size=50)

    await receive(bot, "MESSAGE_CREATE", dm("write a lot"))

    parts = discord_api.channel_texts(DM_CHANNEL)
    assert 3 <= len(parts) <= 4  # split at paragraph ends, so maybe one more than minimal
    assert all(len(part) <= 2000 for part in parts)
    assert " ".join(parts).split() == answer.split()  # nothing lost, nothing reordered


async def test_long_code_block_stays_fenced_across_parts(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    code = "\n".join(f"print('line {i}')  # {'x' * 20}" for i in range(120))
    answer = f"Here you go:\n\n```python\n{code}\n```\n\nDone."
    llm.responder = lambda body: FakeReply(answer, chunk_size=40)

    await receive(bot, "MESSAGE_CREATE", dm("write code"))

    parts = discord_api.channel_texts(DM_CHANNEL)
    assert len(parts) >= 3
    assert all(len(part) <= 2000 for part in parts)
    for part in parts:
        assert part.count("```") % 2 == 0, f"unbalanced fence in {part[:40]!r}"
    shown_lines = [
        line for part in parts for line in part.splitlines() if line.startswith("print(")
    ]
    assert shown_lines == code.splitlines()


async def test_no_message_may_mention_anyone(
    run_bot: BotFactory, discord_api: FakeDiscord, llm: FakeOpenAI
):
    llm.responder = lambda body: FakeReply(
        "@everyone @here <@42> <@&5200> " + words(700), chunk_size=200
    )
    async with run_bot() as bot:
        assert bot.allowed_mentions is not None
        assert bot.allowed_mentions.to_dict() == {"parse": []}
        await receive(
            bot,
            "MESSAGE_CREATE",
            message_payload(f"<@{BOT_ID}> ping", author_id=ALICE, mentions=((BOT_ID, "gptbot"),)),
        )
        await interact(bot, discord_api, interaction_payload("settings", user_id=ALICE))
        await interact(bot, discord_api, interaction_payload("chat", user_id=ALICE))

    sent = [
        call.json.get("data", call.json) if "/interactions/" in call.path else call.json
        for call in discord_api.calls
        if call.method in ("POST", "PATCH")
        and re.search(r"/messages|/callback|/webhooks", call.path)
    ]
    with_content = [body for body in sent if body.get("content")]
    assert len(with_content) >= 5  # streamed parts, edits, command replies
    for body in with_content:
        mentions = body["allowed_mentions"]
        assert mentions["parse"] == []
        assert not mentions.get("users") and not mentions.get("roles")
        assert not mentions.get("replied_user")


async def test_message_deleted_mid_stream_is_sent_again(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    answer = words(80)
    llm.responder = lambda body: FakeReply(answer, chunk_size=4, chunk_delay_s=0.004)
    discord_api.fail_next("PATCH", EDIT, 404)

    await receive(bot, "MESSAGE_CREATE", dm("tell me a story"))

    assert discord_api.channel_texts(DM_CHANNEL)[-1] == answer
    assert len(discord_api.calls_to("POST", rf"/channels/{DM_CHANNEL}/messages")) == 2


async def test_refused_parts_are_retried_in_order(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    answer = "\n\n".join(f"p{i} " + words(60) for i in range(13))
    # Big pieces: one push has several parts to send, and the first one is refused.
    llm.responder = lambda body: FakeReply(answer, chunk_size=2500)
    discord_api.fail_next("POST", rf"/channels/{DM_CHANNEL}/messages", 400)

    await receive(bot, "MESSAGE_CREATE", dm("write a lot"))

    refused, *sent = discord_api.calls_to("POST", rf"/channels/{DM_CHANNEL}/messages")
    assert refused.json["content"].startswith("p0 ")
    assert sent[0].json["content"].startswith("p0 ")  # not a later part in its place
    parts = discord_api.channel_texts(DM_CHANNEL)
    assert " ".join(parts).split() == answer.split()

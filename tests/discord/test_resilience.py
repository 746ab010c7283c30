"""Who may have the bot open a /chat thread (issue 11 item 12), and replies that survive a
dropped connection to Discord (item 13)."""

from __future__ import annotations

from typing import Any

from bots.discord_adapter import DiscordBot
from bots.discord_adapter.texts import adapter_text
from config.settings import Settings
from fakes.discord_gateway import (
    CHANNEL_ID,
    EVERYONE_PERMISSIONS,
    interaction_payload,
    message_payload,
    option,
)
from fakes.discord_rest import FakeDiscord
from fakes.openai_server import FakeOpenAI
from tests.discord.conftest import BotFactory, interact, receive

ALICE = 42
DM_CHANNEL = 4444
EPHEMERAL = 64
CREATE_PUBLIC_THREADS = 1 << 35
THREADS = rf"/channels/{CHANNEL_ID}/threads"
SEND = rf"/channels/{DM_CHANNEL}/messages"


def dm(text: str) -> dict[str, object]:
    return message_payload(text, author_id=ALICE, channel_id=DM_CHANNEL, guild=False)


def chat(topic: str | None = None, **kwargs: Any) -> dict[str, Any]:
    options = [option("topic", topic)] if topic else []
    return interaction_payload("chat", options, user_id=ALICE, **kwargs)


def refused_privately(response: dict[str, Any]) -> str:
    assert response["type"] == 4 and response["data"]["flags"] & EPHEMERAL, response
    text = response["data"]["content"]
    assert isinstance(text, str) and "\n" not in text  # a one-liner
    return text


async def test_chat_needs_the_members_own_thread_permission(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    without = EVERYONE_PERMISSIONS & ~CREATE_PUBLIC_THREADS
    response = await interact(bot, discord_api, chat("hi", permissions=without))

    assert refused_privately(response) == adapter_text("thread_not_permitted")
    assert discord_api.calls_to("POST", THREADS) == []
    assert llm.chat_requests == []


async def test_chat_is_refused_to_a_denied_user(
    run_bot: BotFactory, discord_api: FakeDiscord, llm: FakeOpenAI, settings: Settings
):
    settings.denied_users = frozenset({str(ALICE)})
    async with run_bot() as bot:
        response = await interact(bot, discord_api, chat("hi"))

    assert "private" in refused_privately(response)
    assert discord_api.calls_to("POST", THREADS) == []
    assert llm.chat_requests == []


async def test_chat_is_refused_once_the_budget_is_spent(
    run_bot: BotFactory, discord_api: FakeDiscord, llm: FakeOpenAI, settings: Settings
):
    settings.budget_user_daily_tokens = 10
    async with run_bot() as bot:
        await receive(bot, "MESSAGE_CREATE", dm("spend my tokens"))
        assert len(llm.chat_requests) == 1
        response = await interact(bot, discord_api, chat("hi"))

    assert "budget" in refused_privately(response)
    assert discord_api.calls_to("POST", THREADS) == []
    assert len(llm.chat_requests) == 1


async def test_chat_opens_a_thread_for_an_allowed_member(bot: DiscordBot, discord_api: FakeDiscord):
    response = await interact(bot, discord_api, chat())
    assert not response["data"].get("flags", 0) & EPHEMERAL
    assert len(discord_api.calls_to("POST", THREADS)) == 1


async def test_an_answer_survives_a_dropped_connection_on_its_first_send(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    discord_api.drop_next("POST", SEND)

    await receive(bot, "MESSAGE_CREATE", dm("hello"))

    assert len(discord_api.calls_to("POST", SEND)) >= 2  # the dropped one, then a retry
    [shown] = discord_api.channel_texts(DM_CHANNEL)  # the answer, once
    assert shown.startswith("You said: hello.")


async def test_a_command_reply_survives_a_dropped_connection(
    bot: DiscordBot, discord_api: FakeDiscord
):
    discord_api.drop_next("POST", SEND)

    await receive(bot, "MESSAGE_CREATE", dm("/settings"))

    [shown] = discord_api.channel_texts(DM_CHANNEL)
    assert shown.startswith("Settings of this chat:")


def callback_of(payload: dict[str, Any]) -> str:
    return rf"/interactions/{payload['id']}/[^/]+/callback"


async def test_a_slash_command_reply_survives_a_dropped_connection(
    bot: DiscordBot, discord_api: FakeDiscord
):
    settings = interaction_payload("settings", user_id=ALICE)
    discord_api.drop_next("POST", callback_of(settings))

    await interact(bot, discord_api, settings)

    assert len(discord_api.calls_to("POST", callback_of(settings))) == 2  # dropped, then retried
    assert discord_api.responses[str(settings["id"])]["content"].startswith("Settings of this")


async def test_a_slash_command_reply_that_reached_discord_before_the_drop_is_not_an_error(
    bot: DiscordBot, discord_api: FakeDiscord
):
    settings = interaction_payload("settings", user_id=ALICE)
    discord_api.drop_answer_of_next("POST", callback_of(settings))

    await interact(bot, discord_api, settings)

    # The retry is told "already acknowledged": the reply stands, and no apology follows it.
    first, retried = discord_api.calls_to("POST", callback_of(settings))
    assert retried.json == first.json
    assert discord_api.responses[str(settings["id"])]["content"].startswith("Settings of this")
    assert discord_api.calls_to("POST", r"/webhooks/.*") == []


async def test_a_long_slash_command_reply_survives_a_dropped_follow_up(
    run_bot: BotFactory, discord_api: FakeDiscord, settings: Settings
):
    settings.rate_limit_user_commands_per_min = 0
    listing = interaction_payload(
        "personas", user_id=ALICE, guild=False, channel_type=1, channel_id=DM_CHANNEL
    )
    follow_up = r"/webhooks/\d+/[^/]+"
    async with run_bot() as bot:
        for n in range(30):  # 30 personas described at length: a listing past 2000 characters
            text = f"/newpersona p{n:02} {'Talks at length. ' * 8}"
            await receive(bot, "MESSAGE_CREATE", dm(text))
        discord_api.drop_next("POST", follow_up)

        await interact(bot, discord_api, listing)

    dropped, *sent = discord_api.calls_to("POST", follow_up)
    assert len(sent) >= 2 and sent[0].json == dropped.json  # the dropped part, retried
    first = discord_api.responses[str(listing["id"])]["content"]
    shown = first + "".join(call.json["content"] for call in sent)
    assert all(f"p{n:02}" in shown for n in range(30))


async def test_a_rate_limited_slash_command_is_always_told_why(
    run_bot: BotFactory, discord_api: FakeDiscord, settings: Settings
):
    settings.rate_limit_user_commands_per_min = 1
    async with run_bot() as bot:
        await interact(bot, discord_api, interaction_payload("settings", user_id=ALICE))
        told = [
            await interact(bot, discord_api, interaction_payload("settings", user_id=ALICE))
            for _ in range(2)
        ]

    # In a chat the refusal is said once a minute; a slash command must be answered each time.
    assert all("too fast" in refused_privately(response) for response in told)

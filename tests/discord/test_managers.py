"""Who may manage the bot from a message: everyone in DMs; in a server only with evidence
(Manage Server or the manager role), also when discord.py has not cached the server (just
after start, or while its GUILD_CREATE is on the way, as with several shard processes) or holds
the author only as a User. Such messages are answered, as from a non-manager."""

from __future__ import annotations

from typing import Any

from bots.discord_adapter import DiscordBot
from core.texts import EN
from fakes.discord_gateway import (
    CHANNEL_ID,
    EVERYONE_PERMISSIONS,
    MANAGE_GUILD,
    MOD_ROLE_ID,
    interaction_payload,
    message_payload,
    option,
)
from fakes.discord_rest import BOT_ID, FakeDiscord
from tests.discord.conftest import interact, receive

ALICE = 42
DM_CHANNEL = 4242
MENTION = ((BOT_ID, "gptbot"),)
UNCACHED_GUILD = (9 << 22) | 5000  # a server that never had a GUILD_CREATE on this client
UNCACHED_CHANNEL = 6100
SWITCHED = "Persona is now coder."


def in_uncached_server(text: str, **kwargs: Any) -> dict[str, Any]:
    """MESSAGE_CREATE as Discord sends it (member data included) from the uncached server:
    discord.py makes its channel a PartialMessageable and `message.guild` None."""
    where = {"guild_id": UNCACHED_GUILD, "channel_id": UNCACHED_CHANNEL, "mentions": MENTION}
    return message_payload(text, author_id=ALICE, **(where | kwargs))


async def test_author_known_only_as_a_user_in_a_server_is_answered_but_does_not_manage(
    bot: DiscordBot, discord_api: FakeDiscord
):
    # Without member data discord.py finds no Member in its cache and gives the author as a
    # plain User, even though the message is in a server channel.
    switch = message_payload(f"<@{BOT_ID}> /persona coder", author_id=ALICE, mentions=MENTION)
    del switch["member"]
    await receive(bot, "MESSAGE_CREATE", switch)

    current = message_payload(f"<@{BOT_ID}> /persona", author_id=ALICE, mentions=MENTION)
    del current["member"]
    await receive(bot, "MESSAGE_CREATE", current)

    refusal, shown = discord_api.channel_texts(CHANNEL_ID)
    assert refusal == EN["not_allowed"]
    assert shown.startswith("Persona: assistant")


async def test_message_from_an_uncached_server_is_answered_there_as_from_a_non_manager(
    bot: DiscordBot, discord_api: FakeDiscord
):
    hello = in_uncached_server(f"<@{BOT_ID}> hello")
    await receive(bot, "MESSAGE_CREATE", hello)
    # Even a Mods member: the server's roles are unknown until discord.py has the server.
    await receive(
        bot,
        "MESSAGE_CREATE",
        in_uncached_server(f"<@{BOT_ID}> /persona coder", roles=(MOD_ROLE_ID,)),
    )
    # A server channel, not a DM: what is not addressed to the bot is not answered.
    await receive(bot, "MESSAGE_CREATE", in_uncached_server("chatter among people", mentions=()))

    answer, refusal = discord_api.channel_texts(UNCACHED_CHANNEL)
    assert answer == "You said: Alice: hello. I can see 1 earlier messages."
    assert refusal == EN["not_allowed"]
    first_reply = discord_api.calls_to("POST", rf"/channels/{UNCACHED_CHANNEL}/messages")[0]
    assert str(first_reply.json["message_reference"]["message_id"]) == hello["id"]


def slash_in_uncached_server(
    command: str, options: list[dict[str, Any]], permissions: int
) -> dict[str, Any]:
    data = interaction_payload(
        command, options, user_id=ALICE, channel_id=UNCACHED_CHANNEL, permissions=permissions
    )
    data["guild_id"] = data["channel"]["guild_id"] = str(UNCACHED_GUILD)
    return data


async def test_slash_command_in_an_uncached_server_uses_the_permissions_discord_resolved(
    bot: DiscordBot, discord_api: FakeDiscord
):
    coder = [option("name", "coder")]
    refused = await interact(
        bot, discord_api, slash_in_uncached_server("persona", coder, EVERYONE_PERMISSIONS)
    )
    allowed = await interact(
        bot,
        discord_api,
        slash_in_uncached_server("persona", coder, EVERYONE_PERMISSIONS | MANAGE_GUILD),
    )

    assert refused["data"]["content"] == EN["not_allowed"]
    assert allowed["data"]["content"].startswith(SWITCHED)


async def test_uncached_server_messages_see_the_servers_own_personas(
    bot: DiscordBot, discord_api: FakeDiscord
):
    pirate = [option("name", "pirate"), option("prompt", "Talk like a pirate.")]
    await interact(
        bot,
        discord_api,
        slash_in_uncached_server("newpersona", pirate, EVERYONE_PERMISSIONS | MANAGE_GUILD),
    )

    await receive(bot, "MESSAGE_CREATE", in_uncached_server(f"<@{BOT_ID}> /personas"))

    [listing] = discord_api.channel_texts(UNCACHED_CHANNEL)
    assert "pirate" in listing


async def test_anyone_manages_in_a_dm(bot: DiscordBot, discord_api: FakeDiscord):
    await receive(
        bot,
        "MESSAGE_CREATE",
        message_payload("/persona coder", author_id=ALICE, channel_id=DM_CHANNEL, guild=False),
    )

    [switched] = discord_api.channel_texts(DM_CHANNEL)
    assert switched.startswith(SWITCHED)

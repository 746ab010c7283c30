"""Translation in: a discord.py message, slash command or button press as the core's
IncomingMessage."""

from __future__ import annotations

import re

import discord

from bots.discord_adapter.attachments import attachments_of
from core.boundary import Author, ConversationKey, IncomingMessage

PLATFORM = "discord"


def conversation_key(
    channel: discord.abc.Messageable | discord.abc.GuildChannel,
) -> ConversationKey:
    """Per channel; a thread is its own conversation under its parent channel."""
    if isinstance(channel, discord.Thread):
        return ConversationKey(PLATFORM, str(channel.parent_id), str(channel.id))
    return ConversationKey(PLATFORM, str(getattr(channel, "id", "")))


def server_id(message: discord.Message) -> int | None:
    """The server a message was sent in, or None outside servers.

    discord.py leaves `message.guild` None for a server it has not cached (just after start, or
    while its GUILD_CREATE is still on the way): the channel is then a PartialMessageable that
    still holds the server's id.
    """
    if message.guild is not None:
        return message.guild.id
    channel = message.channel
    return channel.guild_id if isinstance(channel, discord.PartialMessageable) else None


def is_direct(message: discord.Message) -> bool:
    """A DM: no server behind the channel. A Member author only ever comes from a server."""
    return server_id(message) is None and not isinstance(message.author, discord.Member)


def space_id(guild_id: int | None, key: ConversationKey) -> str:
    """Custom personas belong to the server; in DMs, to the DM channel."""
    return str(guild_id) if guild_id is not None else key.chat_id


def can_manage(user: discord.User | discord.Member, manager_role: str, *, in_dm: bool) -> bool:
    """Always in DMs; in a server only on evidence: Manage Server or the configured role (name
    or id).

    Discord resolves an interaction's member permissions itself (owner and Administrator
    included); a message's are computed from the cached server's roles. An author discord.py
    holds only as a User, or a Member of a server it has not cached, shows neither: not a
    manager, and the core refuses management commands as it does for anyone.
    """
    if in_dm:
        return True
    if not isinstance(user, discord.Member):
        return False
    resolved = user.resolved_permissions
    if resolved is not None and resolved.manage_guild:
        return True
    guild: discord.Guild | None = getattr(user, "guild", None)  # None when not cached
    if guild is None:
        return False
    if user.guild_permissions.manage_guild:
        return True
    return bool(manager_role) and any(
        manager_role in (str(role.id), role.name) for role in user.roles
    )


def to_author(
    user: discord.User | discord.Member,
    manager_role: str,
    *,
    in_dm: bool,
    language: str | None = None,
) -> Author:
    return Author(
        user_id=str(user.id),
        display_name=user.display_name,
        language=language,
        can_manage=can_manage(user, manager_role, in_dm=in_dm),
    )


def is_addressed(
    message: discord.Message, me: discord.ClientUser, channel: object | None = None
) -> bool:
    """DMs, an @mention of the bot (not its name), a reply to the bot, or the bot's own thread."""
    if is_direct(message):
        return True
    if any(user.id == me.id for user in message.mentions):
        return True
    reference = message.reference
    if reference is not None:
        replied = reference.resolved or reference.cached_message
        if isinstance(replied, discord.Message) and replied.author.id == me.id:
            return True
    channel = channel or message.channel
    return isinstance(channel, discord.Thread) and channel.owner_id == me.id


def readable_text(message: discord.Message, me: discord.ClientUser) -> str:
    """The content with the bot's own mention removed and other mentions shown as names."""
    text = re.sub(rf"<@!?{me.id}>", "", message.content)
    for user in message.mentions:
        text = re.sub(rf"<@!?{user.id}>", f"@{user.display_name}", text)
    for role in message.role_mentions:
        text = text.replace(f"<@&{role.id}>", f"@{role.name}")
    for channel in message.channel_mentions:
        text = text.replace(f"<#{channel.id}>", f"#{channel.name}")
    text = text.strip()
    # A typed command addressed to this bot by name ("/reset@gptbot"): the core only knows "/reset".
    first, _, rest = text.partition(" ")
    suffix = f"@{me.name}"
    if first.startswith("/") and first.lower().endswith(suffix.lower()):
        text = f"{first[: -len(suffix)]} {rest}".strip()
    return text


def message_to_incoming(
    message: discord.Message,
    me: discord.ClientUser,
    *,
    manager_role: str = "",
    channel: discord.abc.Messageable | None = None,
) -> IncomingMessage | None:
    """None for messages the core must never see: the bot's own, other bots', empty ones
    (neither text nor files).

    `channel` overrides `message.channel` when the adapter had to fetch an uncached thread.
    """
    if message.author.id == me.id or message.author.bot or message.webhook_id is not None:
        return None
    text = readable_text(message, me)
    attachments = attachments_of(message)
    if not text and not attachments:
        return None
    channel = channel or message.channel
    key = conversation_key(channel)
    in_dm = is_direct(message)
    return IncomingMessage(
        key=key,
        author=to_author(message.author, manager_role, in_dm=in_dm),
        text=text,
        addressed=is_addressed(message, me, channel),
        is_private=in_dm,
        message_id=str(message.id),
        space_id=space_id(server_id(message), key),
        attachments=attachments,
    )


def interaction_to_incoming(
    interaction: discord.Interaction,
    text: str,
    manager_role: str,
    channel: discord.abc.Messageable | None = None,
) -> IncomingMessage:
    """A slash command or button press, as the command `text` it stands for.

    `channel` overrides the interaction's channel: /chat's topic is the first message of the
    thread it opened. The user's Discord locale is the language the core answers in.
    """
    key = conversation_key(channel or interaction.channel)  # type: ignore[arg-type]
    in_dm = interaction.guild_id is None  # the payload's own field, cached or not
    return IncomingMessage(
        key=key,
        author=to_author(
            interaction.user, manager_role, in_dm=in_dm, language=str(interaction.locale)
        ),
        text=text,
        addressed=True,
        is_private=in_dm,
        message_id=f"interaction-{interaction.id}",
        space_id=space_id(interaction.guild_id, key),
        is_interaction=True,
    )

"""Discord gateway payloads, fed to a real discord.py client through its connection state.

Together with fakes/discord_rest.py this runs the library's own parsing, caching,
interaction and HTTP code without a network: `feed_event(client, "MESSAGE_CREATE", payload)`
is what the websocket would do when Discord sends that event.
"""

from __future__ import annotations

import itertools
from typing import Any

import discord

from fakes.discord_rest import APP_ID, BOT_ID, GUILD_ID, user_payload

OWNER_ID = 5001
CHANNEL_ID = 5100
MANAGE_GUILD = 1 << 5
# view, send, slash commands, create public threads, send in threads
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31) | (1 << 35) | (1 << 38)
MOD_ROLE_ID = 5200
HELPER_ROLE_ID = 5201

_ids = itertools.count(700_000)


def new_id() -> int:
    return next(_ids)


def guild_payload(
    *, channels: list[dict[str, Any]] | None = None, guild_id: int = GUILD_ID
) -> dict[str, Any]:
    """A server with #general, an @everyone role, a "Mods" role with Manage Server and "Helpers";
    another `guild_id` makes another server (give it its own `channels`)."""

    def role(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": True,
        }

    return {
        "id": str(guild_id),
        "name": "Test Server",
        "owner_id": str(OWNER_ID),
        "icon": None,
        "features": [],
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "member_count": 3,
        "roles": [
            role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0),
            role(MOD_ROLE_ID, "Mods", MANAGE_GUILD, 2),
            role(HELPER_ROLE_ID, "Helpers", 0, 1),
        ],
        "emojis": [],
        "stickers": [],
        "members": [],
        "channels": channels
        or [
            {
                "id": str(CHANNEL_ID),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            }
        ],
        "threads": [],
        "unavailable": False,
    }


def thread_payload(thread_id: int, *, owner_id: int, parent_id: int = CHANNEL_ID) -> dict[str, Any]:
    return {
        "id": str(thread_id),
        "type": 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": "a thread",
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": "2026-01-01T00:00:00+00:00",
            "locked": False,
        },
        "message_count": 0,
        "member_count": 1,
        "rate_limit_per_user": 0,
    }


def member_payload(user_id: int, name: str, *, roles: tuple[int, ...] = ()) -> dict[str, Any]:
    return {
        "user": user_payload(user_id, name),
        "nick": None,
        "roles": [str(role) for role in roles],
        "joined_at": "2025-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
    }


def message_payload(
    content: str,
    *,
    author_id: int,
    author_name: str = "alice",
    channel_id: int = CHANNEL_ID,
    guild: bool = True,
    roles: tuple[int, ...] = (),
    mentions: tuple[tuple[int, str], ...] = (),
    bot: bool = False,
    replying_to: dict[str, Any] | None = None,
    message_id: int | None = None,
    attachments: list[dict[str, Any]] | None = None,
    guild_id: int = GUILD_ID,
) -> dict[str, Any]:
    """MESSAGE_CREATE as Discord sends it (member data included in servers)."""
    author = user_payload(author_id, author_name, bot=bot)
    data: dict[str, Any] = {
        "id": str(message_id or new_id()),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [user_payload(uid, name, bot=uid == BOT_ID) for uid, name in mentions],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "pinned": False,
        "type": 19 if replying_to else 0,
        "components": [],
    }
    if guild:
        data["guild_id"] = str(guild_id)
        data["member"] = {
            k: v
            for k, v in member_payload(author_id, author_name, roles=roles).items()
            if k != "user"
        }
    if replying_to is not None:
        data["message_reference"] = {
            "message_id": replying_to["id"],
            "channel_id": replying_to["channel_id"],
            "guild_id": str(guild_id) if guild else None,
        }
        data["referenced_message"] = replying_to
    return data


def dm_channel_payload(channel_id: int, user_id: int, name: str) -> dict[str, Any]:
    return {"id": str(channel_id), "type": 1, "recipients": [user_payload(user_id, name)]}


def interaction_payload(
    command: str,
    options: list[dict[str, Any]] | None = None,
    *,
    user_id: int,
    user_name: str = "alice",
    channel_id: int = CHANNEL_ID,
    roles: tuple[int, ...] = (),
    autocomplete: bool = False,
    locale: str = "en-US",
    guild: bool = True,
    channel_type: int = 0,
    parent_id: int | None = None,
    permissions: int = EVERYONE_PERMISSIONS,
) -> dict[str, Any]:
    """INTERACTION_CREATE for a slash command (type 2) or its autocomplete (type 4).

    With `parent_id` the channel is a public thread (type 11) of that channel; `permissions`
    are the member's, resolved in the channel (as Discord sends them).
    """
    data: dict[str, Any] = {
        "id": str(new_id()),
        "application_id": str(APP_ID),
        "type": 4 if autocomplete else 2,
        "token": f"token-{new_id()}",
        "version": 1,
        "locale": locale,
        "channel_id": str(channel_id),
        "channel": {"id": str(channel_id), "type": channel_type},
        "app_permissions": str((1 << 53) - 1),
        "attachment_size_limit": 10 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0 if guild else 1,
        "data": {
            "id": str(new_id()),
            "name": command,
            "type": 1,
            "options": options or [],
        },
    }
    if guild:
        data["guild_id"] = str(GUILD_ID)
        data["channel"].update(guild_id=str(GUILD_ID), name="general", position=0)
        if parent_id is not None:
            data["channel"] = thread_payload(channel_id, owner_id=user_id, parent_id=parent_id)
        member = member_payload(user_id, user_name, roles=roles)
        member["permissions"] = str(permissions)
        data["member"] = member
    else:
        data["user"] = user_payload(user_id, user_name)
    return data


def option(name: str, value: Any, *, focused: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "type": 3, "value": value}
    if focused:
        entry["focused"] = True
    return entry


def feed_event(client: discord.Client, event: str, payload: dict[str, Any]) -> None:
    """What the gateway connection does with one dispatched event."""
    client._connection.parsers[event](payload)


async def go_online(client: discord.Client, token: str = "test-token") -> None:
    """Log in against the fake REST server (runs setup_hook) and receive the test server."""
    await client.login(token)
    feed_event(client, "GUILD_CREATE", guild_payload())


def button_press_payload(
    message: dict[str, Any],
    custom_id: str,
    *,
    user_id: int,
    channel_id: int = CHANNEL_ID,
    roles: tuple[int, ...] = (),
) -> dict[str, Any]:
    """INTERACTION_CREATE (type 3) for a button on `message`, as pressed in a server channel."""
    data = interaction_payload("", user_id=user_id, channel_id=channel_id, roles=roles)
    data["type"] = 3
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    data["message"] = {**message, "channel_id": str(channel_id)}
    return data


__all__ = ["APP_ID", "BOT_ID", "GUILD_ID", "user_payload"]

"""Registering the slash commands with Discord only when they changed.

Discord rate-limits command registration (and global changes take a while to reach clients),
so the payload last synced is remembered as a hash in a small JSON file, per application
and scope (one guild, or global). With several processes on PostgreSQL (shards spread over
them) the hash is kept in the database instead, and the process holding the sync's lock syncs:
once per deploy, not once per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bots.discord_adapter.options import DiscordOptions
from core.boundary import ProcessCluster

log = logging.getLogger(__name__)


async def command_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None
) -> list[dict[str, Any]]:
    """What `tree.sync(guild=guild)` would send, translations included."""
    commands = tree.get_commands(guild=guild)
    translator = tree.translator
    if translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, translator) for command in commands]


async def sync_commands(
    tree: app_commands.CommandTree[Any],
    options: DiscordOptions,
    *,
    application_id: int | None,
    cluster: ProcessCluster | None = None,
) -> bool:
    """Sync to DISCORD_GUILD_ID when set, else globally; True when Discord was called."""
    guild = discord.Object(id=options.guild_id) if options.guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    payload = await command_payload(tree, guild)
    scope = f"{application_id}:{guild.id if guild else 'global'}"
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    if cluster is not None:
        return await _sync_once(tree, guild, scope, digest, len(payload), cluster)
    recorded = _read(options.command_sync_file)
    if recorded.get(scope) == digest:
        log.info("slash commands unchanged (%s); not syncing", scope)
        return False
    await tree.sync(guild=guild)
    recorded[scope] = digest
    _write(options.command_sync_file, recorded)
    log.info("synced %d slash commands (%s)", len(payload), scope)
    return True


async def _sync_once(
    tree: app_commands.CommandTree[Any],
    guild: discord.abc.Snowflake | None,
    scope: str,
    digest: str,
    count: int,
    cluster: ProcessCluster,
) -> bool:
    """The shared record's way: whoever takes the lock compares and syncs; a process that finds
    it taken leaves the sync to the one holding it."""
    lock = f"discord-command-sync:{scope}"
    if not await cluster.try_lock(lock):
        log.info("slash commands: another process is syncing them (%s)", scope)
        return False
    try:
        name = f"discord-commands:{scope}"
        if await cluster.shared_value(name) == digest:
            log.info("slash commands unchanged (%s); not syncing", scope)
            return False
        await tree.sync(guild=guild)
        await cluster.set_shared_value(name, digest)
        log.info("synced %d slash commands (%s) for every process", count, scope)
        return True
    finally:
        await cluster.unlock(lock)


def _read(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(path: Path, data: dict[str, str]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    except OSError:
        log.warning("could not record the command sync in %s", path, exc_info=True)

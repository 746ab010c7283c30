"""Discord shards over several processes on one PostgreSQL database (issue 15): each process
identifies only its DISCORD_SHARD_IDS, the slash commands are synced once for all of them, and
a process started with shards another one already runs stands by; messages in servers of both
shards are each answered once, by the process whose shard Discord sent them to."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bots.discord_adapter import run_discord
from config.settings import normalize_database_url
from core.bootstrap import bootstrap
from fakes.discord_gateway import guild_payload, message_payload
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.openai_server import FakeOpenAI
from tests.conftest import POSTGRES_URL, _reset_postgres
from tests.discord.conftest import discord_settings


async def test_two_shard_processes_identify_their_own_shard_and_sync_commands_once(
    discord_api: FakeDiscord,
    llm: FakeOpenAI,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    # With a shard count given, discord.py skips GET /gateway/bot and dials Discord's gateway.
    gateway = discord_api.base_url.replace("http://", "ws://").removesuffix("/api/v10")
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"{gateway}/gateway"))
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)

    def shard(ids: str, sync_file: str) -> object:
        # Each its own sync file, as on two machines: only the database is shared.
        return discord_settings(
            tmp_path,
            llm,
            database_url=url,
            discord_shard_count=2,
            discord_shard_ids=ids,
            discord_command_sync_file=tmp_path / sync_file,
        )

    first_settings, second_settings = shard("0", "a.json"), shard("1", "b.json")
    stop = asyncio.Event()
    async with (
        bootstrap(first_settings) as first,  # type: ignore[arg-type]
        bootstrap(second_settings) as second,  # type: ignore[arg-type]
        bootstrap(first_settings) as spare,  # type: ignore[arg-type]
    ):
        assert first.cluster and second.cluster and spare.cluster
        running = [
            asyncio.create_task(run_discord(app.service, app.settings, stop, app.cluster))
            for app in (first, second)
        ]
        for _ in range(200):
            if len(discord_api.calls_to("IDENTIFY", "/gateway")) == 2:
                break
            await asyncio.sleep(0.05)
        shards = sorted(c.json["shard"] for c in discord_api.calls_to("IDENTIFY", "/gateway"))
        assert shards == [[0, 2], [1, 2]]
        for _ in range(100):
            if discord_api.commands:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # the other process's setup has run by now too
        synced = discord_api.calls_to("PUT", r"/applications/\d+(/guilds/\d+)?/commands")
        assert len(synced) == 1  # once for the deploy, not once per process

        with caplog.at_level(logging.WARNING, logger="core.cluster"):
            spare_task = asyncio.create_task(
                run_discord(spare.service, spare.settings, stop, spare.cluster)
            )
            for _ in range(100):
                if any("standing by" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)
        assert any(
            "another process is already the discord-shards 0 of 2" in r.getMessage()
            for r in caplog.records
        )
        assert len(discord_api.calls_to("IDENTIFY", "/gateway")) == 2  # the spare did not
        stop.set()
        await asyncio.wait_for(asyncio.gather(*running, spare_task), 20)


CONVERSATIONS = 20
MESSAGES = 5
MENTION = ((BOT_ID, "gptbot"),)


def _guild_id(n: int) -> int:
    """The n-th test server; Discord routes it to shard (id >> 22) % 2, i.e. n % 2 of two."""
    return (n << 22) | 5000


async def test_two_shard_processes_answer_each_message_of_their_guilds_exactly_once(
    discord_api: FakeDiscord,
    llm: FakeOpenAI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """20 channels in 10 servers spread over shards 0 and 1, 5 messages each sent as fast as
    the gateway goes: every message is answered once, by the process whose shard received it,
    in order, each turn seeing the earlier turns of its channel (and only those)."""
    if not POSTGRES_URL.startswith("postgresql"):
        pytest.skip("needs TEST_DATABASE_URL pointing at PostgreSQL")
    gateway = discord_api.base_url.replace("http://", "ws://").removesuffix("/api/v10")
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"{gateway}/gateway"))
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)

    # Two channels in each of 10 servers; the servers alternate between the two shards.
    channels = {800_000 + i: _guild_id(i // 2) for i in range(CONVERSATIONS)}
    for n in range(CONVERSATIONS // 2):
        guild_id = _guild_id(n)
        own = [channel for channel, guild in channels.items() if guild == guild_id]
        discord_api.guilds.append(
            guild_payload(
                guild_id=guild_id,
                channels=[
                    {
                        "id": str(channel),
                        "type": 0,
                        "guild_id": str(guild_id),
                        "name": f"chat-{channel}",
                        "position": i,
                        "permission_overwrites": [],
                        "nsfw": False,
                        "parent_id": None,
                    }
                    for i, channel in enumerate(own)
                ],
            )
        )

    def shard(ids: str, sync_file: str) -> object:
        return discord_settings(
            tmp_path,
            llm,
            database_url=url,
            discord_shard_count=2,
            discord_shard_ids=ids,
            discord_command_sync_file=tmp_path / sync_file,
            discord_edit_interval_s=0.2,
        )

    stop = asyncio.Event()
    async with (
        bootstrap(shard("0", "a.json")) as first,  # type: ignore[arg-type]
        bootstrap(shard("1", "b.json")) as second,  # type: ignore[arg-type]
    ):
        running = [
            asyncio.create_task(run_discord(app.service, app.settings, stop, app.cluster))
            for app in (first, second)
        ]

        # Both shards have their servers (GUILD_CREATE sent) before the users write.
        def created() -> set[int]:
            return {s for s, event, _ in discord_api.delivered if event == "GUILD_CREATE"}

        for _ in range(400):
            if created() == {0, 1}:
                break
            await asyncio.sleep(0.05)
        assert created() == {0, 1}
        await asyncio.sleep(0.5)  # each client has parsed its servers

        sent: dict[str, int] = {}  # message id -> channel
        for turn in range(MESSAGES):
            for channel, guild_id in channels.items():
                payload = message_payload(
                    f"<@{BOT_ID}> c{channel} m{turn}",
                    author_id=42,
                    channel_id=channel,
                    guild_id=guild_id,
                    mentions=MENTION,
                )
                sent[payload["id"]] = channel
                await discord_api.dispatch("MESSAGE_CREATE", payload)

        def finished() -> bool:
            texts = [discord_api.channel_texts(channel) for channel in channels]
            done = sum(t.endswith("earlier messages.") for ts in texts for t in ts)
            return done >= CONVERSATIONS * MESSAGES

        for _ in range(600):
            if finished():
                break
            await asyncio.sleep(0.05)
        stop.set()  # each process finishes the replies it has started, then leaves
        await asyncio.wait_for(asyncio.gather(*running), 20)

    # Each message was answered exactly once, in order, with its channel's earlier turns.
    first_seen = None
    for channel in channels:
        texts = discord_api.channel_texts(channel)
        assert len(texts) == MESSAGES, (channel, texts)
        for turn, text in enumerate(texts):
            said, _, seen = text.removeprefix("You said: ").partition(". I can see ")
            assert said.endswith(f"c{channel} m{turn}"), (channel, texts)
            earlier = int(seen.removesuffix(" earlier messages."))
            if first_seen is None:
                first_seen = earlier
            assert earlier == first_seen + 2 * turn, (channel, texts)
    # Each reply quotes the message it answers: every message quoted by exactly one reply.
    quoted = [
        str(call.json["message_reference"]["message_id"])
        for call in discord_api.calls_to("POST", r"/channels/\d+/messages")
        if isinstance(call.json, dict) and "message_reference" in call.json
    ]
    assert sorted(quoted) == sorted(sent)
    # ... by the process that received it: Discord sent it to the shard owning its server, and
    # a process can answer only what its own shards received.
    received = [(s, d) for s, event, d in discord_api.delivered if event == "MESSAGE_CREATE"]
    assert sorted(d["id"] for _, d in received) == sorted(sent)
    assert all(s == (int(d["guild_id"]) >> 22) % 2 for s, d in received)
    assert {s for s, _ in received} == {0, 1}

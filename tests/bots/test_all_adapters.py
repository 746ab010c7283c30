"""`python -m bots` with both tokens: Telegram and Discord in one process and one event loop,
sharing one core and one database, stopped together by a real SIGTERM."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from pathlib import Path

from bots.__main__ import serve
from config.settings import Settings
from fakes.discord_gateway import message_payload
from fakes.discord_rest import fake_discord
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram

TELEGRAM_USER = 9001
DISCORD_DM = 4444


async def test_both_adapters_share_one_loop_and_stop_on_sigterm(tmp_path: Path) -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    async with FakeOpenAI() as llm, FakeTelegram() as tg, fake_discord() as discord_api:
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            openai_api_key="sk-test",
            openai_base_url=llm.base_url,
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
            telegram_bot_token=tg.token,
            telegram_base_url=tg.base_url,
            telegram_poll_timeout_s=0.5,
            telegram_edit_interval_s=0.1,
            discord_bot_token="test-token",
            discord_edit_interval_s=0.2,
            discord_command_sync_file=tmp_path / "commands.json",
            shutdown_grace_s=5,
        )
        running = asyncio.create_task(serve(settings, "all"))
        await asyncio.wait_for(discord_api.identified.wait(), 15)
        # What start-up built is kept out of the collector's full passes while the bot serves
        # (bots/heap.py), and given back when it stops.
        assert gc.get_freeze_count() > 10_000
        tg.chat(TELEGRAM_USER)
        tg.send_text(TELEGRAM_USER, "my name is Tara")
        await discord_api.dispatch(
            "MESSAGE_CREATE",
            message_payload("my name is Dan", author_id=42, channel_id=DISCORD_DM, guild=False),
        )
        await tg.wait_until(lambda: "Tara" in tg.transcript(TELEGRAM_USER), within=15)
        await discord_api.wait_for_call("POST", rf"/channels/{DISCORD_DM}/messages")
        for _ in range(100):
            if any("Dan" in text for text in discord_api.channel_texts(DISCORD_DM)):
                break
            await asyncio.sleep(0.1)

        os.kill(os.getpid(), signal.SIGTERM)  # what a PaaS sends on deploy
        await asyncio.wait_for(running, 20)
    assert gc.get_freeze_count() == 0

    assert (
        tg.transcript(TELEGRAM_USER) == "You said: my name is Tara. I can see 1 earlier messages."
    )
    assert discord_api.channel_texts(DISCORD_DM) == [
        "You said: my name is Dan. I can see 1 earlier messages."
    ]
    # One core, two conversations: neither saw the other's message.
    contents = [r.body["messages"][-1]["content"] for r in llm.chat_requests]
    assert sorted(contents) == ["my name is Dan", "my name is Tara"]
    assert all(len(r.body["messages"]) == 2 for r in llm.chat_requests)

"""`python -m bots` with two platforms, one of them failing: a real process against the fake
Telegram and the fake Discord. The working platform serves; the failing one is one log line
(retried when the platform is unreachable, given up when its token is rejected); the process
exits non-zero only when no platform can run."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from fakes.discord_rest import fake_discord
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.reliability.process import ConsoleBot

USER = 9001
DISCORD_TOKEN = "discord-secret-token-value"


@pytest.fixture
async def platform_bots(
    llm: FakeOpenAI, tmp_path: Path
) -> AsyncIterator[Callable[..., ConsoleBot]]:
    started: list[ConsoleBot] = []

    def make(tg: FakeTelegram, telegram_token: str, discord_api: str) -> ConsoleBot:
        bot = ConsoleBot(
            {
                "OPENAI_API_KEY": "sk-test-key-123456",
                "OPENAI_BASE_URL": llm.base_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                "TELEGRAM_BOT_TOKEN": telegram_token,
                "TELEGRAM_BASE_URL": tg.root_url,
                "TELEGRAM_POLL_TIMEOUT_S": "0.5",
                "DISCORD_BOT_TOKEN": DISCORD_TOKEN,
                "DISCORD_COMMAND_SYNC_FILE": str(tmp_path / "commands.json"),
                "SHUTDOWN_GRACE_S": "2",
            },
            tmp_path,
            adapter="all",
            discord_api=discord_api,
        )
        started.append(bot)
        return bot

    yield make
    for bot in started:
        await bot.stop()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def answered(tg: FakeTelegram) -> str:
    tg.chat(USER)
    tg.send_text(USER, "hello there")
    await tg.wait_until(lambda: "hello there" in tg.transcript(USER), within=30)
    return tg.transcript(USER)


async def wait_for_line(bot: ConsoleBot, text: str, within_s: float = 30) -> None:
    for _ in range(int(within_s * 10)):
        if text in bot.stderr:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{text!r} never logged:\n{bot.stderr}")


async def test_telegram_serves_while_discord_is_unreachable(
    platform_bots: Callable[..., ConsoleBot],
) -> None:
    async with FakeTelegram() as tg:
        bot = await platform_bots(tg, tg.token, f"http://127.0.0.1:{closed_port()}/api/v10").start()
        assert await answered(tg) == "You said: hello there. I can see 1 earlier messages."
        # Unreachable is worth retrying: the second attempt is logged too, each in one line.
        await wait_for_line(bot, "discord: cannot reach Discord (ClientConnectorError")
        await wait_for_line(bot, "trying again in 4 s")
        bot.signal(signal.SIGTERM)
        assert await bot.wait(30) == 0
    failures = [line for line in bot.stderr.splitlines() if " bots discord" in line]
    assert len(failures) >= 2
    assert all(" WARNING bots discord: cannot reach Discord (" in line for line in failures)
    assert "Traceback" not in bot.stderr and "ExceptionGroup" not in bot.stderr


async def test_telegram_serves_while_discord_rejects_the_token(
    platform_bots: Callable[..., ConsoleBot],
) -> None:
    async with FakeTelegram() as tg, fake_discord() as discord_api:
        discord_api.fail_next("GET", "/users/@me", 401)
        bot = await platform_bots(tg, tg.token, discord_api.base_url).start()
        assert await answered(tg) == "You said: hello there. I can see 1 earlier messages."
        await wait_for_line(bot, "Discord rejected DISCORD_BOT_TOKEN")
        await asyncio.sleep(3)  # a rejected token is not tried again
        assert len(discord_api.calls_to("GET", "/users/@me")) == 1
        assert bot.process is not None and bot.process.returncode is None
        bot.signal(signal.SIGTERM)
        assert await bot.wait(30) == 0
    assert "Traceback" not in bot.stderr and DISCORD_TOKEN not in bot.stderr


async def test_with_every_token_rejected_the_process_exits_non_zero(
    platform_bots: Callable[..., ConsoleBot],
) -> None:
    async with FakeTelegram() as tg, fake_discord() as discord_api:
        discord_api.fail_next("GET", "/users/@me", 401)
        bot = await platform_bots(tg, "999:WRONG-TOKEN-VALUE", discord_api.base_url).start()
        assert await bot.wait(60) == 1
    errors = [
        line.split(" ERROR bots ", 1)[1]
        for line in bot.stderr.splitlines()
        if " ERROR bots " in line
    ]
    assert len(errors) == 3 and errors[-1] == "no adapter could start: fix the settings named above"
    assert set(errors[:2]) == {  # in whichever order the platforms answered
        # the adapter's own line (bots/telegram_adapter/startup.py refused_token)
        "telegram cannot run: TELEGRAM_BOT_TOKEN: Telegram rejected this token; copy it again "
        "from @BotFather",
        "discord cannot run: Discord rejected DISCORD_BOT_TOKEN: reset and copy it in "
        "the Developer Portal (Bot → Token)",
    }
    assert "Traceback" not in bot.stderr
    assert "WRONG-TOKEN-VALUE" not in bot.stderr and DISCORD_TOKEN not in bot.stderr

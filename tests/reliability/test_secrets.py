"""Secrets never leave the process: run the real bot with recognizable fake secrets, provoke
errors that tend to echo them (a provider error quoting the key, a database that goes away), and
grep everything the bot wrote — stdout, stderr and logs, replies, the database — for them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.conftest import POSTGRES_URL
from tests.reliability.postgres import admin_sql, own_database, terminate
from tests.reliability.process import ROOT, ConsoleBot
from tests.reliability.test_database_faults import hold_sqlite_write_lock

SECRETS = {
    "OPENAI_API_KEY": "sk-proj-SECRETopenai0123456789abcdef",
    "TELEGRAM_BOT_TOKEN": "7000000001:SECRETtelegramTokenABCDEFGHIJ",
    "TELEGRAM_WEBHOOK_SECRET": "SECRETwebhook0123456789",
    "DISCORD_BOT_TOKEN": "SECRETdiscord.TOKEN.0123456789abcdef",
    "USER_IDENTIFIER_SALT": "SECRETsalt0123456789",
}
DB_PASSWORD = "SECRETdbPassword0123"
USER = 42


async def database_text(url: str) -> str:
    """Every text value in every table, as one string."""
    engine = create_async_engine(url)
    chunks: list[str] = []
    async with engine.connect() as connection:
        for table in ("conversations", "messages", "usage", "custom_personas"):
            rows = (await connection.execute(text(f"SELECT * FROM {table}"))).all()
            chunks += [repr(tuple(row)) for row in rows]
    await engine.dispose()
    return "\n".join(chunks)


@pytest.mark.postgres
async def test_no_secret_in_output_logs_replies_or_database(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    # Trust authentication ignores the password, so a real one can be in the URL.
    async with own_database(POSTGRES_URL, password=DB_PASSWORD) as (url, admin_url):
        name = make_url(url).database or ""
        bot = ConsoleBot(
            {
                **SECRETS,
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_MAX_RETRIES": "0",
                "DATABASE_URL": url.replace("postgresql+asyncpg://", "postgres://"),
                "DATABASE_RETRY_S": "0.3",
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                "LOG_LEVEL": "DEBUG",
            },
            tmp_path,
        )
        await bot.start()
        try:
            await bot.send("hello")
            await bot.read_until("You said: hello.")
            # A provider that quotes the key back, as some OpenAI-compatible servers do.
            llm.fail_next(400, message=f"Bad key {SECRETS['OPENAI_API_KEY']} for this model")
            await bot.send("first")
            await bot.read_until("The AI service rejected the request.")
            llm.fail_next(401, count=2)
            for attempt in ("second", "again"):
                await bot.send(attempt)
                await bot.read_until("The bot can't sign in to the AI service.")
            # The database goes away mid-run.
            await admin_sql(
                admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false', terminate(name)
            )
            await bot.send("third")
            await bot.read_until("I couldn't reach my memory (database).")
            await admin_sql(admin_url, f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            for command in ("/settings", "/usage", "/model", "/nosuchcommand", "/models"):
                await bot.send(command)
            await bot.send("back again")
            await bot.read_until("You said: back again.")
            bot.signal(signal.SIGTERM)
            assert await bot.wait(10) == 0
            stdout = "\n".join(bot.output) + await bot.rest_of_output()
            stored = await database_text(url)
        finally:
            await bot.stop()
    stderr = bot.stderr
    assert "storage" in stderr and "provider openai failed" in stderr  # the errors were logged...
    assert "Traceback" in stderr  # ...with their tracebacks
    # The owner is told once that the key was refused, however many turns fail for it.
    assert stderr.count("ERROR core.turn the AI service refused this bot (auth)") == 1
    for label, secret in [*SECRETS.items(), ("DATABASE_URL password", DB_PASSWORD)]:
        for where, written in (("stdout", stdout), ("stderr", stderr), ("database", stored)):
            assert secret not in written, f"{label} leaked to {where}"
    # The key really was sent to the provider (so the test could have caught a leak).
    assert llm.chat_requests[0].api_key == SECRETS["OPENAI_API_KEY"]


async def test_the_telegram_adapter_writes_no_secret_either(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    """The Telegram token is part of every Bot API URL: the classic leak."""
    token = SECRETS["TELEGRAM_BOT_TOKEN"]
    db = tmp_path / "bot.db"
    async with FakeTelegram(token=token) as tg:
        bot = ConsoleBot(
            {
                **SECRETS,
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_MAX_RETRIES": "0",
                "DATABASE_URL": f"sqlite:///{db}",
                "DATABASE_RETRY_S": "0.3",
                "TELEGRAM_BASE_URL": tg.root_url,
                "TELEGRAM_POLL_TIMEOUT_S": "1",
                "TELEGRAM_EDIT_INTERVAL_S": "0.2",
                "DISCORD_BOT_TOKEN": "",
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                "LOG_LEVEL": "DEBUG",
            },
            tmp_path,
            adapter="telegram",
        )
        await bot.start()
        try:
            await tg.wait_until(lambda: bool(tg.calls_to("getUpdates")), within=20)

            async def ask(text: str, expect: str) -> None:
                tg.send_text(USER, text)
                await tg.wait_until(lambda: expect in tg.transcript(USER), within=10)

            await ask("hello", "You said: hello.")
            llm.fail_next(400, message=f"Bad key {SECRETS['OPENAI_API_KEY']} for this model")
            await ask("first", "The AI service rejected the request.")
            llm.fail_next(401)
            await ask("second", "The bot can't sign in to the AI service.")
            tg.fail_next("sendMessage", 500, "Internal Server Error")
            tg.fail_next("sendMessage", 400)  # entities refused: plain-text fallback
            await ask("third **bold**", "You said: third")
            thread = hold_sqlite_write_lock(db, 1.5)
            await ask("fourth", "I couldn't reach my memory (database).")
            thread.join()
            bot.signal(signal.SIGTERM)
            assert await bot.wait(15) == 0
        finally:
            await bot.stop()
        sent = repr([call.params for call in tg.calls])
    stdout = await bot.rest_of_output()
    stderr = bot.stderr
    stored = await database_text(f"sqlite+aiosqlite:///{db}")
    assert "provider openai failed" in stderr and "storage failed" in stderr
    for label, secret in SECRETS.items():
        for where, written in (
            ("stdout", stdout),
            ("stderr", stderr),
            ("the database", stored),
            ("Telegram messages", sent),
        ):
            assert secret not in written, f"{label} leaked to {where}"


# issue 11 item 8: a token Telegram refuses, a wrong TELEGRAM_BASE_URL, any uncaught exception.


@pytest.mark.parametrize(
    ("base_path", "named"),
    [("", "TELEGRAM_BOT_TOKEN"), ("/not/the/bot/api", "TELEGRAM_BASE_URL")],
    ids=["401-token-refused", "404-wrong-base-url"],
)
async def test_a_refused_token_or_wrong_base_url_is_named_without_the_token(
    llm: FakeOpenAI, tmp_path: Path, base_path: str, named: str
) -> None:
    token = SECRETS["TELEGRAM_BOT_TOKEN"]
    # The fake knows another token, so it answers 401 (or 404 below a wrong path) for ours.
    async with FakeTelegram(token="7000000002:anotherTokenTheServerKnows") as tg:
        bot = ConsoleBot(
            {
                **SECRETS,
                "OPENAI_BASE_URL": llm.base_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
                "TELEGRAM_BASE_URL": tg.root_url + base_path,
                "DISCORD_BOT_TOKEN": "",
                "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
                "LOG_LEVEL": "DEBUG",
            },
            tmp_path,
            adapter="telegram",
        )
        await bot.start()
        try:
            code = await bot.wait(30)
            stdout = await bot.rest_of_output()
        finally:
            await bot.stop()
        # The token really went out (so a leak was possible).
        assert any(token in path for path in tg.refused)
    written = stdout + bot.stderr
    assert code != 0
    assert named in written
    assert token not in written
    assert token.split(":")[1] not in written  # not even the part after the bot id


def test_an_uncaught_exception_prints_no_secret(tmp_path: Path) -> None:
    """Python's own traceback printing bypasses the log filter: the entry point replaces it."""
    token = SECRETS["TELEGRAM_BOT_TOKEN"]
    crash = (
        "import os, sys, threading\n"
        "import bots.__main__ as entry\n"
        "def in_thread():\n"
        "    raise RuntimeError(os.environ['T'])\n"
        "def boom(*args):\n"
        "    threading.Thread(target=in_thread).start()\n"
        "    raise RuntimeError('token ' + os.environ['TELEGRAM_BOT_TOKEN'])\n"
        "entry.load_settings = boom\n"
        "sys.exit(entry.main(['telegram']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", crash],
        env={
            **{k: v for k, v in os.environ.items() if not k.endswith(("_KEY", "_TOKEN"))},
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": token,
            "T": token,
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    written = result.stdout + result.stderr
    assert result.returncode != 0
    assert "RuntimeError: token [REDACTED]" in written  # the traceback is still there...
    assert token not in written  # ...without the secret, in the main thread and in another

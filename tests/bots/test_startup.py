"""Starting `python -m bots` as a newcomer does, in a real process: what cannot work is one line
naming the setting (every such setting at once), a database that starts late is waited for,
and doubtful settings are warned about."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from fakes.openai_server import FakeOpenAI
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
NO_PLATFORM = (
    "configuration error: TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN: neither is set, and there is "
    "no terminal or piped input for the console chat: set at least one of them"
)


def bot_env(workdir: Path, **env: str) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_KEY", "_TOKEN")) and k not in ("DYNO", "RENDER", "FLY_APP_NAME")
    }
    return {
        **inherited,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "sk-startup-test-key",
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "TIKTOKEN_CACHE_DIR": str(workdir / "tiktoken"),
        "LANG": "en_US.UTF-8",
        **env,
    }


def start(
    workdir: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots", *args],
        cwd=workdir,
        env=bot_env(workdir, **env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_worker_without_a_token_or_input_fails_in_one_line(tmp_path: Path) -> None:
    """As on a PaaS: no token, stdin empty. It used to print "starting console" and exit 0."""
    result = start(tmp_path)
    assert (result.returncode, result.stderr.strip().splitlines()) == (2, [NO_PLATFORM])
    on_heroku = start(tmp_path, stdin="hello\n", DYNO="worker.1")
    assert (on_heroku.returncode, on_heroku.stderr.strip()) == (2, NO_PLATFORM)


async def test_piped_lines_still_chat_and_stdout_holds_only_replies(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    """`printf 'Hi\\n' | python -m bots` as the README shows; log lines go to stderr."""
    result = await asyncio.to_thread(
        start, tmp_path, stdin="Hi\n/tokens hello\n", OPENAI_BASE_URL=llm.base_url
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "You said: Hi. I can see 1 earlier messages."
    assert result.stdout.splitlines()[1].startswith("1 tokens, 5 characters")
    assert len(result.stdout.splitlines()) == 2
    assert "INFO core.turn turn key=console:local" in result.stderr


def test_every_unusable_setting_is_one_line_at_once(tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where a folder should be")
    result = start(
        tmp_path,
        "console",
        stdin="hi\n",
        DEFAULT_PERSONA="nobody",
        TIKTOKEN_CACHE_DIR=str(blocked / "tiktoken"),
        DATABASE_URL=f"sqlite:///{blocked / 'sub' / 'bot.db'}",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert [line.split(":")[1].strip() for line in lines] == [
        "TIKTOKEN_CACHE_DIR",
        "DEFAULT_PERSONA",
        "DATABASE_URL",
    ]
    assert all(line.startswith("configuration error: ") for line in lines)
    assert "'nobody' is not in config/personas.toml (one of: assistant," in lines[1]


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        (f"127.0.0.1:{closed_port()}", "refused the connection"),
        ("no-such-host.invalid", "unknown database host 'no-such-host.invalid'"),
    ],
)
def test_an_unreachable_database_is_waited_for_then_one_line(
    tmp_path: Path, host: str, reason: str
) -> None:
    result = start(
        tmp_path,
        "console",
        stdin="hi\n",
        DATABASE_URL=f"postgresql://bot:pw-secret-1234@{host}/bot",
        DATABASE_RETRY_S="2",
    )
    assert result.returncode == 1
    waiting, error = result.stderr.strip().splitlines()
    assert "WARNING core.storage database not ready (" in waiting and reason in waiting
    assert error.startswith("cannot start: DATABASE_URL: ") and reason in error
    assert error.endswith(
        "(still after DATABASE_RETRY_S=2 s): check that the database is running and "
        "DATABASE_URL's host and port"
    )
    assert "pw-secret-1234" not in result.stderr


@pytest.mark.postgres
def test_a_missing_database_is_one_line_at_once(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    url = make_url(POSTGRES_URL).set(database="no_such_database_h5")
    result = start(
        tmp_path,
        "console",
        stdin="hi\n",
        DATABASE_URL=url.render_as_string(hide_password=False),
        DATABASE_RETRY_S="30",
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"cannot start: DATABASE_URL: database 'no_such_database_h5' does not exist at "
        f"{url.host}:{url.port or 5432}: create it"
    ]


@contextlib.asynccontextmanager
async def tcp_proxy(port: int, target_host: str, target_port: int) -> AsyncIterator[None]:
    """A database "starting" on `port`: forwards every connection to the real server."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    server = await asyncio.start_server(forward, "127.0.0.1", port)
    async with server:
        yield


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_database_that_starts_after_the_bot_is_waited_for(
    llm: FakeOpenAI, tmp_path: Path, database_url: str
) -> None:
    real = make_url(database_url)
    port = closed_port()
    late = real.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=tmp_path,
        env=bot_env(tmp_path, DATABASE_URL=late, OPENAI_BASE_URL=llm.base_url),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdin is not None
    waiting = await asyncio.wait_for(process.stderr.readline(), 60)
    assert b"database not ready" in waiting and b"refused the connection" in waiting
    async with tcp_proxy(port, real.host or "127.0.0.1", real.port or 5432):
        stdout, _ = await asyncio.wait_for(process.communicate(b"hello\n"), 60)
    assert process.returncode == 0
    assert stdout.decode() == "You said: hello. I can see 1 earlier messages.\n"


def test_doubtful_settings_are_warned_about_at_start(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OPENAI_API_KEYS=sk-x\nALLOWED_USERS=*\n")
    result = start(
        tmp_path,
        "console",
        stdin="/start\n",
        RAILWAY_ENVIRONMENT="production",
        ALLOWED_TELEGRAM_USER_IDS="12345",
    )
    assert result.returncode == 0, result.stderr
    warnings = [
        line.split(" WARNING bots ", 1)[1]
        for line in result.stderr.splitlines()
        if " WARNING bots " in line
    ]
    assert warnings == [
        "DATABASE_URL: SQLite on Railway, whose disk is wiped at each deploy, so the bot would "
        "forget every conversation: add PostgreSQL and set DATABASE_URL to it",
        "ALLOWED_USERS=*: everyone may use the bot (the same as leaving it empty)",
        "ALLOWED_TELEGRAM_USER_IDS is not a setting of this bot and is ignored; use ALLOWED_USERS",
        "OPENAI_API_KEYS in .env is not a setting of this bot and is ignored; did you mean "
        "OPENAI_API_KEY?",
    ]
    # `*` means everyone: the console user is answered, not refused.
    assert result.stdout.strip() and "this bot is private" not in result.stdout


def test_the_web_process_needs_a_webhook_url(tmp_path: Path) -> None:
    """The Procfile's `web:` entry: a PaaS routes a port to it, so polling there is an error."""
    result = start(tmp_path, "web", TELEGRAM_BOT_TOKEN="123:abc-secret-token")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: TELEGRAM_WEBHOOK_URL: not set, and the web process answers "
        "Telegram by webhook: set it to https://<your app's host>/telegram, or run the worker "
        "process instead (long polling)"
    ]
    procfile = (ROOT / "Procfile").read_text().splitlines()
    assert procfile == [
        "worker: python -m bots",
        "web: python -m bots web",
        "telegram: python -m bots telegram",  # scaled out: N webhook processes (README, Scaling)
        "discord: python -m bots discord",  # shards per process by DISCORD_SHARD_IDS
    ]

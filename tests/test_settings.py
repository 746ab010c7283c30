"""Configuration: PaaS-style URLs, clear one-line errors, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from config.settings import ConfigError, load_settings, normalize_database_url
from config.startup_warnings import startup_warnings
from core.storage.engine import asyncpg_connect_args, open_database
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@host:5432/db", "postgresql+asyncpg://u:p@host:5432/db"),
        ("postgresql://u:p@host/db", "postgresql+asyncpg://u:p@host/db"),
        ("postgresql+psycopg2://u@host/db", "postgresql+asyncpg://u@host/db"),
        ("sqlite:///bot.db", "sqlite+aiosqlite:///bot.db"),
        ("", "sqlite+aiosqlite:///gptbot.db"),
    ],
)
def test_database_urls_pick_the_async_driver(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: unsupported database 'mysql'"),
        ("OPENAI_BASE_URL", "localhost:11434", "OPENAI_BASE_URL: must start with http://"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: must be one of DEBUG"),
        ("MODEL_CONTEXT_WINDOW", "lots", "MODEL_CONTEXT_WINDOW: Input should be a valid integer"),
    ],
)
def test_bad_configuration_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert str(error.value).startswith(message)


def test_lists_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_USERS", "12, telegram:34 ,")
    assert load_settings(_env_file=None).allowed_users == {"12", "telegram:34"}


def test_a_bad_start_prints_one_line_and_no_secret(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OPENAI_API_KEY": "sk-very-secret-value-1",
        "TELEGRAM_BOT_TOKEN": "123:secret-telegram-token",
        "MODEL_CONTEXT_WINDOW": "-5",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bots", "console"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "configuration error: MODEL_CONTEXT_WINDOW: Input should be greater than or equal to 256"
    ]
    assert "secret" not in result.stdout + result.stderr


def test_every_bad_variable_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    monkeypatch.setenv("MODEL_CONTEXT_WINDOW", "lots")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@host/db?sslmode=required")
    with pytest.raises(ConfigError) as error:
        load_settings(_env_file=None)
    assert error.value.problems == [
        "DATABASE_URL: sslmode must be one of disable, allow, prefer, require, verify-ca, "
        "verify-full",
        "MODEL_CONTEXT_WINDOW: Input should be a valid integer, unable to parse string as an "
        "integer",
        "LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
    ]


def test_a_star_allows_everyone_but_makes_no_one_an_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_USERS", "*")
    monkeypatch.setenv("ALLOWED_CHATS", "12, *")
    settings = load_settings(_env_file=None)
    assert settings.allowed_users == frozenset() and settings.allowed_chats == frozenset()
    monkeypatch.setenv("ADMIN_USERS", "*")
    with pytest.raises(ConfigError, match=r"ADMIN_USERS: list the owners' ids"):
        load_settings(_env_file=None)


def test_look_alike_variables_are_warned_about_and_others_are_not(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=1:x\nDISCORD_TOKEN=abc\nFOO=1\n")
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/root",
        "OPENAI_ORG_ID": "org-1",  # read by the openai client itself
        "DATABASE_PUBLIC_URL": "postgres://x",  # Railway's
        "PORT": "5000",
        "LOGLEVEL": "DEBUG",
        "TELEGRAM_WEBHOOK": "https://x",
        "ADMIN_USER_IDS": "1",
    }
    settings = load_settings(_env_file=None)
    assert startup_warnings(settings, environ, env_file) == [
        "ADMIN_USER_IDS is not a setting of this bot and is ignored; use ADMIN_USERS",
        "LOGLEVEL is not a setting of this bot and is ignored; did you mean LOG_LEVEL?",
        "TELEGRAM_WEBHOOK is not a setting of this bot and is ignored; did you mean "
        "TELEGRAM_WEBHOOK_URL?",
        "DISCORD_TOKEN in .env is not a setting of this bot and is ignored; use DISCORD_BOT_TOKEN",
        "FOO in .env is not a setting of this bot and is ignored; see .env.example for the "
        "settings",
    ]


# issue 11 item 18: hosted PostgreSQL URLs carry libpq parameters asyncpg.connect() does not take.
HOSTED = (
    "postgresql+asyncpg://u:p@ep-x.neon.tech/db?sslmode=require&channel_binding=require"
    "&connect_timeout=10&application_name=gptbot&options=-c%20statement_timeout%3D5000"
    "&prepared_statement_cache_size=0"
)


def test_libpq_parameters_become_asyncpg_arguments() -> None:
    url, connect_args = asyncpg_connect_args(make_url(HOSTED))
    assert dict(url.query) == {"prepared_statement_cache_size": "0"}  # asyncpg's own: kept
    assert connect_args == {
        "dsn": "postgresql://?sslmode=require&application_name=gptbot",
        "timeout": 10.0,
        "server_settings": {"statement_timeout": "5000"},
    }


@pytest.mark.postgres
@pytest.mark.parametrize("sslmode", ["disable", "prefer"])
async def test_a_hosted_style_url_reaches_the_server(sslmode: str) -> None:
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    query = (
        f"sslmode={sslmode}&channel_binding=prefer&connect_timeout=10"
        "&application_name=gptbot-h18&options=-c%20statement_timeout%3D4321"
    )
    database = open_database(f"{normalize_database_url(POSTGRES_URL)}?{query}")
    asked = text("select current_setting('application_name'), current_setting('statement_timeout')")
    try:
        shown = await database.run(lambda c: c.execute(asked).one())
    finally:
        await database.dispose()
    assert tuple(shown) == ("gptbot-h18", "4321ms")

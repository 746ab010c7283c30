"""Configuration: PaaS-style URLs, clear one-line errors, secrets never shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings, normalize_database_url

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

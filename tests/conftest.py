"""Shared fixtures: real databases (a SQLite file; PostgreSQL when TEST_DATABASE_URL is set),
the fake OpenAI server, and a whole bot built by the real bootstrap."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import Settings, normalize_database_url
from core.bootstrap import App, bootstrap
from fakes.openai_server import FakeOpenAI

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    url = normalize_database_url(POSTGRES_URL)
    await _reset_postgres(url)
    return url


@pytest.fixture
def make_settings(database_url: str, llm: FakeOpenAI, tmp_path: Path) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "openai_api_key": "sk-test-key-123456",
            "openai_base_url": llm.base_url,
            "openai_max_retries": 0,
            "rate_limit_user_commands_per_min": 0,  # tests fire commands faster than people do
            "openai_timeout_s": 5,
            "database_url": database_url,
            "tiktoken_cache_dir": tmp_path / "tiktoken",
            "_env_file": None,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def make_app(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractAsyncContextManager[App]]:
    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[App]:
        async with bootstrap(make_settings(**overrides)) as app:
            yield app

    return build


@pytest.fixture
async def app(make_app: Callable[..., AbstractAsyncContextManager[App]]) -> AsyncIterator[App]:
    async with make_app() as built:
        yield built

"""Fixtures of the web tools' tests: the fake web (search APIs and a site), a call context,
and the tools built from settings by the real factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from config.settings import Settings
from core.boundary import ConversationKey
from core.tools.base import Tool, ToolCallContext
from core.tools.web_tools import WebTools, web_tools
from fakes.search_server import FakeDNS, FakeSearch

CONTEXT = ToolCallContext(
    key=ConversationKey("console", "1"),
    user_id="1",
    is_private=True,
    is_owner=False,
    timezone="UTC",
    now=datetime(2026, 12, 7, 12, 0, tzinfo=UTC),
)


@pytest.fixture
async def web() -> AsyncIterator[FakeSearch]:
    async with FakeSearch() as server:
        yield server


def web_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"_env_file": None, "web_fetch_timeout_s": 10}
    values.update(overrides)
    return Settings(**values)


ToolsFactory = Callable[..., AbstractAsyncContextManager[WebTools]]


@pytest.fixture
def make_tools() -> ToolsFactory:
    """`async with make_tools(resolver=..., **settings) as source:` the real factory's source."""

    @asynccontextmanager
    async def build(resolver: FakeDNS | None = None, **overrides: Any) -> AsyncIterator[WebTools]:
        async with web_tools(web_settings(**overrides), resolver=resolver) as source:
            yield source

    return build


def tool(source: WebTools, name: str) -> Tool:
    (found,) = [each for each in source.tools() if each.spec.name == name]
    return found

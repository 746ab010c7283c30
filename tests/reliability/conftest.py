"""Fixtures of the reliability suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import POSTGRES_URL
from tests.reliability.postgres import own_database


@pytest.fixture
async def own_postgres() -> AsyncIterator[tuple[str, str]]:
    """A fresh PostgreSQL database of our own (tests make it refuse connections), and the
    server's admin URL."""
    if not POSTGRES_URL:
        pytest.skip("needs TEST_DATABASE_URL")
    async with own_database(POSTGRES_URL) as urls:
        yield urls

"""A PostgreSQL database of a test's own, which it may make refuse connections or drop."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import normalize_database_url


@asynccontextmanager
async def own_database(server_url: str, password: str = "") -> AsyncIterator[tuple[str, str]]:
    """(URL of a fresh database, admin URL of the server); dropped on exit."""
    base = make_url(normalize_database_url(server_url))
    admin_url = base.set(database="postgres").render_as_string(hide_password=False)
    name = f"rel_fault_{uuid.uuid4().hex[:10]}"
    await admin_sql(admin_url, f'CREATE DATABASE "{name}"')
    own = base.set(database=name, password=password or base.password)
    try:
        yield own.render_as_string(hide_password=False), admin_url
    finally:
        await admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def admin_sql(admin_url: str, *statements: str) -> None:
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await admin.dispose()


def terminate(name: str) -> str:
    """SQL that ends every other session on database `name` (what a server restart does)."""
    return (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    )

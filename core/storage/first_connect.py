"""The first connection, at start-up: wait for a database that is still starting (on a PaaS the
worker often starts before its database), and explain in one line one that cannot be used."""

from __future__ import annotations

import asyncio
import logging
import socket

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.storage.engine import Database, migrate
from core.storage.retry import is_transient

log = logging.getLogger("core.storage")

MAX_DELAY_S = 5.0


class DatabaseUnusable(Exception):
    """The database cannot be used; the message is one line: what is wrong and what to do."""


async def migrate_when_reachable(database: Database, database_url: str, retry_s: float) -> None:
    """Run the migrations, retrying a database that cannot be reached yet for `retry_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_s
    delay = 0.5
    waited = False
    while True:
        try:
            await migrate(database)
            return
        except (SQLAlchemyError, OSError) as error:
            reason, waiting_helps = explain(error, database_url)
            if not waiting_helps:
                raise DatabaseUnusable(reason) from error
            left = deadline - loop.time()
            if left <= 0:
                raise DatabaseUnusable(
                    f"{reason} (still after DATABASE_RETRY_S={retry_s:g} s): check that the "
                    "database is running and DATABASE_URL's host and port"
                ) from error
            if not waited:  # one line, not one per attempt
                log.warning("database not ready (%s); waiting for it up to %.0f s", reason, left)
            waited = True
            await asyncio.sleep(min(delay, left))
            delay = min(delay * 2, MAX_DELAY_S)


def explain(error: BaseException, database_url: str) -> tuple[str, bool]:
    """One line for a failed first connection (never the password), and whether waiting for
    the database may help."""
    url = make_url(database_url)
    where = f"{url.host}:{url.port or 5432}" if url.host else str(url.database)
    cause = _driver_error(error)
    text = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if isinstance(cause, socket.gaierror):
        return f"unknown database host {url.host!r}", True
    if isinstance(cause, ConnectionRefusedError):
        return f"the database at {where} refused the connection", True
    if "rejected SSL upgrade" in text:
        return (
            f"the database at {where} does not offer SSL: use sslmode=prefer (or disable) in "
            "DATABASE_URL",
            False,
        )
    if isinstance(cause, TimeoutError):
        return f"no answer from the database at {where}", True
    if "does not exist" in text and "database" in text:
        return f"database {url.database!r} does not exist at {where}: create it", False
    if "password" in text or "role" in text or "authentication" in text:
        return f"the database at {where} refused the login ({text}): check DATABASE_URL", False
    if "unable to open database file" in text:
        return f"cannot open the SQLite file {url.database!r}: check its folder's permissions", (
            False
        )
    return f"cannot use the database at {where}: {text}", is_transient(error)


def _driver_error(error: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrappers."""
    seen = error
    if isinstance(seen, DBAPIError) and isinstance(seen.orig, BaseException):
        seen = seen.orig
    while seen.__cause__ is not None and not isinstance(seen, OSError):
        seen = seen.__cause__
    return seen

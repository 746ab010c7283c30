"""Bounded retries for a database that is briefly locked, restarting or unreachable, and the
stores' common base: every public method of a store is one transaction, retried."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from core.storage.engine import Database
from core.storage.errors import StorageError, StorageUnavailable

log = logging.getLogger("core.storage")

Method = TypeVar("Method", bound=Callable[..., Awaitable[Any]])

# Substrings of driver messages that mean "try again shortly", not "this query is wrong".
TRANSIENT_MESSAGES = (
    "database is locked",
    "database is busy",
    "not currently accepting connections",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "terminating connection",
    "connection was closed",
    "connection is closed",
    "underlying connection is closed",
    "cannot connect now",
)
FIRST_DELAY_S = 0.05
MAX_DELAY_S = 1.0


class Store:
    """A group of reads and writes over one database; see `retried`."""

    def __init__(self, database: Database, retry_s: float = 30.0) -> None:
        self.database = database
        self.retry_s = retry_s


def is_transient(error: BaseException) -> bool:
    if isinstance(error, OSError):  # refused, reset or timed out while connecting
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        text = str(error.orig).lower()
        return any(part in text for part in TRANSIENT_MESSAGES)
    return False


def retried(method: Method) -> Method:
    """Retry a store's call on transient faults for up to `self.retry_s` seconds; what still
    fails is raised as a StorageError.

    Every store method is one short transaction, so running it again is safe: a failed
    attempt was rolled back. The one ambiguous case is a connection lost after COMMIT was sent
    but before it was acknowledged: a retried insert may then be stored twice (or, with a
    platform message id, be taken for a redelivery); never a half-written turn.
    """

    @functools.wraps(method)
    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        deadline = time.monotonic() + self.retry_s
        delay = FIRST_DELAY_S
        attempt = 1
        while True:
            try:
                return await method(self, *args, **kwargs)
            except (SQLAlchemyError, OSError) as error:
                if not is_transient(error) or time.monotonic() + delay > deadline:
                    if isinstance(error, OSError):
                        raise StorageUnavailable(f"{type(error).__name__}: {error}") from error
                    raise StorageError(f"{method.__name__}: {_short(error)}") from error
                log.warning(
                    "storage %s failed (attempt %d), retrying in %.2fs: %s",
                    method.__name__,
                    attempt,
                    delay,
                    _short(error),
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)
            attempt += 1

    return cast(Method, call)


def _short(error: BaseException) -> str:
    if isinstance(error, DBAPIError):
        error = error.orig if isinstance(error.orig, BaseException) else error
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]

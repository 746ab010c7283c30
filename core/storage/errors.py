"""The storage package's own errors: callers never see a driver's or SQLAlchemy's exceptions."""

from __future__ import annotations


class StorageError(Exception):
    """Storage could not do what was asked (the database failed, was unreachable or is closed).

    The message is for the log, never for a chat.
    """


class StorageUnavailable(StorageError):
    """The database could not be reached within the retry time (a connect that kept failing)."""


class DatabaseClosed(StorageError):
    """The bot is stopping: no transaction starts any more."""

"""Logging for the bot process: one line per event, secrets redacted wherever they appear."""

from __future__ import annotations

import logging
import os
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType

from sqlalchemy.engine import make_url

from config.providers import provider_api_key
from config.settings import Settings
from core.log_context import current_conversation

# Variables whose values are secrets, known before the settings are read (see
# redact_uncaught_exceptions).
SECRET_VARIABLES = (
    "OPENAI_API_KEY",
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_WEBHOOK_SECRET",
    "DISCORD_BOT_TOKEN",
    "USER_IDENTIFIER_SALT",
    "WEB_CONSOLE_TOKEN",
    "WEB_CONSOLE_PASSWORD_HASH",
)
MIN_SECRET_LEN = 6  # shorter values would redact ordinary words

# Every secret this process knows of; uncaught exceptions are redacted with it.
_known_secrets: set[str] = set()

# Libraries that log full request URLs (the Telegram token is part of every Bot API URL).
# The MCP SDK logs every message it sends (a tool's arguments) at DEBUG.
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "telegram.ext", "discord.http", "openai", "mcp")


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record's final text with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True
        )

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        for secret in self._secrets:
            message = message.replace(secret, "[REDACTED]")
            if record.exc_text:
                record.exc_text = record.exc_text.replace(secret, "[REDACTED]")
            if record.stack_info:
                record.stack_info = record.stack_info.replace(secret, "[REDACTED]")
        record.msg, record.args = message, None
        return True


class ConversationTag(logging.Filter):
    """Adds `conversation`: "[platform:chat:thread] " inside a conversation's work, else ""."""

    def filter(self, record: logging.LogRecord) -> bool:
        key = current_conversation.get()
        record.conversation = f"[{key}] " if key else ""
        return True


def redact(text: str) -> str:
    """`text` with every secret this process knows of replaced by [REDACTED]."""
    for secret in sorted(_known_secrets, key=len, reverse=True):
        text = text.replace(secret, "[REDACTED]")
    return text


def _remember(secrets: Iterable[str]) -> None:
    _known_secrets.update(s for s in secrets if len(s) >= MIN_SECRET_LEN)


def _print_redacted(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    text = "".join(traceback.format_exception(kind, error, trace))
    sys.stderr.write(redact(text))
    sys.stderr.flush()


def _print_redacted_thread_error(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        sys.stderr.write(f"uncaught exception in thread {args.thread!r}:\n")
        _print_redacted(args.exc_type, args.exc_value, args.exc_traceback)


def _print_redacted_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    if unraisable.exc_value is not None:
        sys.stderr.write(redact(f"{unraisable.err_msg or 'unraisable exception'}:\n"))
        _print_redacted(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)


def redact_uncaught_exceptions() -> None:
    """Print uncaught exceptions (any thread, and unraisable ones) with every known secret
    redacted: Python's own printing of a traceback bypasses the log filter, and libraries put
    secrets in exception messages (PTB's InvalidToken quotes the token).

    The secrets known now are read from the environment; configure_logging adds the settings'
    own (a .env file, the database password).
    """
    _remember(os.environ.get(name, "") for name in SECRET_VARIABLES)
    password = _database_password_or_none(os.environ.get("DATABASE_URL", ""))
    if password:
        _remember([password])
    sys.excepthook = _print_redacted
    threading.excepthook = _print_redacted_thread_error
    sys.unraisablehook = _print_redacted_unraisable


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.openai_api_key.get_secret_value(),
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_webhook_secret.get_secret_value(),
        settings.discord_bot_token.get_secret_value(),
        settings.user_identifier_salt.get_secret_value(),
        settings.web_console_token.get_secret_value(),
        settings.web_console_password_hash.get_secret_value(),
    ]
    values += [provider_api_key(config) for config in settings.providers.values()]
    values += [
        secret for server in settings.mcp_config.servers.values() for secret in server.secrets()
    ]
    password = _database_password(settings.database_url)
    if password:
        values.append(password)
    return values


def _database_password(url: str) -> str | None:
    password = make_url(url).password
    return str(password) if password else None


def _database_password_or_none(url: str) -> str | None:
    try:
        return _database_password(url) if url else None
    except Exception:  # a malformed URL is reported by the settings, not here
        return None


def configure_logging(settings: Settings) -> None:
    secrets = secrets_of(settings)
    _remember(secrets)
    handler = logging.StreamHandler(sys.stderr)
    # The process id and the conversation: several processes write to one PaaS log stream.
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(process)d %(conversation)s%(levelname)s %(name)s %(message)s"
        )
    )
    handler.addFilter(ConversationTag())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

"""Logging for the bot process: one line per event, secrets redacted wherever they appear."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from sqlalchemy.engine import make_url

from config.settings import Settings

# Libraries that log full request URLs (the Telegram token is part of every Bot API URL).
CHATTY_LOGGERS = ("httpx", "httpx2", "httpcore", "telegram.ext", "discord.http", "openai")


class RedactSecrets(logging.Filter):
    """Replace every known secret in a record's final text with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

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
        record.msg, record.args = message, None
        return True


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.openai_api_key.get_secret_value(),
        settings.telegram_bot_token.get_secret_value(),
        settings.telegram_webhook_secret.get_secret_value(),
        settings.discord_bot_token.get_secret_value(),
        settings.user_identifier_salt.get_secret_value(),
    ]
    password = _database_password(settings.database_url)
    if password:
        values.append(password)
    return values


def _database_password(url: str) -> str | None:
    password = make_url(url).password
    return str(password) if password else None


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets_of(settings)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

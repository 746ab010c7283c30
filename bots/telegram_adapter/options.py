"""The Telegram adapter's knobs, read from the shared Settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


def _secret(value: Any) -> str:
    if value is None:
        return ""
    getter = getattr(value, "get_secret_value", None)
    return str(getter() if getter else value)


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    token: str
    base_url: str = ""  # "" = api.telegram.org; otherwise e.g. "http://127.0.0.1:8081/bot"
    webhook_url: str = ""  # set = webhook mode instead of long polling
    webhook_secret: str = ""
    port: int = 8080
    edit_interval_s: float = 1.0
    typing_interval_s: float = 4.0
    use_drafts: bool = True
    poll_timeout_s: float = 30.0
    shutdown_grace_s: float = 20.0
    max_concurrent_updates: int = 256

    @classmethod
    def from_settings(cls, settings: Any) -> TelegramOptions:
        """Read the telegram_* settings; missing ones keep their defaults."""

        def get(name: str, default: Any) -> Any:
            value = getattr(settings, name, None)
            return default if value is None else value

        token = _secret(get("telegram_token", None) or get("telegram_bot_token", None))
        return cls(
            token=token,
            base_url=str(get("telegram_base_url", "")),
            webhook_url=str(get("telegram_webhook_url", "")),
            webhook_secret=_secret(get("telegram_webhook_secret", None)),
            port=int(get("port", 8080)),
            edit_interval_s=float(get("telegram_edit_interval_s", 1.0)),
            typing_interval_s=float(get("telegram_typing_interval_s", 4.0)),
            use_drafts=bool(get("telegram_use_drafts", True)),
            poll_timeout_s=float(get("telegram_poll_timeout_s", 30.0)),
            shutdown_grace_s=float(get("shutdown_grace_s", 20.0)),
        )

    @property
    def webhook_path(self) -> str:
        return urlsplit(self.webhook_url).path.lstrip("/")

    @property
    def effective_webhook_secret(self) -> str:
        """The secret-token header value; derived from the bot token when not configured.

        Deriving keeps it stable across restarts without asking users for one more secret, and
        the hash never reveals the token.
        """
        if self.webhook_secret:
            return self.webhook_secret
        return hashlib.sha256(f"webhook:{self.token}".encode()).hexdigest()[:64]

"""The Telegram adapter's knobs, read from the shared Settings."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from config.settings import Settings


def bot_api_base(url: str) -> str:
    """PTB's base_url for a Bot API server given as its root ("http://host:8081") or, as PTB's
    own docs write it, with the "/bot" suffix; "" stays "" (api.telegram.org)."""
    url = url.rstrip("/")
    if not url or url.endswith("/bot"):
        return url
    return f"{url}/bot"


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
    max_messages_per_s: int = 30  # new messages, bot-wide; 0 = no bot-wide cap

    @classmethod
    def from_settings(cls, settings: Settings) -> TelegramOptions:
        return cls(
            token=settings.telegram_bot_token.get_secret_value(),
            base_url=bot_api_base(settings.telegram_base_url or ""),
            webhook_url=settings.telegram_webhook_url or "",
            webhook_secret=settings.telegram_webhook_secret.get_secret_value(),
            port=settings.port,
            edit_interval_s=settings.telegram_edit_interval_s,
            typing_interval_s=settings.telegram_typing_interval_s,
            use_drafts=settings.telegram_use_drafts,
            poll_timeout_s=settings.telegram_poll_timeout_s,
            shutdown_grace_s=settings.shutdown_grace_s,
            max_messages_per_s=settings.telegram_max_messages_per_s,
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

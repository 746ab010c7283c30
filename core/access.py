"""Who may use the bot: allow-lists and owners from settings."""

from __future__ import annotations

from collections.abc import Set

from core.types import IncomingMessage


class AccessPolicy:
    """Entries are "platform:id" or a bare id that matches on every platform."""

    def __init__(self, allowed_users: Set[str], allowed_chats: Set[str], owners: Set[str]) -> None:
        self._allowed_users = frozenset(allowed_users)
        self._allowed_chats = frozenset(allowed_chats)
        self._owners = frozenset(owners)

    def is_owner(self, message: IncomingMessage) -> bool:
        return _listed(self._owners, message.key.platform, message.author.user_id)

    def allows(self, message: IncomingMessage) -> bool:
        """Open when no list is set; else the user or the chat must be listed (owners always)."""
        if not self._allowed_users and not self._allowed_chats:
            return True
        platform = message.key.platform
        return (
            self.is_owner(message)
            or _listed(self._allowed_users, platform, message.author.user_id)
            or (
                not message.is_private
                and _listed(self._allowed_chats, platform, message.key.chat_id)
            )
        )


def _listed(entries: frozenset[str], platform: str, identifier: str) -> bool:
    return identifier in entries or f"{platform}:{identifier}" in entries

"""Who may use the bot: allow-lists, deny-lists and owners from settings."""

from __future__ import annotations

from collections.abc import Set

from core.boundary import IncomingMessage


class AccessPolicy:
    """Entries are "platform:id" or a bare id that matches on every platform."""

    def __init__(
        self,
        allowed_users: Set[str],
        allowed_chats: Set[str],
        owners: Set[str],
        denied_users: Set[str] = frozenset(),
        denied_chats: Set[str] = frozenset(),
    ) -> None:
        self._allowed_users = frozenset(allowed_users)
        self._allowed_chats = frozenset(allowed_chats)
        self._owners = frozenset(owners)
        self._denied_users = frozenset(denied_users)
        self._denied_chats = frozenset(denied_chats)

    def is_owner(self, message: IncomingMessage) -> bool:
        # The console is the terminal of whoever runs the bot: its one user owns the bot (and
        # so may use the MCP servers kept for owners, say).
        if message.key.platform == "console":
            return True
        return _listed(self._owners, message.key.platform, message.author.user_id)

    def allows(self, message: IncomingMessage) -> bool:
        """Owners always; never a denied user or chat; else open when no allow-list is set, or
        the user or the chat must be listed."""
        platform = message.key.platform
        if self.is_owner(message):
            return True
        if _listed(self._denied_users, platform, message.author.user_id) or _listed(
            self._denied_chats, platform, message.key.chat_id
        ):
            return False
        if not self._allowed_users and not self._allowed_chats:
            return True
        return _listed(self._allowed_users, platform, message.author.user_id) or (
            not message.is_private and _listed(self._allowed_chats, platform, message.key.chat_id)
        )


def _listed(entries: frozenset[str], platform: str, identifier: str) -> bool:
    return identifier in entries or f"{platform}:{identifier}" in entries

"""Every store over one database, opened together: what the rest of the core is handed."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core.storage.confirmations import ConfirmationStore
from core.storage.conversations import ConversationStore
from core.storage.custom_personas import CustomPersonaStore
from core.storage.engine import Database
from core.storage.erasure import ErasureStore
from core.storage.messages import MessageStore
from core.storage.reminders import ReminderStore
from core.storage.retry import Store
from core.storage.token_ratios import TokenRatioStore
from core.storage.turn_events import TurnEventStore
from core.storage.usage import UsageStore
from core.storage.window_cache import DEFAULT_CONVERSATIONS


@dataclass(frozen=True, slots=True)
class Storage:
    conversations: ConversationStore
    messages: MessageStore
    usage: UsageStore
    personas: CustomPersonaStore
    erasure: ErasureStore
    token_ratios: TokenRatioStore
    reminders: ReminderStore
    turn_events: TurnEventStore
    confirmations: ConfirmationStore  # tool calls waiting for the user's Yes

    @classmethod
    def open(
        cls,
        database: Database,
        retry_s: float = 30.0,
        window_cache_size: int = DEFAULT_CONVERSATIONS,
        identifier_salt: bytes | None = None,
    ) -> Storage:
        """`identifier_salt` keys the hashes that keep a forgotten user's spending; the bot
        passes its own (bootstrap), so they hold across restarts. Without one (a test, a
        benchmark) a random salt lasts as long as this process."""
        salt = os.urandom(32) if identifier_salt is None else identifier_salt
        messages = MessageStore(database, retry_s, window_cache_size)
        return cls(
            conversations=ConversationStore(database, retry_s),
            messages=messages,
            usage=UsageStore(database, salt, retry_s),
            personas=CustomPersonaStore(database, retry_s),
            erasure=ErasureStore(database, messages.windows, salt, retry_s),
            token_ratios=TokenRatioStore(database, retry_s),
            reminders=ReminderStore(database, retry_s),
            turn_events=TurnEventStore(database, retry_s),
            confirmations=ConfirmationStore(database, retry_s),
        )

    def stores(self) -> tuple[Store, ...]:
        return (
            self.conversations,
            self.messages,
            self.usage,
            self.personas,
            self.erasure,
            self.token_ratios,
            self.reminders,
            self.turn_events,
            self.confirmations,
        )

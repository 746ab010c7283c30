"""Webhook deliveries through the shared inbox (core/cluster/inbox.py) when several processes
share a PostgreSQL database: what conversation a raw update belongs to, and how a stored one is
handed to PTB."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from telegram import Update
from telegram.ext import Application

from bots.telegram_adapter.buttons import SEPARATOR
from bots.telegram_adapter.intake import UpdateSlots
from core.boundary import StoredUpdate
from core.commands.catalog import answers_a_waiting_turn

PLATFORM = "telegram"
MESSAGE_FIELDS = ("message", "edited_message", "channel_post", "edited_channel_post")


def conversation_of(update: dict[str, Any]) -> str:
    """The lock's name for a raw update: its chat and forum topic, as the core keys the
    conversation (incoming.py); an update without a chat is a conversation of its own, and so
    is the press of a button a turn waits for (a tool's Yes or No): that turn holds its chat's
    conversation until the answer comes, so the press must not queue behind it. Stored and
    acknowledged like any update, it is handled at once by the process that received it, and
    once (a redelivery is stored once); the core takes care that only the asker answers, once."""
    message = next((update[f] for f in MESSAGE_FIELDS if isinstance(update.get(f), dict)), None)
    query = update.get("callback_query")
    if isinstance(query, dict) and _answers_a_waiting_turn(query.get("data")):
        return f"{PLATFORM}:press:{update.get('update_id')}"
    if message is None and isinstance(query, dict) and isinstance(query.get("message"), dict):
        message = query["message"]
    chat = message.get("chat") if message is not None else None
    if message is None or not isinstance(chat, dict) or "id" not in chat:
        return f"{PLATFORM}:update:{update.get('update_id')}"
    thread = ""
    if message.get("is_topic_message") and message.get("message_thread_id"):
        thread = str(message["message_thread_id"])
    return f"{PLATFORM}:{chat['id']}:{thread}"


def _answers_a_waiting_turn(data: object) -> bool:
    """From a button's callback data as it comes: its command before the signature (buttons.py).
    Checked here only to route the press; whether this bot issued it is checked as for any
    press, when it is handled."""
    if not isinstance(data, str):
        return False
    command, separator, _ = data.rpartition(SEPARATOR)
    return bool(separator) and answers_a_waiting_turn(command)


def album_of(update: dict[str, Any]) -> str | None:
    message = update.get("message")
    if isinstance(message, dict) and message.get("media_group_id") is not None:
        return str(message["media_group_id"])[:64]
    return None


def update_id_of(update: object) -> int | None:
    if not isinstance(update, dict):
        return None
    update_id = update.get("update_id")
    return update_id if isinstance(update_id, int) and not isinstance(update_id, bool) else None


class StoredUpdates:
    """Hands an inbox step (one update, or an album's updates, which must meet in the album
    collector) to PTB's handlers, each in one of the process's update slots."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], slots: UpdateSlots
    ) -> None:
        self._application = application
        self._slots = slots

    async def handle(self, step: list[StoredUpdate]) -> None:
        updates = [Update.de_json(json.loads(r.payload), self._application.bot) for r in step]
        await asyncio.gather(*(self._one(update) for update in updates))

    async def _one(self, update: Update) -> None:
        async with self._slots.slot(update.update_id):
            await self._application.process_update(update)

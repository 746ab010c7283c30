"""PTB callbacks: a message or a button press in, one core turn out, delivered to the chat."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from telegram import Bot, Chat, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.telegram_adapter.admins import AdminCache
from bots.telegram_adapter.bot_api import Outbox
from bots.telegram_adapter.buttons import ChoiceButtons
from bots.telegram_adapter.delivery import DraftSupport, StreamPolicy, TurnDelivery
from bots.telegram_adapter.incoming import (
    BotIdentity,
    Skip,
    author_of,
    conversation_key,
    to_incoming,
)
from core.boundary import IncomingMessage, ReplyEvent

log = logging.getLogger(__name__)


class ChatHandler(Protocol):
    """The one core entry point the adapter needs (core.service.ChatService.handle)."""

    def handle(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]: ...


class TelegramHandlers:
    """Owns what lives across updates: the core service, admin cache, buttons, turns in flight."""

    def __init__(self, service: ChatHandler, policy: StreamPolicy) -> None:
        self._service = service
        self._policy = policy
        self._admins = AdminCache()
        self._drafts = DraftSupport()
        self.buttons = ChoiceButtons()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._me: BotIdentity | None = None

    def identify(self, bot: Bot) -> None:
        self._me = BotIdentity(id=bot.id, username=bot.username)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None or self._me is None:
            return
        result = to_incoming(message, self._me)
        if isinstance(result, Skip):
            return
        incoming = result
        if not incoming.is_private and incoming.text.startswith("/"):
            incoming = await self._with_admin_flag(context.bot, incoming)
        await self._turn(
            context.bot,
            incoming,
            reply_to=None if incoming.is_private else message.message_id,
        )

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()  # stops the button's spinner whatever happens next
        except TelegramError as exc:
            log.info("answerCallbackQuery failed: %s", exc)
        message = query.message
        command = self.buttons.command_for(query.data or "")
        if not isinstance(message, Message) or not command:
            return
        private = message.chat.type == Chat.PRIVATE
        incoming = IncomingMessage(
            key=conversation_key(message),
            author=author_of(query.from_user, can_manage=private),
            text=command,
            addressed=True,
            is_private=private,
            message_id=f"cb{query.id}",  # a redelivered press is answered once, like a message
            space_id=str(message.chat.id),
        )
        if not private:
            incoming = await self._with_admin_flag(context.bot, incoming)
        await self._turn(context.bot, incoming, reply_to=None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %r", update, exc_info=context.error)

    async def _with_admin_flag(self, bot: Bot, incoming: IncomingMessage) -> IncomingMessage:
        author = incoming.author
        if author.can_manage or not author.user_id.isdigit():
            return incoming
        is_admin = await self._admins.is_admin(bot, int(incoming.key.chat_id), int(author.user_id))
        return dataclasses.replace(
            incoming, author=dataclasses.replace(author, can_manage=is_admin)
        )

    async def _turn(self, bot: Bot, incoming: IncomingMessage, *, reply_to: int | None) -> None:
        if self._stopping:
            return
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        key = incoming.key
        outbox = Outbox(bot, int(key.chat_id), int(key.thread_id) if key.thread_id else None)
        delivery = TurnDelivery(
            outbox,
            private=incoming.is_private,
            reply_to=reply_to,
            policy=self._policy,
            drafts=self._drafts,
            keyboard=self.buttons.keyboard,
        )
        events = self._service.handle(incoming)
        try:
            await delivery.run(events, typing_now=incoming.addressed)
        except TelegramError:
            log.exception("could not deliver a reply in %s", key)
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
            if task is not None:
                self._inflight.discard(task)

    def cancel_inflight(self) -> int:
        """Stop taking turns and cancel those running; returns how many were cancelled."""
        self._stopping = True
        running = [t for t in self._inflight if not t.done()]
        for task in running:
            task.cancel()
        return len(running)

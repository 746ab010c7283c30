"""PTB callbacks: a message or a button press in, one core turn out, delivered to the chat."""

from __future__ import annotations

import logging

from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bots.inflight import RepliesInFlight
from bots.telegram_adapter.admins import AdminCache
from bots.telegram_adapter.albums import AlbumCollector, one_turn
from bots.telegram_adapter.bot_api import Outbox
from bots.telegram_adapter.buttons import ChoiceButtons, signing_key
from bots.telegram_adapter.delivery import DraftSupport, StreamPolicy, TurnDelivery
from bots.telegram_adapter.incoming import BotIdentity, button_to_incoming, message_to_incoming
from bots.telegram_adapter.intake import UpdateSlots, free_while_waiting
from core.boundary import ChatPort, IncomingMessage

log = logging.getLogger(__name__)


class TelegramHandlers:
    """Owns what lives across updates: the chat service, who the bot is, its admin cache,
    buttons and draft support; every turn counts in `replies`, which a stop waits for."""

    def __init__(
        self,
        chat: ChatPort,
        policy: StreamPolicy,
        replies: RepliesInFlight,
        slots: UpdateSlots,
        bot: Bot,
    ) -> None:
        self._chat = chat
        self._policy = policy
        self._replies = replies
        self._slots = slots
        self._me = BotIdentity(id=bot.id, username=bot.username)  # known once getMe answered
        self._admins = AdminCache(bot)
        self._drafts = DraftSupport()
        self._buttons = ChoiceButtons(signing_key(bot.token))
        self._albums = AlbumCollector()

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        if message.media_group_id is not None:
            album = await self._albums.collect(message)
            if album is None:
                return  # part of an album whose first message carries the turn
            parts = [await message_to_incoming(m, self._me, self._admins) for m in album]
            found = [part for part in parts if part is not None]
            incoming = one_turn(found) if found else None
        else:
            incoming = await message_to_incoming(message, self._me, self._admins)
        if incoming is None:
            return
        await self._turn(
            context.bot,
            incoming,
            update.update_id,
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
        command = self._buttons.command_for(query.data or "")
        if command is None:  # forged, or a long button forgotten since a restart
            log.info("ignored a button press with data this bot did not issue")
            return
        incoming = await button_to_incoming(query, command, self._admins)
        if incoming is None:
            return
        await self._turn(context.bot, incoming, update.update_id, reply_to=None)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %r", update, exc_info=context.error)

    async def _turn(
        self, bot: Bot, incoming: IncomingMessage, update_id: int, *, reply_to: int | None
    ) -> None:
        if not self._replies.accepting:
            return
        with self._replies.tracked():
            key = incoming.key
            outbox = Outbox(bot, int(key.chat_id), int(key.thread_id) if key.thread_id else None)
            delivery = TurnDelivery(
                outbox,
                private=incoming.is_private,
                reply_to=reply_to,
                policy=self._policy,
                drafts=self._drafts,
                keyboard=self._buttons.keyboard,
            )
            events = self._chat.handle(incoming)
            try:
                await delivery.run(
                    free_while_waiting(events, self._slots.of(update_id))
                )  # typing once the core says the turn runs
            except TelegramError:
                log.exception("could not deliver a reply in %s", key)
            finally:
                aclose = getattr(events, "aclose", None)
                if aclose is not None:
                    await aclose()

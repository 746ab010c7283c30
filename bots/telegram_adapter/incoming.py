"""Telegram events → core IncomingMessage: who, where, what, and whether it is for the bot.

Every event the adapter handles comes through here (a message, a button press), and each is
translated whole: whether the author may manage the chat is known before the IncomingMessage is
built. `None` means "not for the core".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from telegram import CallbackQuery, Chat, Message, MessageEntity, User

from bots.telegram_adapter.attachments import attachments_of
from core.boundary import Author, ConversationKey, IncomingMessage

PLATFORM = "telegram"


class ChatAdmins(Protocol):
    """Whether a user administers a group chat (admins.AdminCache; each lookup may cost a call)."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool: ...


@dataclass(frozen=True, slots=True)
class BotIdentity:
    id: int
    username: str  # without "@"


def conversation_key(message: Message) -> ConversationKey:
    """Per chat, and per forum topic; never per user."""
    thread = ""
    if message.is_topic_message and message.message_thread_id:
        thread = str(message.message_thread_id)
    return ConversationKey(platform=PLATFORM, chat_id=str(message.chat.id), thread_id=thread)


def author_of(user: User, *, can_manage: bool) -> Author:
    return Author(
        user_id=str(user.id),
        display_name=user.full_name,
        language=user.language_code,
        can_manage=can_manage,
    )


async def message_to_incoming(
    message: Message, me: BotIdentity, admins: ChatAdmins
) -> IncomingMessage | None:
    """Translate one message; None for other bots, channel posts, service messages and commands
    for other bots. In groups only commands ask `admins` (only they need it, and it costs an API
    call); everyone manages their private chat."""
    chat = message.chat
    private = chat.type == Chat.PRIVATE
    if chat.type == Chat.CHANNEL or message.is_automatic_forward:
        return None
    user = message.from_user
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
    if (
        user is None
        or (user.is_bot and not anonymous_admin)
        or (message.sender_chat is not None and not anonymous_admin)
    ):
        return None

    text = message.text if message.text is not None else message.caption
    attachments = attachments_of(message)
    if not text:
        if not attachments and not (private and message.effective_attachment is not None):
            return None  # service messages (joins, pins, topic edits), a group's stickers
        text = ""  # media without caption: the core reads it, or explains what it can read

    entities = message.entities if message.text is not None else message.caption_entities
    text, command_addressed, other_bot = _strip_command_suffix(text, entities, me)
    if other_bot:
        return None
    addressed = (
        private
        or command_addressed
        or _mentions(message, entities, me)
        or _replies_to_bot(message, me)
    )
    if anonymous_admin and message.sender_chat is not None:
        author = Author(
            user_id=f"chat{chat.id}",
            display_name=message.sender_chat.title or chat.title or "Admin",
            language=None,
            can_manage=True,
        )
    else:
        can_manage = private or (text.startswith("/") and await admins.is_admin(chat.id, user.id))
        author = author_of(user, can_manage=can_manage)
    return IncomingMessage(
        key=conversation_key(message),
        author=author,
        text=text,
        addressed=addressed,
        is_private=private,
        message_id=str(message.message_id),
        space_id=str(chat.id),
        attachments=attachments,
    )


async def button_to_incoming(
    query: CallbackQuery, command: str | None, admins: ChatAdmins
) -> IncomingMessage | None:
    """A pressed button as the command it stands for (`command`, from buttons.ChoiceButtons),
    typed by the presser; None when the button's message is gone or its command forgotten."""
    message = query.message
    if not isinstance(message, Message) or not command:
        return None
    chat = message.chat
    private = chat.type == Chat.PRIVATE
    user = query.from_user
    can_manage = private or await admins.is_admin(chat.id, user.id)
    return IncomingMessage(
        key=conversation_key(message),
        author=author_of(user, can_manage=can_manage),
        text=command,
        addressed=True,
        is_private=private,
        message_id=f"cb{query.id}",  # a redelivered press is answered once, like a message
        space_id=str(chat.id),
    )


def _strip_command_suffix(
    text: str, entities: tuple[MessageEntity, ...], me: BotIdentity
) -> tuple[str, bool, bool]:
    """(text without "@thisbot" on the command word, is a command for us, is for another bot)."""
    first = next((e for e in entities if e.offset == 0), None)
    if first is None or first.type != MessageEntity.BOT_COMMAND:
        return text, False, False
    # Entity offsets count UTF-16 units, but a command word is ASCII, so indices agree.
    word = text[: first.length]
    name, _, target = word.partition("@")
    if not target:
        return text, True, False
    if target.lower() != me.username.lower():
        return text, False, True
    return name + text[first.length :], True, False


def _mentions(message: Message, entities: tuple[MessageEntity, ...], me: BotIdentity) -> bool:
    wanted = f"@{me.username}".lower()
    for entity in entities:
        if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == me.id:
            return True
        if entity.type == MessageEntity.MENTION:
            value = (
                message.parse_entity(entity)
                if message.text is not None
                else message.parse_caption_entity(entity)
            )
            if value.lower() == wanted:
                return True
    return False


def _replies_to_bot(message: Message, me: BotIdentity) -> bool:
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return False  # in forums every message "replies" to its topic's creation message
    return replied.from_user is not None and replied.from_user.id == me.id

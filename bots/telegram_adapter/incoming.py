"""Telegram message → core IncomingMessage: who, where, what, and whether it is for the bot."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from telegram import Chat, Message, MessageEntity, User

from core.boundary import Author, ConversationKey, IncomingMessage

PLATFORM = "telegram"


class Skip(Enum):
    """A message that is not for the core: other bots, channel posts, service messages,
    commands for other bots."""

    IGNORED = "ignored"


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


def to_incoming(message: Message, me: BotIdentity) -> IncomingMessage | Skip:
    """Translate one message. In groups `Author.can_manage` is False here; the caller fills it
    in for commands (only they need it, and it costs an API call)."""
    chat = message.chat
    private = chat.type == Chat.PRIVATE
    if chat.type == Chat.CHANNEL or message.is_automatic_forward:
        return Skip.IGNORED
    user = message.from_user
    anonymous_admin = message.sender_chat is not None and message.sender_chat.id == chat.id
    if (
        user is None
        or (user.is_bot and not anonymous_admin)
        or (message.sender_chat is not None and not anonymous_admin)
    ):
        return Skip.IGNORED

    text = message.text if message.text is not None else message.caption
    if not text:
        if not (private and message.effective_attachment is not None):
            return Skip.IGNORED  # service messages (joins, pins, topic edits) and group media
        text = ""  # media without caption: the core explains what it can read

    entities = message.entities if message.text is not None else message.caption_entities
    text, command_addressed, other_bot = _strip_command_suffix(text, entities, me)
    if other_bot:
        return Skip.IGNORED
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
        author = author_of(user, can_manage=private)
    return IncomingMessage(
        key=conversation_key(message),
        author=author,
        text=text,
        addressed=addressed,
        is_private=private,
        message_id=str(message.message_id),
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

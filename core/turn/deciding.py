"""Deciding whether a message is answered, only remembered as context, or left alone."""

from __future__ import annotations

import enum
import re

from core.boundary import IncomingMessage
from core.storage.records import ConversationState


class Decision(enum.Enum):
    ANSWER = "answer"
    REMEMBER = "remember"  # a group message kept as context (/listen on), not answered
    IGNORE = "ignore"


def decide(message: IncomingMessage, conversation: ConversationState, text: str) -> Decision:
    """Answer what is addressed to the bot (or everything with /answerall, or its trigger word);
    remember the rest of a listening group."""
    if message.addressed or conversation.answer_all or has_trigger(conversation, text):
        return Decision.ANSWER
    return Decision.REMEMBER if conversation.listen else Decision.IGNORE


def has_trigger(conversation: ConversationState, text: str) -> bool:
    if not conversation.trigger:
        return False
    return re.search(rf"(?<!\w){re.escape(conversation.trigger)}(?!\w)", text, re.I) is not None

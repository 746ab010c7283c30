"""Small builders for core tests: incoming messages and collecting a reply."""

from __future__ import annotations

from core.boundary import (
    AnswerDone,
    Answering,
    Author,
    CommandReply,
    ConversationKey,
    Failure,
    IncomingMessage,
    Notice,
    ReplyEvent,
    Waiting,
)
from core.turn.service import ChatService

PRIVATE = ConversationKey("telegram", "1001")
GROUP = ConversationKey("telegram", "-2002")
ALICE = Author("11", "Alice", "en", can_manage=False)
BOB = Author("22", "Bob", "en", can_manage=False)
ADMIN = Author("33", "Ada", "en", can_manage=True)


def private(
    text: str, author: Author = ALICE, key: ConversationKey = PRIVATE, **kw: object
) -> IncomingMessage:
    return IncomingMessage(key=key, author=author, text=text, addressed=True, is_private=True, **kw)  # type: ignore[arg-type]


def group(
    text: str,
    author: Author = ALICE,
    addressed: bool = True,
    key: ConversationKey = GROUP,
    **kw: object,
) -> IncomingMessage:
    return IncomingMessage(
        key=key, author=author, text=text, addressed=addressed, is_private=False, **kw
    )  # type: ignore[arg-type]


async def collect(service: ChatService, message: IncomingMessage) -> list[ReplyEvent]:
    """The events that show the user something (`Answering` only starts "typing...", `Waiting`
    shows nothing)."""
    return [
        event
        async for event in service.handle(message)
        if not isinstance(event, Answering | Waiting)
    ]


async def say(service: ChatService, message: IncomingMessage) -> str:
    """Everything the user would read, one event per line (answers whole, not as deltas)."""
    lines = []
    for event in await collect(service, message):
        if isinstance(event, AnswerDone | Notice | CommandReply | Failure):
            lines.append(event.text)
    return "\n".join(lines)

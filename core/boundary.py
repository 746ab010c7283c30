"""Plain values that cross the core/adapter boundary.

Adapters build an `IncomingMessage` from a platform event and hand it to `ChatPort.handle`;
the core answers with a stream of `ReplyEvent`s. Nothing platform-specific (no telegram
`Update`, no `discord.Message`) and nothing database-specific crosses this line.
"""

from __future__ import annotations

import mimetypes
from asyncio import Event
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeAlias


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Identity of one conversation's memory: per chat and topic, never per user."""

    platform: str  # "telegram" | "discord" | "console"
    chat_id: str
    thread_id: str = ""  # forum topic or Discord thread; "" for none

    def __str__(self) -> str:
        suffix = f"/{self.thread_id}" if self.thread_id else ""
        return f"{self.platform}:{self.chat_id}{suffix}"


@dataclass(frozen=True, slots=True)
class Author:
    """Who sent a message, as far as the core needs to know."""

    user_id: str
    display_name: str
    language: str | None = None  # IETF tag from the platform, e.g. "ko" or "en-US"
    # Whether the platform says this person may change the chat's settings (Telegram chat
    # admin, Discord Manage Server or a configured role). Always True in private chats.
    can_manage: bool = False


AttachmentKind: TypeAlias = Literal["image", "voice", "audio", "video", "file"]


class FetchFailed(Exception):
    """The platform could not hand over an attachment's bytes (gone, network, refused)."""


class TooLarge(FetchFailed):
    """The attachment has more bytes than the fetch allowed; nothing more was read."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with a message, described for the core; its bytes come on demand.

    `fetch(max_bytes)` returns the bytes, or raises `TooLarge` past `max_bytes` (checked against
    what the platform reports before downloading, and on what arrives) or `FetchFailed`. It
    closes over what the adapter needs (a file id, a CDN attachment, a local path): never a URL
    with a bot token, and the core never holds a platform object.
    """

    kind: AttachmentKind
    media_type: str  # e.g. "audio/ogg", "application/pdf"; "" when the platform says nothing
    size: int | None  # bytes, as the platform reports; None when unknown
    file_name: str
    fetch: Callable[[int], Awaitable[bytes]] = field(compare=False, repr=False)
    duration_s: float | None = None  # voice and audio, when the platform reports it


_FAMILIES: dict[str, AttachmentKind] = {"image": "image", "audio": "audio", "video": "video"}


def media_type_of(file_name: str, reported: str | None = None) -> str:
    """The platform's media type without parameters ("audio/ogg; codecs=opus" → "audio/ogg"),
    else a guess from the file name, else "". One rule for every adapter."""
    if reported:
        return reported.split(";", 1)[0].strip().lower()
    guessed, _ = mimetypes.guess_type(file_name, strict=False)
    return guessed or ""


def kind_of(media_type: str) -> AttachmentKind:
    """image, audio or video by the media type's family; anything else is a file. (A platform
    that knows better, such as Telegram's voice notes, says so itself.)"""
    return _FAMILIES.get(media_type.split("/", 1)[0], "file")


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """One platform message (or slash command, or button press) translated for the core."""

    key: ConversationKey
    author: Author
    text: str
    # True when the message is for the bot: a private chat, an @mention, a reply to the bot,
    # a command, a button press, or a thread/channel the adapter knows is the bot's.
    addressed: bool
    is_private: bool
    # The platform's message id; the core uses it to answer a redelivered update only once.
    message_id: str = ""
    # Who owns custom personas created here: a Discord server id, or the chat id otherwise.
    space_id: str = ""
    # A slash command or button press: the platform shows the answer to this user alone, so
    # even in a group a refusal can be said instead of kept silent.
    is_interaction: bool = False
    # Photos, voice notes, files... sent with the message (a Telegram album's, all of them);
    # `text` is then their caption, possibly empty.
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Choice:
    """A button an adapter may show; pressing it sends `command` back as an addressed message."""

    label: str
    command: str


@dataclass(frozen=True, slots=True)
class AnswerDelta:
    """The next piece of the model's answer, in order, as it streams."""

    text: str


@dataclass(frozen=True, slots=True)
class AnswerDone:
    """The whole answer as stored; adapters make sure every character of it was delivered."""

    text: str
    cut_short: bool = False  # the model stopped at max_tokens or the stream broke


@dataclass(frozen=True, slots=True)
class Thinking:
    """The model has been thinking a while without a word of answer: a short placeholder
    (`text`, e.g. "thinking…") shown where the answer will come, which the answer replaces."""

    text: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """The model's thinking for this answer, for a chat that asked to see it (`/set
    show_reasoning on`): shown collapsed, apart from the answer, before it. Never stored."""

    text: str


@dataclass(frozen=True, slots=True)
class Notice:
    """A short separate message from the bot (history trimmed, answer cut, input shortened...)."""

    text: str


@dataclass(frozen=True, slots=True)
class CommandReply:
    """The result of a chat command."""

    text: str
    choices: tuple[Choice, ...] = ()
    # The command changed nothing because it was refused or malformed; Discord shows these
    # ephemerally.
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class ImageReply:
    """A picture the bot made (/image): sent as a photo with `caption` under it."""

    data: bytes = field(repr=False)  # never in a log line
    media_type: str  # "image/png"
    caption: str = ""


@dataclass(frozen=True, slots=True)
class VoiceReply:
    """Speech the bot made (/speak, /voice on): OGG/Opus, sent as a voice message."""

    data: bytes = field(repr=False)
    media_type: str  # "audio/ogg"
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    """A turn that could not be answered; `text` is short, readable and safe to show."""

    text: str


@dataclass(frozen=True, slots=True)
class Answering:
    """This message's turn runs now and the model is being asked: adapters show "typing" from
    here on (not while the message waits behind others of its conversation)."""


@dataclass(frozen=True, slots=True)
class Waiting:
    """This message waits behind others of its conversation (in the backlog); the next event
    comes once its turn runs. Adapters free what they hold for it meanwhile (Telegram: its
    update slot, so a flooded chat's backlog takes no slot from other chats)."""


ReplyEvent: TypeAlias = (
    Waiting
    | Answering
    | Thinking
    | Reasoning
    | AnswerDelta
    | AnswerDone
    | Notice
    | CommandReply
    | ImageReply
    | VoiceReply
    | Failure
)


class ChatPush(Protocol):
    """How the core sends to a chat unasked (a reminder falling due): each adapter has one."""

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        """Send `events` (Notice, CommandReply...) to the conversation `key`; True once the
        platform took them, False when it refused or could not be reached. Raises nothing."""
        ...


def pushed_texts(events: Sequence[ReplyEvent]) -> list[str]:
    """What a push says, one message each: the texts of its notices, command replies and
    failures (one rule for every adapter's `ChatPush`)."""
    return [
        event.text
        for event in events
        if isinstance(event, Notice | CommandReply | Failure) and event.text
    ]


class ChatPort(Protocol):
    """The chat service as adapters see it: the one entry point, and what menus need."""

    def handle(self, message: IncomingMessage) -> AsyncIterator[ReplyEvent]:
        """Answer one incoming message: command replies, a streamed answer, notices or nothing."""
        ...

    async def thread_refusal(self, message: IncomingMessage) -> Failure | None:
        """None when the author may have the bot open a thread for `message` (its first text);
        else why not, for the author alone. Asked before the thread is created."""
        ...

    async def set_answer_all(self, key: ConversationKey, on: bool) -> None:
        """Make the bot answer every message of a conversation (a thread it opened, say)."""
        ...

    async def persona_names(self, key: ConversationKey, space_id: str = "") -> list[str]:
        """The personas a conversation may switch to (for autocompletion)."""
        ...

    def model_names(self) -> list[str]:
        """The catalog's models (for autocompletion)."""
        ...

    def offer_push(self, platform: str, push: ChatPush) -> Callable[[], None]:
        """While an adapter runs, the core may send to `platform`'s chats through `push`
        (reminders); the adapter calls the returned function when it stops."""
        ...


# -- several processes on one database (issue 15) ----------------------------------------------


def process_name() -> str:
    """This process as logs name it: host and pid (a PaaS dyno or machine id when it has one)."""
    import os
    import socket

    host = os.environ.get("DYNO") or os.environ.get("FLY_MACHINE_ID") or socket.gethostname()
    return f"{host}/{os.getpid()}"


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    """A platform update as the shared inbox stored it: handed back to its adapter in order."""

    update_id: int
    album: str | None  # a media group's id: its updates come back together, as one step
    payload: str  # the update's JSON, as delivered


class UpdateInbox(Protocol):
    """Received updates, stored before they are acknowledged and handled by whichever process
    holds their conversation (core/cluster/inbox.py)."""

    def __len__(self) -> int: ...

    async def receive(
        self, update_id: int, conversation: str, album: str | None, payload: str
    ) -> bool:
        """Store (durably, when it returns True) and start on the conversation; False when the
        database cannot take it now (the platform should deliver it again)."""
        ...

    def start(self) -> None: ...

    async def stop(self, grace_s: float) -> None: ...


class ProcessCluster(Protocol):
    """What the processes of one deployment share (PostgreSQL only): the inbox, roles only one
    process may hold, named locks and small shared values."""

    process: str

    def inbox(
        self,
        platform: str,
        handle: Callable[[list[StoredUpdate]], Awaitable[None]],
        concurrency: int,
    ) -> UpdateInbox: ...

    async def take_role(self, role: str, stop: Event) -> bool: ...

    async def release_role(self, role: str) -> None: ...

    async def try_lock(self, name: str) -> bool: ...

    async def unlock(self, name: str) -> None: ...

    async def shared_value(self, name: str) -> str | None: ...

    async def set_shared_value(self, name: str, value: str) -> None: ...

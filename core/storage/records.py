"""What the repository hands out and takes in: plain frozen records, no ORM objects."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from core.boundary import ConversationKey
from core.model.params import ChatParams


@dataclass(frozen=True, slots=True)
class ConversationState:
    id: int
    key: ConversationKey
    persona: str | None
    model: str | None
    params: ChatParams
    listen: bool
    answer_all: bool
    trigger: str | None
    everyone_can_manage: bool
    window_start_id: int


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A stored photo, ready to send: its data URL is built once, when it is stored or read."""

    data_url: str
    detail: str  # "low" | "high"
    width: int
    height: int
    tokens: int  # part of its message's tokens
    counted_for: str  # the ImageRule.key it was counted by; "" when the model reads no images


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: int
    role: str
    content: str
    tokens: int  # its images' tokens included
    encoding: str
    author_name: str | None = None
    images: tuple[StoredImage, ...] = ()
    # An assistant message calling tools: the API's `tool_calls` array, as JSON text.
    tool_calls: str | None = None
    tool_call_id: str | None = None  # a `tool` message: the call it answers


@dataclass(frozen=True, slots=True)
class UsageTotal:
    model: str
    requests: int
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float
    reasoning_tokens: int = 0  # part of completion_tokens
    kind: str = "chat"
    quantity: float = 0.0  # per kind: seconds of audio for "transcription"


@dataclass(frozen=True, slots=True)
class Spending:
    """Tokens (prompt + completion) and dollars since the start of the day and of the month."""

    day_tokens: int
    day_usd: float
    month_tokens: int
    month_usd: float


@dataclass(frozen=True, slots=True)
class NewMessage:
    role: str
    content: str
    tokens: int
    encoding: str
    author_id: str | None = None
    author_name: str | None = None
    platform_message_id: str | None = None
    images: tuple[NewImage, ...] = ()
    tool_calls: str | None = None  # see StoredMessage
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class NewImage:
    data: bytes
    media_type: str
    width: int
    height: int
    detail: str
    tokens: int
    counted_for: str

    def stored(self) -> StoredImage:
        encoded = base64.b64encode(self.data).decode("ascii")
        return StoredImage(
            f"data:{self.media_type};base64,{encoded}",
            self.detail,
            self.width,
            self.height,
            self.tokens,
            self.counted_for,
        )


@dataclass(frozen=True, slots=True)
class CustomPersona:
    """A persona a space (Discord server, chat) created with /newpersona."""

    platform: str
    space_id: str
    name: str
    description: str
    system_prompt: str
    model: str | None
    params: dict[str, object]
    created_by: str | None


@dataclass(frozen=True, slots=True)
class UsageRecord:
    user_id: str | None
    model: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float
    reasoning_tokens: int = 0  # part of completion_tokens, billed as output
    kind: str = "chat"  # "chat" (a model's answer) | "transcription" (a voice note heard)
    quantity: float = 0.0  # per kind: seconds of audio for "transcription"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What /forget removed, and how many usage rows it kept without the user's identity."""

    messages: int  # the user's own
    answers: int  # the bot's answers to them (in a private chat: every answer there)
    personas: int  # the ones the user created
    conversations: int  # a private chat's conversation rows (its settings)
    usage_kept: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    messages: int
    usage: int
    personas: int
    conversations: int

    def total(self) -> int:
        return self.messages + self.usage + self.personas + self.conversations

"""The database tables (SQLAlchemy 2 ORM). Alembic migrations in `migrations/` create them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "thread_id", name="uq_conversation"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64), default="")
    persona: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    listen: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_all: Mapped[bool] = mapped_column(Boolean, default=False)
    trigger: Mapped[str | None] = mapped_column(String(64), nullable=True)
    everyone_can_manage: Mapped[bool] = mapped_column(Boolean, default=False)
    # Messages with id >= window_start_id may be sent to the model. It moves forward only when
    # the window overflows (a cut), on /reset and on a persona switch.
    window_start_id: Mapped[int] = mapped_column(Id, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class MessageRow(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "platform_message_id", name="uq_message_delivery"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_author", "author_id"),
        Index("ix_messages_created_at", "created_at"),
        # /forget deletes the answers to a user's messages; only answers have it set.
        Index(
            "ix_messages_reply_to",
            "reply_to_id",
            sqlite_where=text("reply_to_id IS NOT NULL"),
            postgresql_where=text("reply_to_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    author_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    content: Mapped[str] = mapped_column(Text)
    # Exact prompt tokens of this message (framing included) in `encoding`, counted once on store.
    tokens: Mapped[int] = mapped_column(Integer)
    encoding: Mapped[str] = mapped_column(String(32))
    platform_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # An answer's user message: the newest user row of its conversation when it was stored (the
    # turn holds the conversation's lock, so that is the message it answered). /forget deletes
    # the answers with the question, since they quote it.
    reply_to_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    # Function calling (issue 14): an assistant message's `tool_calls` (the API's JSON array)
    # and a `tool` message's `tool_call_id`; stored and planned like any other message.
    tool_calls: Mapped[str | None] = mapped_column(Text, nullable=True)
    tool_call_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class MessageImageRow(Base):
    """A photo sent with a user's message, as the model reads it: scaled down to what the
    chat's detail level uses (a few hundred kB at most) and counted once by the model's rule.
    It goes wherever its message goes (/forget, retention, /reset delete the message)."""

    __tablename__ = "message_images"
    __table_args__ = (Index("ix_message_images_window", "conversation_id", "message_id"),)

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    media_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(8))
    # Its prompt tokens (also in its message's `tokens`) by the rule named in `counted_for`
    # (ImageRule.key; "" for a model that reads no images): a chat moving to a model with
    # another rule has them counted again.
    tokens: Mapped[int] = mapped_column(Integer)
    counted_for: Mapped[str] = mapped_column(String(32))


class UsageRow(Base):
    __tablename__ = "usage"
    __table_args__ = (
        # Budgets sum a user's or a chat's usage since a date on every turn.
        Index("ix_usage_conversation_created", "conversation_id", "created_at"),
        Index("ix_usage_user_created", "user_id", "created_at"),
        # After /forget a row is found by hashes instead (few rows: partial indexes).
        Index(
            "ix_usage_user_hash_created",
            "user_hash",
            "created_at",
            sqlite_where=text("user_hash IS NOT NULL"),
            postgresql_where=text("user_hash IS NOT NULL"),
        ),
        Index(
            "ix_usage_chat_hash_created",
            "chat_hash",
            "created_at",
            sqlite_where=text("chat_hash IS NOT NULL"),
            postgresql_where=text("chat_hash IS NOT NULL"),
        ),
        Index("ix_usage_created_at", "created_at"),  # retention
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # Spending outlives /forget: the user's id (and a private chat's conversation) is swapped for
    # salted hashes (usage.identity_hash), so budgets still count it but it names no one.
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True
    )
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    chat_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str] = mapped_column(String(128))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    cached_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    # The part of completion_tokens the model spent thinking (billed as output).
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    # What was paid for: "chat" (tokens of an answer) or "transcription" (seconds of audio in
    # `quantity`); /usage shows a line per kind.
    kind: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    quantity: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CustomPersonaRow(Base):
    __tablename__ = "custom_personas"
    __table_args__ = (
        UniqueConstraint("platform", "space_id", "name", name="uq_custom_persona"),
        Index("ix_custom_personas_created_by", "created_by"),  # /forget
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    space_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(200), default="")
    system_prompt: Mapped[str] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(String(128), nullable=True)
    params: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the space last had a turn (updated at most daily): retention deletes the personas of a
    # space unheard of for RETENTION_DAYS, i.e. of a deleted or abandoned chat or server.
    space_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TokenRatioRow(Base):
    """What a model's own tokenizer makes of a prompt, per token the bot counted locally: learned
    from `usage.prompt_tokens` for models whose tokenizer the bot does not have."""

    __tablename__ = "model_token_ratios"

    model: Mapped[str] = mapped_column(String(128), primary_key=True)
    ratio: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ReminderRow(Base):
    """A reminder the model set for a chat: sent by the adapter of its platform at `due_at`,
    once, by whichever bot process claims it first (claimed_by / claimed_at: a lease, so a
    process that died after claiming hands it on)."""

    __tablename__ = "reminders"
    __table_args__ = (
        # What the scheduler reads: the next pending reminder, and a chat's pending ones.
        Index("ix_reminders_state_due", "state", "due_at"),
        Index("ix_reminders_state_claimed", "state", "claimed_at"),  # leases that run out
        Index("ix_reminders_conversation", "platform", "chat_id", "thread_id", "state"),
        Index("ix_reminders_user", "user_id"),  # /forget
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(128), default="")
    text: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)  # of the asker
    # pending, then delivered, cancelled or failed (the platform refused it MAX_ATTEMPTS times)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class InboundUpdateRow(Base):
    """An update a platform delivered, stored before it is acknowledged (issue 15): any process
    of the bot answers it, one conversation at a time in `update_id` order, and a redelivery
    finds it here (stored once). Rows are kept a day after they are done, then pruned."""

    __tablename__ = "inbound_updates"
    __table_args__ = (
        # What is left to do, by conversation and in order: the only query on the hot path.
        Index(
            "ix_inbound_updates_pending",
            "conversation",
            "update_id",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
        Index("ix_inbound_updates_received_at", "received_at"),
    )

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    conversation: Mapped[str] = mapped_column(String(160))  # the lock's name: platform:chat:thread
    # Its advisory lock's key (lock_keys.lock_key): the sweep asks pg_locks which are free.
    lock_key: Mapped[int] = mapped_column(BigInteger)
    album: Mapped[str | None] = mapped_column(String(64), nullable=True)  # a media group's id
    payload: Mapped[str] = mapped_column(Text)  # the update's JSON, as delivered
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RateCounterRow(Base):
    """A rate limit's allowance per key, shared by every process (GCRA: one timestamp, when the
    key's allowance is fully back), and when a refusal was last said. Seconds since the epoch:
    processes' monotonic clocks differ."""

    __tablename__ = "rate_counters"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    full_at: Mapped[float] = mapped_column(Float)
    refused_at: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class BotStateRow(Base):
    """Small facts the processes share, by name: e.g. the hash of the slash commands last
    synced with Discord, so that only one process of a deploy syncs them."""

    __tablename__ = "bot_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class TurnEventRow(Base):
    """How many turns were refused or failed, per UTC day, platform and kind
    (`refused.rate_limit`, `error.provider.server`...): the Overview's refusals and errors.
    Counted with one upsert by whichever process saw it (core/turn/outcome_counts.py)."""

    __tablename__ = "turn_events"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class ToolConfirmationRow(Base):
    """A tool call waiting for its user's Yes or No, and the answer once given: the turn that
    asked waits on this row, whichever process took the press (core/tools/confirmations.py).
    Removed by the waiting turn when it is done; one whose turn died goes when it is long
    expired. Seconds since the epoch: processes' monotonic clocks differ."""

    __tablename__ = "tool_confirmations"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))  # only they may answer
    answer: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not yet
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # presses after it are refused

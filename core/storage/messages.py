"""Each conversation's messages with their exact token counts, and a turn's two transactions:
the user's message stored with the window read back, then the answer stored with its usage."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.storage.conversations import MOVE_WINDOW
from core.storage.engine import Database
from core.storage.records import NewMessage, StoredImage, StoredMessage, UsageRecord
from core.storage.retry import Store, retried
from core.storage.schema import MessageImageRow, MessageRow
from core.storage.token_ratios import ratio_values, upsert_ratio
from core.storage.usage import INSERT_USAGE, usage_values
from core.storage.window_cache import DEFAULT_CONVERSATIONS, WindowRows, WindowShape


class MessageStore(Store):
    def __init__(
        self,
        database: Database,
        retry_s: float = 30.0,
        window_cache_size: int = DEFAULT_CONVERSATIONS,
    ) -> None:
        super().__init__(database, retry_s)
        self.windows: WindowRows[StoredMessage] = WindowRows(window_cache_size)
        dialect = postgresql if database.dialect == "postgresql" else sqlite
        # Built once: SQLAlchemy then reuses each statement's compiled form on every turn.
        self._insert_delivery = (
            dialect.insert(MessageRow).on_conflict_do_nothing().returning(MessageRow.id)
        )
        self._upsert_ratio = upsert_ratio(database.dialect)

    async def add_message(self, conversation_id: int, message: NewMessage) -> int | None:
        """Store a message; None when this platform message was already stored (a redelivery)."""
        stored_id, _ = await self.add_message_and_read(conversation_id, message, 0, 0)
        return stored_id

    @retried
    async def add_message_and_read(
        self, conversation_id: int, message: NewMessage, start_id: int, limit: int
    ) -> tuple[int | None, list[StoredMessage]]:
        """Store a message, then read the newest `limit` messages from `start_id` on, newest first.

        One transaction and no separate read for the window: a turn's time is mostly round trips.
        The id is None (and nothing is read) when this platform message was already stored.
        """
        values = _message_values(conversation_id, message)
        cached = self.windows.get(conversation_id, start_id) if limit > 0 else None

        def work(connection: Connection) -> tuple[int | None, tuple[StoredMessage, ...], bool]:
            stored_id = connection.execute(self._insert_delivery, values).scalar()
            if stored_id is not None and message.images:
                connection.execute(
                    insert(MessageImageRow), _image_values(conversation_id, stored_id, message)
                )
            if stored_id is None or limit <= 0:
                return stored_id, (), False
            if cached is not None:
                count, newest_id, id_sum = connection.execute(
                    _WINDOW_SHAPE, {"conversation": conversation_id, "start": start_id}
                ).one()
                shape = WindowShape(count, newest_id, None if id_sum is None else int(id_sum))
                rows = cached.extended(_stored(stored_id, message), shape)
                if rows is not None and len(rows) <= limit:
                    return stored_id, rows, True
            rows = tuple(_newest_first(connection, conversation_id, start_id, limit))
            return stored_id, rows, len(rows) < limit  # fewer than asked: the whole window

        stored_id, rows, whole = await self.database.run(work)
        if stored_id is not None and limit > 0:
            if whole:
                self.windows.put(conversation_id, start_id, rows)
            else:
                self.windows.forget(conversation_id)
        return stored_id, list(rows)

    @retried
    async def newest_messages(
        self, conversation_id: int, start_id: int, limit: int
    ) -> list[StoredMessage]:
        """Newest first: the messages from `start_id` on, at most `limit`."""
        return await self.database.run(lambda c: _newest_first(c, conversation_id, start_id, limit))

    @retried
    async def has_delivery(self, conversation_id: int, platform_message_id: str) -> bool:
        """Whether this platform message is stored already (its update came before)."""
        query = (
            select(MessageRow.id)
            .where(MessageRow.conversation_id == conversation_id)
            .where(MessageRow.platform_message_id == platform_message_id)
            .limit(1)
        )
        return await self.database.read(lambda c: c.execute(query).first()) is not None

    @retried
    async def is_newest_unanswered(self, conversation_id: int, platform_message_id: str) -> bool:
        """Whether this platform message is the conversation's newest stored message (so it has
        no answer yet)."""
        query = (
            select(MessageRow.role, MessageRow.platform_message_id)
            .where(MessageRow.conversation_id == conversation_id)
            .order_by(MessageRow.id.desc())
            .limit(1)
        )
        row = await self.database.run(lambda c: c.execute(query).first())
        return row is not None and row.role == "user" and row[1] == platform_message_id

    @retried
    async def complete_turn(
        self,
        conversation_id: int,
        answer: NewMessage | None,
        usage: UsageRecord | None,
        window_start_id: int | None = None,
        token_ratio: tuple[str, float] | None = None,  # (model, its new learned ratio)
        tool_rounds: Sequence[NewMessage] = (),  # the calls and results before the answer
        more_usage: Sequence[UsageRecord] = (),  # earlier rounds', the tools' own
    ) -> None:
        """Store the answer (after the tool calls and results that led to it), its usage and
        the window's new start (after a cut) together, so no turn is ever half-written (a call
        without its results, say); and what the usage taught about the model's tokenizer."""
        answers = [*tool_rounds, *([] if answer is None else [answer])]
        usages = [*more_usage, *([] if usage is None else [usage])]
        if not answers and not usages and window_start_id is None and token_ratio is None:
            return

        def work(connection: Connection) -> list[int]:
            ids = []
            for stored in answers:
                values = _message_values(conversation_id, stored)
                values["asked_in"] = conversation_id
                ids.append(connection.execute(_INSERT_ANSWER, values).scalar_one())
            for spent in usages:
                connection.execute(INSERT_USAGE, usage_values(conversation_id, spent))
            if window_start_id is not None:
                connection.execute(
                    MOVE_WINDOW, {"conversation": conversation_id, "start": window_start_id}
                )
            if token_ratio is not None:
                connection.execute(self._upsert_ratio, ratio_values(*token_ratio))
            return ids

        ids = await self.database.run(work)
        if not ids:
            self.windows.stored(conversation_id, None, window_start_id)
        for index, (stored_id, stored) in enumerate(zip(ids, answers, strict=True)):
            start = window_start_id if index == 0 else None
            self.windows.stored(conversation_id, _stored(stored_id, stored), start)

    @retried
    async def messages_from(self, conversation_id: int, start_id: int) -> list[StoredMessage]:
        """The window's messages, oldest first."""
        query = _MESSAGE_COLUMNS.where(
            MessageRow.conversation_id == conversation_id, MessageRow.id >= start_id
        ).order_by(MessageRow.id)

        def work(connection: Connection) -> list[StoredMessage]:
            rows = [_row_message(row) for row in connection.execute(query).all()]
            return _with_images(connection, conversation_id, rows)

        return await self.database.run(work)

    @retried
    async def recount(self, counts: Sequence[tuple[int, int]], encoding: str) -> None:
        """Store new token counts (after the chat switched to a model with another encoding)."""
        if not counts:
            return
        values = [{"message": message_id, "tokens": tokens} for message_id, tokens in counts]
        statement = (
            update(MessageRow)
            .where(MessageRow.id == bindparam("message"))
            .values(tokens=bindparam("tokens"), encoding=encoding)
        )
        await self.database.run(lambda c: c.execute(statement, values))
        self.windows.forget()

    @retried
    async def recount_images(
        self, messages: Sequence[StoredMessage], old: Sequence[StoredMessage]
    ) -> None:
        """Store images counted again by another model's rule, with their messages' totals."""
        pairs = zip(messages, old, strict=True)
        changed = [(new, before) for new, before in pairs if new != before]
        if not changed:
            return
        totals = [{"message": new.id, "tokens": new.tokens} for new, _ in changed]
        images = [
            {"message": new.id, "at": at, "tokens": image.tokens, "rule": image.counted_for}
            for new, _ in changed
            for at, image in enumerate(new.images)
        ]

        def work(connection: Connection) -> None:
            connection.execute(_SET_TOKENS, totals)
            if images:
                connection.execute(_SET_IMAGE_TOKENS, images)

        await self.database.run(work)
        self.windows.forget()

    @retried
    async def last_message_id(self, conversation_id: int) -> int:
        query = select(func.max(MessageRow.id)).where(MessageRow.conversation_id == conversation_id)
        return await self.database.run(lambda c: c.execute(query).scalar() or 0)

    @retried
    async def delete_history(self, conversation_id: int) -> int:
        def work(connection: Connection) -> int:
            result = connection.execute(
                delete(MessageRow).where(MessageRow.conversation_id == conversation_id)
            )
            connection.execute(MOVE_WINDOW, {"conversation": conversation_id, "start": 0})
            return result.rowcount

        self.windows.forget(conversation_id)
        return await self.database.run(work)


# An answer records the message it answers (/forget deletes both): the conversation's newest user
# message, which is the turn's own, as the turn holds the conversation's lock.
_INSERT_ANSWER = (
    insert(MessageRow)
    .values(
        reply_to_id=select(func.max(MessageRow.id))
        .where(MessageRow.conversation_id == bindparam("asked_in"), MessageRow.role == "user")
        .scalar_subquery()
    )
    .returning(MessageRow.id)
)
# Plain columns, not ORM objects: a window is hundreds of rows, read on every turn.
# StoredMessage's fields, in order, images apart (see `_row_message`).
_MESSAGE_COLUMNS = select(
    MessageRow.id,
    MessageRow.role,
    MessageRow.content,
    MessageRow.tokens,
    MessageRow.encoding,
    MessageRow.author_name,
    MessageRow.tool_calls,
    MessageRow.tool_call_id,
)
_NEWEST_FIRST = (
    _MESSAGE_COLUMNS.where(
        MessageRow.conversation_id == bindparam("conversation"),
        MessageRow.id >= bindparam("start"),
    )
    .order_by(MessageRow.id.desc())
    .limit(bindparam("limit"))
)
# A window's WindowShape: the index answers it without reading the rows.
_WINDOW_SHAPE = select(func.count(), func.max(MessageRow.id), func.sum(MessageRow.id)).where(
    MessageRow.conversation_id == bindparam("conversation"),
    MessageRow.id >= bindparam("start"),
)


_SET_TOKENS = (
    update(MessageRow)
    .where(MessageRow.id == bindparam("message"))
    .values(tokens=bindparam("tokens"))
)
_SET_IMAGE_TOKENS = (
    update(MessageImageRow)
    .where(
        MessageImageRow.message_id == bindparam("message"),
        MessageImageRow.position == bindparam("at"),
    )
    .values(tokens=bindparam("tokens"), counted_for=bindparam("rule"))
)
_WINDOW_IMAGES = (
    select(
        MessageImageRow.message_id,
        MessageImageRow.media_type,
        MessageImageRow.data,
        MessageImageRow.detail,
        MessageImageRow.width,
        MessageImageRow.height,
        MessageImageRow.tokens,
        MessageImageRow.counted_for,
    )
    .where(
        MessageImageRow.conversation_id == bindparam("conversation"),
        MessageImageRow.message_id >= bindparam("oldest"),
    )
    .order_by(MessageImageRow.message_id, MessageImageRow.position)
)


def _image_values(
    conversation_id: int, message_id: int, message: NewMessage
) -> list[dict[str, Any]]:
    return [
        {
            "message_id": message_id,
            "position": position,
            "conversation_id": conversation_id,
            "media_type": image.media_type,
            "data": image.data,
            "width": image.width,
            "height": image.height,
            "detail": image.detail,
            "tokens": image.tokens,
            "counted_for": image.counted_for,
        }
        for position, image in enumerate(message.images)
    ]


def _with_images(
    connection: Connection, conversation_id: int, messages: list[StoredMessage]
) -> list[StoredMessage]:
    """`messages` with their images (one indexed query; none at all when the window has no
    image, which the index alone tells)."""
    if not messages:
        return messages
    oldest = min(message.id for message in messages)
    found: dict[int, list[StoredImage]] = {}
    for row in connection.execute(
        _WINDOW_IMAGES, {"conversation": conversation_id, "oldest": oldest}
    ):
        encoded = base64.b64encode(row.data).decode("ascii")
        found.setdefault(row.message_id, []).append(
            StoredImage(
                f"data:{row.media_type};base64,{encoded}",
                row.detail,
                row.width,
                row.height,
                row.tokens,
                row.counted_for,
            )
        )
    if not found:
        return messages
    return [
        replace(message, images=tuple(found[message.id])) if message.id in found else message
        for message in messages
    ]


def _message_values(conversation_id: int, message: NewMessage) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "role": message.role,
        "content": message.content,
        "tokens": message.tokens,
        "encoding": message.encoding,
        "author_id": message.author_id,
        "author_name": message.author_name,
        "platform_message_id": message.platform_message_id,
        "tool_calls": message.tool_calls,
        "tool_call_id": message.tool_call_id,
    }


def _stored(message_id: int, message: NewMessage) -> StoredMessage:
    return StoredMessage(
        message_id,
        message.role,
        message.content,
        message.tokens,
        message.encoding,
        message.author_name,
        tuple(image.stored() for image in message.images),
        message.tool_calls,
        message.tool_call_id,
    )


def _newest_first(
    connection: Connection, conversation_id: int, start_id: int, limit: int
) -> list[StoredMessage]:
    rows = connection.execute(
        _NEWEST_FIRST, {"conversation": conversation_id, "start": start_id, "limit": limit}
    ).all()  # one fetch, not one per row: a window is hundreds of rows
    return _with_images(connection, conversation_id, [_row_message(row) for row in rows])


def _row_message(row: Any) -> StoredMessage:
    message_id, role, content, tokens, encoding, author_name, tool_calls, tool_call_id = row
    return StoredMessage(
        message_id, role, content, tokens, encoding, author_name, (), tool_calls, tool_call_id
    )

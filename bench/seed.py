"""Long histories in seconds: rows inserted straight into the messages table.

Running 10,000 turns to build a history would take minutes and measure nothing; the rows written
here are what those turns would have stored, exact token counts included.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from core.storage.schema import MessageRow
from core.tokens import count_message

ENCODING = "o200k_base"  # the default model's (gpt-4o-mini)
VOCABULARY = (
    "the bot answers questions about python async databases tokens windows cache prompt model "
    "message history telegram discord user group thread reply stream latency cost budget memory "
    "please explain why how what when which could would should example code error fix test run"
)
WORDS = VOCABULARY.split()
BATCH = 1000


def chat_text(rng: random.Random, low: int = 6, high: int = 60) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "?"


def history(count: int, seed: int = 7) -> list[tuple[str, str, int]]:
    """(role, content, tokens) for `count` alternating user/assistant messages."""
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        role = "user" if index % 2 == 0 else "assistant"
        content = chat_text(rng) if role == "user" else chat_text(rng, 20, 120)
        rows.append((role, content, count_message(role, content, ENCODING)))
    return rows


async def seed_history(
    database_url: str, conversation_id: int, rows: list[tuple[str, str, int]]
) -> None:
    engine = create_async_engine(database_url)
    now = datetime.now(UTC)
    values = [
        {
            "conversation_id": conversation_id,
            "role": role,
            "content": content,
            "tokens": tokens,
            "encoding": ENCODING,
            "author_id": "42" if role == "user" else None,
            "created_at": now,
        }
        for role, content, tokens in rows
    ]
    async with engine.begin() as connection:
        for start in range(0, len(values), BATCH):
            await connection.execute(insert(MessageRow), values[start : start + BATCH])
    await engine.dispose()

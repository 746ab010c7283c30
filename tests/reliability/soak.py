"""Soak: many chats at once against the fake OpenAI server for minutes, on loopback only.

`make soak` (SOAK_SECONDS=120 by default; SOAK_CHATS, SOAK_DATABASE_URL optional) or
`python -m tests.reliability.soak --seconds 60 --chats 200`. Checks as it runs that every reply
belongs to its own chat, that each request carries exactly that chat's history in order, that
nothing is dropped; then prints the figures and exits non-zero on any violation or if memory grew.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from config.settings import Settings
from core.bootstrap import bootstrap
from core.boundary import AnswerDone, Author, ConversationKey, Failure, IncomingMessage
from core.storage.schema import MessageRow, UsageRow
from core.turn.service import ChatService
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.database import session_on

TAG = re.compile(r"\bchat(\d+) msg(\d+)\b")
GROUP_EVERY = 10  # every 10th chat is a group where three users talk at once
MAX_RSS_GROWTH_MB = 40.0


@dataclass
class Figures:
    sent: int = 0
    answered: int = 0
    failures: int = 0
    violations: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    sent_per_chat: dict[int, int] = field(default_factory=dict)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def responder(figures: Figures) -> Any:
    """Answer with the chat's tag; record a violation when a request mixes chats or skips,
    repeats or reorders that chat's messages."""

    def respond(body: dict[str, Any]) -> FakeReply:
        tags = [
            (int(m.group(1)), int(m.group(2)))
            for message in body["messages"]
            if message["role"] == "user"
            for m in [TAG.search(message["content"])]
            if m
        ]
        chat, last = tags[-1]
        if any(c != chat for c, _ in tags):
            figures.violations.append(f"chat {chat}: another chat's message in its context")
        numbers = [n for _, n in tags]
        if numbers != sorted(set(numbers)):
            figures.violations.append(f"chat {chat}: history out of order {numbers[-5:]}")
        if chat % GROUP_EVERY and numbers != list(range(numbers[0], last + 1)):
            figures.violations.append(f"chat {chat}: a message missing from the history")
        return FakeReply(f"ack chat{chat} msg{last} " + "ok " * 20, chunk_size=12)

    return respond


async def talk(
    service: ChatService, chat: int, figures: Figures, deadline: float, users: int
) -> None:
    """One chat: each of `users` senders sends, waits for the whole answer, sends again."""
    private = chat % GROUP_EVERY != 0
    key = ConversationKey("soak", f"chat{chat}")
    counter = iter(range(10**9))

    async def user(number: int) -> None:
        author = Author(f"u{chat}-{number}", f"User{number}", "en")
        while time.monotonic() < deadline:
            k = next(counter)
            text = f"chat{chat} msg{k} hello, how are you today?"
            message = IncomingMessage(key, author, text, addressed=True, is_private=private)
            figures.sent += 1
            figures.sent_per_chat[chat] = figures.sent_per_chat.get(chat, 0) + 1
            started = time.perf_counter()
            done = None
            async for event in service.handle(message):
                if isinstance(event, AnswerDone):
                    done = event.text
                elif isinstance(event, Failure):
                    figures.failures += 1
                    figures.violations.append(f"chat {chat}: failure {event.text}")
            figures.latencies.append(time.perf_counter() - started)
            if done is None:
                continue
            figures.answered += 1
            if not done.startswith(f"ack chat{chat} msg{k} "):
                figures.violations.append(f"chat {chat} msg {k}: got the answer {done[:30]!r}")

    await asyncio.gather(*(user(n) for n in range(users)))


async def soak(seconds: float, chats: int, database_url: str) -> Figures:
    figures = Figures()
    async with FakeOpenAI(first_token_delay_s=0.02, latency_s=0.08) as llm:
        llm.responder = responder(figures)
        llm.cache = type(llm.cache)(capacity=100)  # keep the fake's own memory small
        settings = Settings(
            openai_api_key="sk-soak",
            openai_base_url=llm.base_url,
            openai_max_retries=0,
            database_url=database_url,
            default_context_tokens=400,  # small: windows are cut again and again
            rate_limit_user_per_min=100_000,  # on, so their bookkeeping is measured too
            rate_limit_chat_per_min=100_000,
            budget_user_daily_usd=1000.0,
            budget_chat_monthly_usd=1000.0,
            _env_file=None,  # type: ignore[call-arg]
        )
        async with bootstrap(settings) as app:
            deadline = time.monotonic() + seconds
            started = time.monotonic()

            async def sample() -> None:
                while time.monotonic() < deadline:
                    llm.requests.clear()  # the fake records every request: its memory, not ours
                    figures.rss_mb.append((time.monotonic() - started, rss_mb()))
                    await asyncio.sleep(max(seconds / 20, 0.5))

            sampler = asyncio.create_task(sample())
            await asyncio.gather(
                *(
                    talk(app.service, chat, figures, deadline, 1 if chat % GROUP_EVERY else 3)
                    for chat in range(chats)
                )
            )
            sampler.cancel()
            figures.rss_mb.append((time.monotonic() - started, rss_mb()))
            if len(app.service._locks):
                figures.violations.append(f"{len(app.service._locks)} locks left behind")
            async with session_on(app) as session:
                stored_users = await session.scalar(
                    select(func.count()).where(MessageRow.role == "user")
                )
                stored_answers = await session.scalar(
                    select(func.count()).where(MessageRow.role == "assistant")
                )
                usage_rows = await session.scalar(select(func.count()).select_from(UsageRow))
            if stored_users != figures.sent:
                figures.violations.append(f"{figures.sent} sent but {stored_users} stored")
            if not stored_answers == usage_rows == figures.answered:
                figures.violations.append(
                    f"{figures.answered} answered, {stored_answers} stored, {usage_rows} usage"
                )
    return figures


def report(figures: Figures, seconds: float, chats: int, database: str) -> bool:
    latencies = sorted(figures.latencies)

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    warm = [mb for t, mb in figures.rss_mb if t >= seconds * 0.25] or [figures.rss_mb[-1][1]]
    growth = figures.rss_mb[-1][1] - warm[0]
    groups = chats // GROUP_EVERY
    print(f"soak: {seconds:.0f} s, {chats} chats ({groups} groups of 3 users), {database}")
    print(f"  turns sent {figures.sent}, answered {figures.answered}, failures {figures.failures}")
    print(f"  throughput {figures.answered / seconds:.1f} turns/s")
    print(
        f"  latency ms p50 {pct(0.5):.0f}  p95 {pct(0.95):.0f}  p99 {pct(0.99):.0f}  "
        f"max {latencies[-1] * 1000:.0f}  (fake model ~100 ms)"
    )
    print(
        f"  RSS MB start {figures.rss_mb[0][1]:.1f}  after warm-up {warm[0]:.1f}  "
        f"peak {max(mb for _, mb in figures.rss_mb):.1f}  end {figures.rss_mb[-1][1]:.1f}  "
        f"growth after warm-up {growth:+.1f}"
    )
    print(f"  violations {len(figures.violations)}")
    for violation in figures.violations[:20]:
        print(f"    {violation}")
    ok = not figures.violations and growth < MAX_RSS_GROWTH_MB and figures.answered > 0
    print("soak: OK" if ok else "soak: FAILED")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("SOAK_SECONDS", 120)))
    parser.add_argument("--chats", type=int, default=int(os.environ.get("SOAK_CHATS", 200)))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    database_url = os.environ.get("SOAK_DATABASE_URL", "")
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{tmp}/soak.db"
        label = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        figures = asyncio.run(soak(args.seconds, args.chats, url))
    return 0 if report(figures, args.seconds, args.chats, label) else 1


if __name__ == "__main__":
    sys.exit(main())

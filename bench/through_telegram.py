"""Item 6: the concurrency run through the Telegram adapter, python-telegram-bot and the fake
Bot API server (fakes/telegram_api.py), with the adapter's production settings.

Per answered turn: the adapter's added time (from the update being available to the final
message arriving, minus the core's whole turn: its own time plus the model's), the time from
the user's message to the complete answer, the delay from the model's first text (the first
non-empty chunk written to the socket) to the first text a user can see (a draft or a
message), and the Bot API calls made for the answer. The fake model runs in its own process,
as in the concurrency run (bench/telegram_model.py logs when it wrote each answer's first text,
on the machine-wide monotonic clock), and so do the fake Bot API server and the users writing to
the bot (bench/telegram_users.py): this process runs only the bot.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import (
    PROJECT_ROOT,
    CollectorPauses,
    Database,
    FakeModelProcess,
    Workdir,
    ask,
    percentile,
)
from bench.telegram_model import LATENCY_S, first_text_args, read_first_texts
from bench.telegram_users import FIRST_CHAT_ID
from bots.heap import frozen_startup_heap
from bots.telegram_adapter import run_telegram
from config.settings import Settings
from core.bootstrap import bootstrap
from core.turn.reporting import TurnStats


@dataclass(frozen=True, slots=True)
class TelegramResult:
    chats: int
    turns: int
    adapter_p50_ms: float
    adapter_p99_ms: float
    first_visible_p50_ms: float
    first_visible_p99_ms: float
    # Without each chat's first turn: those start at the same instant in every chat (the
    # users all write at once), a burst the later turns, spread by the answers' pace, do not see.
    first_visible_later_p99_ms: float
    answer_p50_ms: float  # the user's message sent -> the complete answer shown
    answer_p99_ms: float
    calls_per_answer: float  # drafts, messages and edits
    wall_s: float
    cpu_s: float = float("nan")  # this process (the bot alone) from start to the last answer
    longest_gc_pause_ms: float = float("nan")  # CPython's collector, while the users ran

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / max(1, self.turns)


async def run_telegram_bench(
    database: Database,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
    latency_s: float = LATENCY_S,
) -> TelegramResult:
    first_text_log = workdir.path / f"first-text-{chats}.log"
    users_log = workdir.path / f"telegram-users-{chats}.json"
    turns: list[TurnStats] = []
    model = FakeModelProcess(
        latency_s, module="bench.telegram_model", extra_args=first_text_args(first_text_log)
    )
    async with model as llm, _users(chats, turns_per_chat, users_log) as (users, root, token):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            openai_api_key="sk-bench",
            openai_base_url=llm.base_url,
            openai_max_retries=0,
            database_url=database.url,
            tiktoken_cache_dir=workdir.path / "tiktoken",
            telegram_bot_token=token,
            telegram_base_url=root,
            telegram_poll_timeout_s=1,  # only shortens shutdown; updates return at once
        )
        async with bootstrap(settings) as app:
            # As in the concurrency run: connections, encodings and lazy imports are paid
            # before CPU is counted, so CPU per turn compares with the core's.
            await ask(app, "warmup", "warm up")
            app.service.on_turn = turns.append
            stop = asyncio.Event()
            with frozen_startup_heap(), CollectorPauses() as pauses:  # as `python -m bots`
                task = asyncio.create_task(run_telegram(app.service, app.settings, stop))
                assert users.stdout is not None
                # The bot's CPU counts from the users' first message (its start-up is not a
                # turn) to their last answer.
                if not (await _line_from(users.stdout, task, 60)).startswith(b"STARTED"):
                    raise RuntimeError("the Telegram users did not start")
                cpu_at_start = time.process_time()
                if not (await _line_from(users.stdout, task, 3600)).startswith(b"DONE"):
                    raise RuntimeError("the Telegram users did not finish")
                cpu_s = time.process_time() - cpu_at_start
                stop.set()
                await asyncio.wait_for(task, 30)
    log = json.loads(users_log.read_text())
    sent = {_key(k): v for k, v in log["sent"].items()}
    ended = {_key(k): v for k, v in log["ended"].items()}
    first_texts = read_first_texts(first_text_log)

    core_s: dict[int, list[float]] = {}  # per chat, its turns in order
    for stats in turns:
        number = int(stats.key.chat_id) - FIRST_CHAT_ID
        core_s.setdefault(number, []).append(stats.bot_s + stats.model_s)
    adapter = [
        (ended[(number, turn)] - sent[(number, turn)] - core_s[number][turn]) * 1000
        for (number, turn) in ended
        if turn < len(core_s.get(number, []))
    ]
    answer = [(ended[key] - sent[key]) * 1000 for key in ended]
    shown_at: dict[int, list[float]] = {}  # per chat, when its delivery calls arrived, in order
    for number, at in log["delivery"]:
        shown_at.setdefault(number, []).append(at)
    first_visible, after_first = [], []  # every turn; each chat's turns after its first
    for (number, turn), written_at in first_texts.items():
        times = shown_at.get(number, [])
        index = bisect.bisect_left(times, written_at)
        if index < len(times):
            first_visible.append((times[index] - written_at) * 1000)
            if turn > 0:
                after_first.append(first_visible[-1])
    return TelegramResult(
        chats=chats,
        turns=len(turns),
        adapter_p50_ms=percentile(adapter, 50),
        adapter_p99_ms=percentile(adapter, 99),
        first_visible_p50_ms=percentile(first_visible, 50),
        first_visible_p99_ms=percentile(first_visible, 99),
        first_visible_later_p99_ms=percentile(after_first, 99),
        answer_p50_ms=percentile(answer, 50),
        answer_p99_ms=percentile(answer, 99),
        calls_per_answer=len(log["delivery"]) / max(len(turns), 1),
        wall_s=log["wall_s"],
        cpu_s=cpu_s,
        longest_gc_pause_ms=pauses.longest_ms,
    )


async def _line_from(
    stream: asyncio.StreamReader, bot: asyncio.Task[None], timeout_s: float
) -> bytes:
    """The next line the users print, b"" if the wait timed out; raises if the bot stopped."""
    line = asyncio.create_task(stream.readline())
    await asyncio.wait({line, bot}, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    if bot.done():
        line.cancel()
        await bot  # the bot stopped on its own: show why
        raise RuntimeError("the bot stopped during the Telegram run")
    if not line.done():
        line.cancel()
        return b""
    return line.result()


def _key(text: str) -> tuple[int, int]:
    number, turn = text.split(":")
    return int(number), int(turn)


@asynccontextmanager
async def _users(
    chats: int, turns: int, out: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, str, str]]:
    """The fake Bot API and its users (bench/telegram_users.py) in their own process."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        "-m",
        "bench.telegram_users",
        "--chats",
        str(chats),
        "--turns",
        str(turns),
        "--out",
        str(out),
        stdout=asyncio.subprocess.PIPE,
        env=env,
        cwd=PROJECT_ROOT,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        found = re.search(r"TELEGRAM_BASE_URL=(\S+) TOKEN=(\S+)", line)
        if not found:
            raise RuntimeError(f"the fake Bot API did not start: {line!r}")
        yield process, found.group(1), found.group(2)
    finally:
        if process.returncode is None:
            process.terminate()
            await process.wait()

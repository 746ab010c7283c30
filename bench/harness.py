"""Building a whole bot for a benchmark: fresh databases, the fake model, turn statistics."""

from __future__ import annotations

import asyncio
import gc
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from config.settings import Settings, normalize_database_url
from core.bootstrap import App, bootstrap
from core.boundary import AnswerDone, Author, ConversationKey, Failure, IncomingMessage
from core.tools.base import ToolSource
from core.turn.reporting import TurnStats

BENCH_USER = Author("42", "Bench", "en", can_manage=True)
PLATFORM = "bench"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Database:
    kind: str  # "sqlite" | "postgres"
    url: str


class Workdir:
    """A temporary directory for SQLite files and the tiktoken cache, removed at the end."""

    def __init__(self) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="gptbot-bench-"))
        self._count = 0

    def sqlite(self) -> Database:
        self._count += 1
        return Database("sqlite", f"sqlite+aiosqlite:///{self.path / f'bench{self._count}.db'}")

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


async def fresh_postgres(url: str) -> Database:
    """An empty `public` schema in the given PostgreSQL database."""
    url = normalize_database_url(url)
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return Database("postgres", url)


class CollectorPauses:
    """The longest pause of CPython's garbage collector while the `with` block runs."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._started = 0.0

    def __enter__(self) -> CollectorPauses:
        gc.callbacks.append(self._note)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest_ms = max(self.longest_ms, (time.perf_counter() - self._started) * 1000)


@dataclass
class TurnLog:
    """Every TurnStats the core reported (ChatService.on_turn), in order."""

    turns: list[TurnStats] = field(default_factory=list)

    def __call__(self, stats: TurnStats) -> None:
        self.turns.append(stats)

    def clear(self) -> None:
        self.turns.clear()


def bench_settings(
    database: Database, model_url: str, workdir: Workdir, **overrides: Any
) -> Settings:
    """The settings every benchmark bot runs with: no retries, the fake model, a fresh database."""
    values: dict[str, Any] = {
        "openai_api_key": "sk-bench",
        "openai_base_url": model_url,
        "openai_max_retries": 0,
        "openai_timeout_s": 60,
        "database_url": database.url,
        "tiktoken_cache_dir": workdir.path / "tiktoken",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(
    database: Database,
    model_url: str,
    workdir: Workdir,
    tool_sources: Sequence[ToolSource] = (),
    **overrides: Any,
) -> AsyncIterator[tuple[App, TurnLog]]:
    log = TurnLog()
    settings = bench_settings(database, model_url, workdir, **overrides)
    async with bootstrap(settings, tool_sources=tool_sources) as app:
        app.service.on_turn = log
        yield app, log


def message(chat: str, text: str, message_id: str = "") -> IncomingMessage:
    return IncomingMessage(
        key=ConversationKey(PLATFORM, chat),
        author=BENCH_USER,
        text=text,
        addressed=True,
        is_private=True,
        message_id=message_id,
    )


class TurnFailed(RuntimeError):
    """The bot answered a turn with an error message instead of an answer."""


async def ask(app: App, chat: str, text: str) -> str:
    """One whole turn; the answer's text (a Failure raises: a benchmark must not hide errors)."""
    answer = ""
    async for event in app.service.handle(message(chat, text)):
        if isinstance(event, AnswerDone):
            answer = event.text
        elif isinstance(event, Failure):
            raise TurnFailed(f"turn failed in {chat}: {event.text}")
    return answer


class FakeModelProcess:
    """The fake OpenAI server (fakes/openai_server.py) in its own process.

    A real model runs elsewhere: serving it from another process keeps its CPU time and memory
    (it records every request) out of the bot's figures, and lets it use the second core.
    """

    def __init__(
        self,
        latency_s: float,
        *,
        module: str = "fakes.openai_server",
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.latency_s = latency_s
        self.base_url = ""
        self._module = module  # takes --port and --latency, prints OPENAI_BASE_URL=... first
        self._extra_args = extra_args
        self._process: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> FakeModelProcess:
        root = PROJECT_ROOT
        env = {
            **os.environ,
            "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-u",
            "-m",
            self._module,
            "--port",
            "0",
            "--latency",
            str(self.latency_s),
            *self._extra_args,
            stdout=asyncio.subprocess.PIPE,
            env=env,
            cwd=root,
        )
        assert self._process.stdout is not None
        line = (await asyncio.wait_for(self._process.stdout.readline(), 30)).decode()
        found = re.search(r"OPENAI_BASE_URL=(\S+)", line)
        if not found:
            raise RuntimeError(f"the fake OpenAI server did not start: {line!r}")
        self.base_url = found.group(1)
        return self

    def cpu_s(self) -> float:
        """CPU time (user + system) the server process has used so far, from /proc/<pid>/stat."""
        assert self._process is not None
        with open(f"/proc/{self._process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def __aexit__(self, *exc: object) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()


def rss_mb() -> float:
    """This process's resident set size now, in MB (from /proc/self/status)."""
    return _status_kb("VmRSS") / 1024


def peak_rss_mb() -> float:
    return _status_kb("VmHWM") / 1024


def settled_rss_mb() -> float:
    gc.collect()
    return rss_mb()


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field_name} not in /proc/self/status")


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]

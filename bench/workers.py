"""`python -m bench --workers 1,2,3` (issue 15): the same Telegram load answered by 1, 2 and 3
real bot processes (`python -m bots telegram` in webhook mode) on one PostgreSQL database.

Each run: a fresh database, the fake model in its own process (no latency: the bots are
CPU-bound), N bot processes, and this process as the outside world (the fake Bot API and the
webhook POSTs, spread at random over the processes as a PaaS router does). Every conversation
POSTs its three messages at once, in order, so each has a backlog that the shared inbox answers
in order. Reported: turns per second from the first POST to the last answer, and the bots' CPU
per turn (their /proc CPU time over the run, start-up excluded).

CPU per turn grows with N for two reasons the sweep separates: the processes share the machine's
cores (and each serves fewer turns at a time, so less work shares each pass of its event loop),
and a conversation's updates land on processes that do not hold its lock (the cross-process
ordering). Above one process each count runs twice: POSTs spread at random, then each
conversation's POSTs always to the same process ("sticky", no lock ever taken by another
process). The random run's CPU over the sticky run's is the ordering's own cost.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.harness import PROJECT_ROOT, FakeModelProcess, Workdir, fresh_postgres
from fakes.telegram_api import FakeTelegram

SECRET = "bench-workers-secret"
FIRST_CHAT = 20_000


@dataclass(frozen=True, slots=True)
class WorkersResult:
    workers: int
    turns: int
    wall_s: float
    cpu_s: float  # the bot processes' CPU over the run
    # "random": each POST to any process, as a PaaS router spreads them; "sticky": a
    # conversation's POSTs always to the same process, so no process ever waits for another's
    # lock. Same code path (the shared inbox and its locks) either way: the difference between
    # the two at the same N is what ordering across processes costs.
    routing: str = "random"

    @property
    def turns_per_s(self) -> float:
        return self.turns / self.wall_s

    @property
    def cpu_ms_per_turn(self) -> float:
        return self.cpu_s * 1000 / self.turns


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run_workers(
    postgres_url: str,
    workers: int,
    conversations: int = 400,
    messages: int = 3,
    routing: str = "random",
) -> WorkersResult:
    database = await fresh_postgres(postgres_url)
    workdir = Workdir()
    ports = [_free_port() for _ in range(workers)]
    processes: list[asyncio.subprocess.Process] = []
    logs = Path(os.environ.get("BENCH_LOGS", "") or workdir.path)  # BENCH_LOGS: keep them
    try:
        async with FakeModelProcess(0.0) as model, FakeTelegram() as telegram:
            for port in ports:
                env = {
                    **{k: v for k, v in os.environ.items() if not k.endswith(("_KEY", "_TOKEN"))},
                    "PYTHONPATH": str(PROJECT_ROOT),
                    "TELEGRAM_BOT_TOKEN": telegram.token,
                    "TELEGRAM_BASE_URL": telegram.root_url,
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                    "TELEGRAM_WEBHOOK_SECRET": SECRET,
                    "TELEGRAM_USE_DRAFTS": "false",
                    "TELEGRAM_MAX_MESSAGES_PER_S": "0",  # the fake has no bot-wide cap
                    "PORT": str(port),
                    "OPENAI_API_KEY": "sk-bench-123456",
                    "OPENAI_BASE_URL": model.base_url,
                    "DATABASE_URL": database.url,
                    "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
                    "TIKTOKEN_CACHE_DIR": str(workdir.path / "tiktoken"),
                }
                processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bots",
                        "telegram",
                        env=env,
                        cwd=PROJECT_ROOT,
                        stdin=asyncio.subprocess.DEVNULL,
                        stderr=(logs / f"bot-{port}.log").open("wb"),
                    )
                )
            async with aiohttp.ClientSession() as session:
                await _until_healthy(session, ports)
                cpu_before = sum(_cpu_s(p.pid) for p in processes)
                started = time.perf_counter()
                await _load(session, telegram, ports, conversations, messages, routing)
                wall = time.perf_counter() - started
                cpu = sum(_cpu_s(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
                await process.wait()
        workdir.close()
    return WorkersResult(workers, conversations * messages, wall, cpu, routing)


async def _until_healthy(session: aiohttp.ClientSession, ports: list[int]) -> None:
    for port in ports:
        for _ in range(1200):
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as response:
                    if response.status == 200:
                        break
            except (aiohttp.ClientError, OSError):
                pass
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError(f"the bot on port {port} never became healthy")


async def _load(
    session: aiohttp.ClientSession,
    telegram: FakeTelegram,
    ports: list[int],
    conversations: int,
    messages: int,
    routing: str,
) -> None:
    ids = iter(range(1, 10**9))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def conversation(chat: int) -> None:
        for k in range(1, messages + 1):
            update = {"update_id": next(ids), "message": telegram.incoming(chat, f"m{k}")}
            while True:
                port = ports[chat % len(ports)] if routing == "sticky" else random.choice(ports)
                url = f"http://127.0.0.1:{port}/telegram"
                async with session.post(url, json=update, headers=headers) as response:
                    if response.status == 200:
                        break
                await asyncio.sleep(0.05)

    chats = range(FIRST_CHAT, FIRST_CHAT + conversations)
    await asyncio.gather(*(conversation(chat) for chat in chats))
    expected = conversations * messages
    for _ in range(6000):  # ten minutes at most
        if len(telegram.calls_to("sendMessage")) >= expected:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("not every message was answered within ten minutes")


def table(results: list[WorkersResult], cores: int) -> str:
    base = results[0]
    sticky = {r.workers: r for r in results if r.routing == "sticky"}
    lines = [
        f"worker sweep through Telegram webhooks on PostgreSQL ({cores} cores)",
        "| processes | routing | turns | turns/s | × one process | CPU per turn "
        "| vs one process | vs sticky (ordering's cost) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        same_n = sticky.get(result.workers)
        ordering = (
            f"{result.cpu_ms_per_turn / same_n.cpu_ms_per_turn - 1:+.0%}"
            if same_n is not None and result.routing == "random"
            else "-"
        )
        lines.append(
            f"| {result.workers} | {result.routing} | {result.turns} "
            f"| {result.turns_per_s:.0f} | {result.turns_per_s / base.turns_per_s:.2f}× "
            f"| {result.cpu_ms_per_turn:.1f} ms "
            f"| {result.cpu_ms_per_turn / base.cpu_ms_per_turn - 1:+.0%} | {ordering} |"
        )
    return "\n".join(lines)


async def sweep(postgres_url: str, counts: list[int], conversations: int) -> str:
    """Each count with random routing; above one process, with sticky routing right after (the
    same machine state, so the pair's difference is the ordering's own cost)."""
    results = []
    for workers in counts:
        for routing in ("random", "sticky") if workers > 1 else ("random",):
            print(f"bench: {workers} worker process(es), {routing} routing…", file=sys.stderr)
            results.append(await run_workers(postgres_url, workers, conversations, routing=routing))
    return table(results, os.cpu_count() or 1)

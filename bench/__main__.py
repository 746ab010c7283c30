"""`python -m bench [--quick] [--json FILE]`: run the suite, print a table, optionally save JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

from bench.concurrency import ConcurrencyResult, run_client_alone, run_concurrency
from bench.core_paced import run_core_at_telegram_pace
from bench.cost import run_cost
from bench.harness import Database, FakeModelProcess, Workdir, fresh_postgres
from bench.media import run_media
from bench.memory import run_memory
from bench.overhead import run_overhead
from bench.report import Report
from bench.through_telegram import run_telegram_bench
from bench.tools import run_tools
from bench.vision import run_vision
from bench.workers import sweep

FULL = {"turns": 100, "naive_turns": 20, "chats": 1000, "memory_chats": 10_000, "cost_turns": 200}
# --quick: 30 timed turns per history size (6 naive), 200 concurrent chats instead of 1,000,
# 2,000 chats instead of 10,000 for memory, a 100-turn cost run, concurrency sweep at 10 only.
QUICK = {"turns": 30, "naive_turns": 6, "chats": 200, "memory_chats": 2_000, "cost_turns": 100}
LATENCY_S = 0.3
SWEEP = (10, 100, 300)


def counts_telegram(quick: bool) -> tuple[int, ...]:
    """Chats for the Telegram runs. Final messages keep Telegram's bot-wide 30 a second, so
    1,000 chats x 5 answers take about 3 minutes whatever the bot does; drafts (the first text
    a user sees) are not held to it."""
    return (3, 30, 100) if quick else (3, 30, 100, 1000)


async def run(
    quick: bool, postgres_url: str, only_concurrency: bool = False, only_telegram: bool = False
) -> Report:
    counts = QUICK if quick else FULL
    report = Report(quick=quick, counts=counts)
    workdir = Workdir()
    try:
        if only_concurrency:
            await _concurrency(
                report, workdir, postgres_url, (*SWEEP, counts["chats"]), all_pg=True
            )
            return report
        if only_telegram:
            await _concurrency(report, workdir, "", (100,), all_pg=False)
            await _through_telegram(report, workdir, quick=True)
            return report
        async with FakeModelProcess(0.0) as instant:
            report.step("overhead vs history, sqlite")
            report.overhead["sqlite"] = await run_overhead(
                workdir.sqlite(), instant.base_url, workdir, counts["turns"], counts["naive_turns"]
            )
            if postgres_url:
                report.step("overhead vs history, postgres")
                report.overhead["postgres"] = await run_overhead(
                    await fresh_postgres(postgres_url),
                    instant.base_url,
                    workdir,
                    counts["turns"],
                    counts["naive_turns"],
                )
            report.step("memory")
            report.memory = await run_memory(
                workdir.sqlite(), instant.base_url, workdir, counts["memory_chats"]
            )
            report.step("media: ten 20 MB voice notes at once")
            report.media = await run_media(model_url=instant.base_url)
        sweep = SWEEP[:1] if quick else SWEEP
        await _concurrency(report, workdir, postgres_url, (*sweep, counts["chats"]), all_pg=False)
        await _through_telegram(report, workdir, quick)
        report.step("cost")
        report.cost = await run_cost(workdir.sqlite(), workdir, counts["cost_turns"])
    finally:
        workdir.close()
    return report


async def _through_telegram(report: Report, workdir: Workdir, quick: bool) -> None:
    """The Telegram runs, then the core alone at their pace (what their CPU is compared with)."""
    for chats in counts_telegram(quick):
        report.step(f"through Telegram, {chats} chats")
        report.telegram.append(await run_telegram_bench(workdir.sqlite(), workdir, chats))
    report.step("the core alone at Telegram's pace, 100 chats")
    report.core_at_telegram_pace = await run_core_at_telegram_pace(
        workdir.sqlite(), workdir, chats=100
    )


async def _concurrency(
    report: Report, workdir: Workdir, postgres_url: str, chat_counts: tuple[int, ...], all_pg: bool
) -> None:
    """The model client alone, then the bot on SQLite (and PostgreSQL), at each number of chats;
    the last count is the headline run. PostgreSQL runs at the headline count only, unless
    `all_pg`."""
    *sweep, headline = chat_counts
    async with FakeModelProcess(LATENCY_S) as slow:

        async def bot(database: Database, chats: int) -> ConcurrencyResult:
            return await run_concurrency(
                database, slow.base_url, LATENCY_S, workdir, chats, model_cpu=slow.cpu_s
            )

        for chats in chat_counts:
            report.step(f"concurrency, model client alone, {chats} chats")
            report.client_alone[chats] = await run_client_alone(
                slow.base_url, LATENCY_S, workdir, chats, model_cpu=slow.cpu_s
            )
        for chats in sweep:
            report.step(f"concurrency, sqlite, {chats} chats")
            report.sweep[("sqlite", chats)] = await bot(workdir.sqlite(), chats)
            if postgres_url and all_pg:
                report.step(f"concurrency, postgres, {chats} chats")
                report.sweep[("postgres", chats)] = await bot(
                    await fresh_postgres(postgres_url), chats
                )
        report.step(f"concurrency, sqlite, {headline} chats")
        report.concurrency["sqlite"] = await bot(workdir.sqlite(), headline)
        if postgres_url:
            report.step(f"concurrency, postgres, {headline} chats")
            report.concurrency["postgres"] = await bot(await fresh_postgres(postgres_url), headline)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller counts, under two minutes")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures as JSON")
    parser.add_argument(
        "--no-postgres",
        action="store_true",
        help="skip PostgreSQL even if TEST_DATABASE_URL is set",
    )
    parser.add_argument(
        "--concurrency",
        action="store_true",
        help="only the concurrency runs: the model client alone, then the bot on each "
        f"database, at {', '.join(map(str, SWEEP))} and {FULL['chats']:,} chats "
        f"({QUICK['chats']} with --quick)",
    )
    parser.add_argument(
        "--telegram",
        action="store_true",
        help="only the Telegram runs at 3, 30 and 100 chats, and the core alone at 100 chats "
        "(CPU per turn compared)",
    )
    parser.add_argument(
        "--vision",
        action="store_true",
        help="only the vision run: a text turn's bot time with one stored photo in the window",
    )
    parser.add_argument(
        "--tools",
        action="store_true",
        help="only the tools run: what one round of tool calls adds to a turn's bot time",
    )
    parser.add_argument(
        "--media",
        action="store_true",
        help="only the media run: the bot's RSS while ten 20 MB voice notes arrive at once",
    )
    parser.add_argument(
        "--workers",
        metavar="N,N,...",
        help="only the worker sweep (issue 15): the same Telegram webhook load answered by N "
        "bot processes on PostgreSQL (TEST_DATABASE_URL), e.g. --workers 1,2,3",
    )
    parser.add_argument(
        "--conversations",
        type=int,
        default=400,
        help="conversations of the worker sweep (3 messages each, POSTed at once: Telegram's "
        "burst for one chat, so its pacing of one message a second does not set the pace; "
        "default 400)",
    )
    args = parser.parse_args()
    if args.workers:
        url = os.environ.get("TEST_DATABASE_URL", "")
        if not url:
            parser.error("--workers needs TEST_DATABASE_URL (PostgreSQL)")
        counts = [int(n) for n in args.workers.split(",")]
        print(asyncio.run(sweep(url, counts, args.conversations)))
        return
    if args.media:
        print(asyncio.run(run_media()).table())
        return
    if args.vision:
        print(asyncio.run(run_vision(30 if args.quick else 100)).table())
        return
    if args.tools:
        print(asyncio.run(run_tools(30 if args.quick else 100)).table())
        return
    postgres_url = "" if args.no_postgres else os.environ.get("TEST_DATABASE_URL", "")
    started, load_start = time.perf_counter(), os.getloadavg()[0]
    report = asyncio.run(run(args.quick, postgres_url, args.concurrency, args.telegram))
    report.elapsed_s = time.perf_counter() - started
    report.load_average = (load_start, os.getloadavg()[0])
    report.machine = machine()
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.figures(), indent=2) + "\n")
        print(f"figures written to {args.json}", file=sys.stderr)


if __name__ == "__main__":
    main()

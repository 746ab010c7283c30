"""The benchmark harness in miniature (a few seconds), so it cannot rot between full runs."""

from __future__ import annotations

from bench.concurrency import run_client_alone, run_concurrency
from bench.cost import run_cost
from bench.harness import Workdir
from bench.media import run_media
from bench.memory import run_memory
from bench.overhead import run_overhead
from bench.report import Report
from bench.through_telegram import run_telegram_bench
from fakes.openai_server import FakeOpenAI

REQUIRED_KEYS = (
    "overhead_p50_ms_h10",
    "overhead_p50_ms_h1000",
    "overhead_p50_ms_h10000",
    "overhead_p99_ms_h10000",
    "naive_ratio_h1000",
    "naive_ratio_h10000",
    "concurrency_efficiency",
    "client_alone_efficiency",
    "concurrency_efficiency_vs_client_alone",
    "concurrency_cpu_ms_per_turn",
    "turns_per_s",
    "rss_growth_mb_10k_chats",
    "media_peak_growth_ratio",
    "media_rss_after_growth_mb",
    "cached_prompt_share",
    "cost_ratio_vs_sliding",
    "first_visible_ms",
    "first_visible_p99_ms",
)


async def test_every_benchmark_runs_and_reports_the_issue_keys(llm: FakeOpenAI) -> None:
    workdir = Workdir()
    try:
        report = Report(quick=True, counts={})
        report.overhead["sqlite"] = await run_overhead(
            workdir.sqlite(), llm.base_url, workdir, turns=3, naive_turns=2, sizes=(10, 1000, 10000)
        )
        report.memory = await run_memory(workdir.sqlite(), llm.base_url, workdir, chats=20)
        report.media = await run_media(notes=2, note_mb=2, model_url=llm.base_url)
        async with FakeOpenAI(latency_s=0.05) as slow:
            report.concurrency["sqlite"] = await run_concurrency(
                workdir.sqlite(), slow.base_url, 0.05, workdir, chats=5, turns_per_chat=2
            )
            report.client_alone[5] = await run_client_alone(
                slow.base_url, 0.05, workdir, chats=5, turns_per_chat=2
            )
        report.telegram.append(
            await run_telegram_bench(workdir.sqlite(), workdir, chats=2, turns_per_chat=2)
        )
        report.cost = await run_cost(workdir.sqlite(), workdir, turns=12)
    finally:
        workdir.close()

    figures = report.figures()
    assert set(REQUIRED_KEYS) <= set(figures)
    assert figures["concurrency_mixups"] == 0
    assert figures["concurrency_turns"] == 10
    assert report.client_alone[5].turns == 10
    assert report.media.answered == 2  # 2 MB voice notes: over aiohttp's default 1 MB body
    assert figures["client_alone_mixups_5_chats"] == 0
    assert figures["client_alone_failed_turns_5_chats"] == 0
    assert "client alone" in report.table()
    assert figures["telegram_turns_2_chats"] == 4
    assert figures["naive_ratio_h10000"] > 1  # re-encoding 10,000 messages is never free
    assert "Targets" in report.table()

"""The figures of one run: a flat JSON object and a readable table, each with its target."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.concurrency import ConcurrencyResult
from bench.core_paced import PacedCoreResult
from bench.cost import PRICED_MODELS, CostResult
from bench.media import MediaResult
from bench.memory import MemoryResult
from bench.overhead import OverheadResult
from bench.through_telegram import TelegramResult

Figures = dict[str, Any]
# key -> (readable target, check); only keys with a target from the issue.
TARGETS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "overhead_p50_ms_h10000": ("<= 2", lambda v: v <= 2),
    "overhead_p99_ms_h10000": ("<= 10", lambda v: v <= 10),
    "overhead_growth_ratio": ("<= 1.5", lambda v: v <= 1.5),
    "naive_ratio_h1000": (">= 10", lambda v: v >= 10),
    "naive_ratio_h10000": ("> h1000", lambda v: True),
    "concurrency_efficiency": (">= 0.9", lambda v: v >= 0.9),
    "pg_concurrency_efficiency": (">= 0.8", lambda v: v >= 0.8),
    "rss_growth_mb_10k_chats": ("<= 50", lambda v: v <= 50),
    # Issue 13: ten 20 MB voice notes at once; "back to baseline" read as less than one note.
    "media_peak_growth_ratio": ("< 3", lambda v: v < 3),
    "media_rss_after_growth_mb": ("< 20", lambda v: v < 20),
    "cached_prompt_share": (">= 0.6", lambda v: v >= 0.6),
    "cost_ratio_vs_sliding": ("<= 0.6", lambda v: v <= 0.6),
    "first_visible_ms": ("<= 100", lambda v: v <= 100),
    "first_visible_p99_ms": ("<= 100", lambda v: v <= 100),
    # Issue 17: ratios measured in one run.
    "telegram_cpu_ratio": ("<= 2", lambda v: v <= 2),
    "first_visible_p99_ratio_30_vs_3": ("<= 2", lambda v: v <= 2),
    "first_visible_p99_ratio_100_vs_3": ("<= 3", lambda v: v <= 3),
    "concurrency_efficiency_vs_client_alone": (">= 0.6", lambda v: v >= 0.6),
}


@dataclass
class Report:
    quick: bool
    counts: dict[str, int]
    overhead: dict[str, list[OverheadResult]] = field(default_factory=dict)
    concurrency: dict[str, ConcurrencyResult] = field(default_factory=dict)
    sweep: dict[tuple[str, int], ConcurrencyResult] = field(default_factory=dict)
    client_alone: dict[int, ConcurrencyResult] = field(default_factory=dict)  # by chats
    telegram: list[TelegramResult] = field(default_factory=list)
    core_at_telegram_pace: PacedCoreResult | None = None
    memory: MemoryResult | None = None
    media: MediaResult | None = None
    cost: CostResult | None = None
    elapsed_s: float = 0.0
    load_average: tuple[float, float] = (0.0, 0.0)  # 1-minute load at start and end
    machine: dict[str, Any] = field(default_factory=dict)

    def step(self, name: str) -> None:
        print(f"... {name}", flush=True)

    def figures(self) -> Figures:
        out: Figures = {"quick": self.quick}
        for database, results in self.overhead.items():
            prefix = "" if database == "sqlite" else "pg_"
            by_size = {r.history: r for r in results}
            for r in results:
                out[f"{prefix}overhead_p50_ms_h{r.history}"] = r.p50_ms
                out[f"{prefix}overhead_p99_ms_h{r.history}"] = r.p99_ms
                out[f"{prefix}naive_p50_ms_h{r.history}"] = r.naive_p50_ms
                out[f"{prefix}naive_ratio_h{r.history}"] = r.naive_ratio
            if 10 in by_size and 10000 in by_size:
                out[f"{prefix}overhead_growth_ratio"] = by_size[10000].p50_ms / by_size[10].p50_ms
            out[f"{prefix}overhead_turns_per_size"] = results[0].turns
        for database, c in self.concurrency.items():
            prefix = "" if database == "sqlite" else "pg_"
            out |= {
                f"{prefix}concurrency_chats": c.chats,
                f"{prefix}concurrency_turns": c.turns,
                f"{prefix}concurrency_wall_s": c.wall_s,
                f"{prefix}concurrency_ideal_s": c.ideal_s,
                f"{prefix}concurrency_efficiency": c.efficiency,
                f"{prefix}turns_per_s": c.turns_per_s,
                f"{prefix}concurrency_overhead_p50_ms": c.overhead_p50_ms,
                f"{prefix}concurrency_overhead_p99_ms": c.overhead_p99_ms,
                f"{prefix}concurrency_peak_rss_mb": c.peak_rss_mb,
                f"{prefix}concurrency_mixups": c.mixups,
                f"{prefix}concurrency_failed_turns": c.failures,
                f"{prefix}concurrency_cpu_ms_per_turn": c.cpu_ms_per_turn,
                f"{prefix}concurrency_loop_cpu_ms_per_turn": c.loop_cpu_ms_per_turn,
                f"{prefix}concurrency_model_cpu_ms_per_turn": c.model_cpu_ms_per_turn,
                f"{prefix}concurrency_model_cpu_share": c.model_cpu_share,
                f"{prefix}concurrency_efficiency_vs_client_alone": self._vs_alone(c),
            }
        for (database, chats), c in self.sweep.items():
            prefix = "" if database == "sqlite" else "pg_"
            out[f"{prefix}concurrency_efficiency_{chats}_chats"] = c.efficiency
            out[f"{prefix}turns_per_s_{chats}_chats"] = c.turns_per_s
            out[f"{prefix}cpu_ms_per_turn_{chats}_chats"] = c.cpu_ms_per_turn
            out[f"{prefix}loop_cpu_ms_per_turn_{chats}_chats"] = c.loop_cpu_ms_per_turn
            out[f"{prefix}efficiency_vs_client_alone_{chats}_chats"] = self._vs_alone(c)
        for chats, c in self.client_alone.items():
            out[f"client_alone_efficiency_{chats}_chats"] = c.efficiency
            out[f"client_alone_turns_per_s_{chats}_chats"] = c.turns_per_s
            out[f"client_alone_cpu_ms_per_turn_{chats}_chats"] = c.cpu_ms_per_turn
            out[f"client_alone_loop_cpu_ms_per_turn_{chats}_chats"] = c.loop_cpu_ms_per_turn
            out[f"client_alone_model_cpu_ms_per_turn_{chats}_chats"] = c.model_cpu_ms_per_turn
            out[f"client_alone_model_cpu_share_{chats}_chats"] = c.model_cpu_share
            out[f"client_alone_mixups_{chats}_chats"] = c.mixups
            out[f"client_alone_failed_turns_{chats}_chats"] = c.failures
        if self.client_alone:
            # The ceiling at the largest run, next to concurrency_efficiency.
            out["client_alone_efficiency"] = self.client_alone[max(self.client_alone)].efficiency
        if self.memory is not None:
            out |= {
                "memory_chats": self.memory.chats,
                "rss_start_mb": self.memory.start_mb,
                "rss_end_mb": self.memory.end_mb,
                "rss_growth_mb_10k_chats": self.memory.growth_mb,
            }
        if self.media is not None:
            out |= {
                "media_notes": self.media.notes,
                "media_note_mb": self.media.note_mb,
                "media_rss_baseline_mb": self.media.baseline_mb,
                "media_rss_peak_mb": self.media.peak_mb,
                "media_rss_after_mb": self.media.after_mb,
                "media_peak_growth_ratio": self.media.peak_ratio,
                "media_rss_after_growth_mb": self.media.after_growth_mb,
            }
        if self.cost is not None:
            cost = self.cost
            out["cost_turns"] = cost.turns
            out["cached_prompt_share"] = cost.cached_share(cost.ours)
            out["sliding_cached_prompt_share"] = cost.cached_share(cost.sliding)
            for model in PRICED_MODELS:
                suffix = model.replace("-", "_").replace(".", "_")
                out[f"cost_per_turn_usd_{suffix}"] = cost.cost_per_turn(cost.ours, model)
                out[f"sliding_cost_per_turn_usd_{suffix}"] = cost.cost_per_turn(cost.sliding, model)
                out[f"cost_ratio_vs_sliding_{suffix}"] = cost.ratio(model)
            out["cost_ratio_vs_sliding"] = cost.ratio("gpt-5-mini")
        for t in self.telegram:
            out |= {
                f"telegram_turns_{t.chats}_chats": t.turns,
                f"telegram_wall_s_{t.chats}_chats": t.wall_s,
                f"telegram_adapter_p50_ms_{t.chats}_chats": t.adapter_p50_ms,
                f"telegram_adapter_p99_ms_{t.chats}_chats": t.adapter_p99_ms,
                f"first_visible_p50_ms_{t.chats}_chats": t.first_visible_p50_ms,
                f"first_visible_p99_ms_{t.chats}_chats": t.first_visible_p99_ms,
                f"telegram_answer_p50_ms_{t.chats}_chats": t.answer_p50_ms,
                f"telegram_answer_p99_ms_{t.chats}_chats": t.answer_p99_ms,
                f"telegram_calls_per_answer_{t.chats}_chats": t.calls_per_answer,
                f"telegram_cpu_ms_per_turn_{t.chats}_chats": t.cpu_ms_per_turn,
                f"first_visible_later_p99_ms_{t.chats}_chats": t.first_visible_later_p99_ms,
                f"telegram_longest_gc_pause_ms_{t.chats}_chats": t.longest_gc_pause_ms,
            }
        out |= self._telegram_ratios()
        # The headline figure is the largest Telegram run's median, not the most flattering.
        out["first_visible_ms"] = self.telegram[-1].first_visible_p50_ms if self.telegram else None
        out["first_visible_p99_ms"] = (
            self.telegram[-1].first_visible_p99_ms if self.telegram else None
        )
        out["elapsed_s"] = self.elapsed_s
        out["load_average_start"], out["load_average_end"] = self.load_average
        out |= {f"machine_{k}": v for k, v in self.machine.items()}
        return out

    def core_cpu_ms_per_turn(self, chats: int) -> float | None:
        """CPU per turn of the core alone (the concurrency run, SQLite) at the number of chats
        nearest to `chats`: what a Telegram turn's CPU is compared with."""
        runs = {c: r for (database, c), r in self.sweep.items() if database == "sqlite"}
        if "sqlite" in self.concurrency:
            runs[self.concurrency["sqlite"].chats] = self.concurrency["sqlite"]
        if not runs:
            return None
        return runs[min(runs, key=lambda c: abs(c - chats))].cpu_ms_per_turn

    def _telegram_ratios(self) -> Figures:
        out: Figures = {}
        by_chats = {t.chats: t for t in self.telegram}
        if 100 in by_chats and (core := self.core_cpu_ms_per_turn(100)) is not None:
            out["core_cpu_ms_per_turn"] = core
            out["telegram_cpu_ratio_vs_back_to_back"] = by_chats[100].cpu_ms_per_turn / core
        paced = self.core_at_telegram_pace
        if 100 in by_chats and paced is not None and paced.chats == 100:
            out["core_cpu_ms_per_turn_at_telegram_pace"] = paced.cpu_ms_per_turn
            out["telegram_cpu_ratio"] = by_chats[100].cpu_ms_per_turn / paced.cpu_ms_per_turn
        if 3 in by_chats:
            small = by_chats[3]
            for chats in (30, 100):
                if chats in by_chats:
                    big = by_chats[chats]
                    out[f"first_visible_p99_ratio_{chats}_vs_3"] = (
                        big.first_visible_p99_ms / small.first_visible_p99_ms
                    )
                    out[f"first_visible_later_p99_ratio_{chats}_vs_3"] = (
                        big.first_visible_later_p99_ms / small.first_visible_later_p99_ms
                    )
        return out

    def table(self) -> str:
        figures = self.figures()
        lines = [
            f"Benchmarks ({'quick' if self.quick else 'full'} run, {self.elapsed_s:.0f} s) on "
            f"{self.machine.get('cores')} x {self.machine.get('cpu')}, "
            f"Python {self.machine.get('python')}; 1-minute load average "
            f"{self.load_average[0]:.1f} at start, {self.load_average[1]:.1f} at end",
            "",
        ]
        lines += self._overhead_table()
        lines += self._concurrency_table()
        if self.memory is not None:
            m = self.memory
            lines += [
                f"Memory: {m.chats:,} chats, one turn each: RSS {m.start_mb:.1f} -> "
                f"{m.end_mb:.1f} MB, growth {m.growth_mb:.1f} MB",
                "",
            ]
        if self.media is not None:
            lines += [self.media.table().replace("media: ", "Media: ", 1), ""]
        lines += self._telegram_table()
        lines += self._cost_table()
        lines += ["Targets", _row("figure", "value", "target", "")]
        for key, (target, check) in TARGETS.items():
            value = figures.get(key)
            if value is None:
                lines.append(_row(key, "not run", target, ""))
                continue
            if key == "naive_ratio_h10000":
                ok = value > figures.get("naive_ratio_h1000", float("inf"))
            else:
                ok = check(value)
            lines.append(_row(key, f"{value:.3g}", target, "ok" if ok else "MISSED"))
        return "\n".join(lines)

    def _vs_alone(self, c: ConcurrencyResult) -> float | None:
        """The bot's efficiency over the client-alone ceiling at the same number of chats."""
        alone = self.client_alone.get(c.chats)
        return None if alone is None else c.efficiency / alone.efficiency

    def _overhead_table(self) -> list[str]:
        lines = []
        for database, results in self.overhead.items():
            lines.append(
                f"Bot time per turn, {database} (zero-latency model; "
                f"{results[0].turns} turns per size, naive fewer)"
            )
            lines.append(
                _row("history", "p50 ms", "p99 ms", "naive p50 ms", "naive p99 ms", "naive/ours")
            )
            for r in results:
                lines.append(
                    _row(
                        f"{r.history:,}",
                        f"{r.p50_ms:.2f}",
                        f"{r.p99_ms:.2f}",
                        _num(r.naive_p50_ms),
                        _num(r.naive_p99_ms),
                        _num(r.naive_ratio, "x"),
                    )
                )
            lines.append("")
        return lines

    def _concurrency_table(self) -> list[str]:
        if not self.concurrency and not self.sweep and not self.client_alone:
            return []
        lines = [
            "Concurrency (each chat sends its messages one after another; streamed answers; "
            "client alone = the bot's model client with no bot and no database; CPU per turn: "
            "this process (all threads / the event loop's) and the fake model's process)",
            _row(
                "database",
                "chats x turns",
                "latency",
                "wall s",
                "ideal s",
                "efficiency",
                "turns/s",
                "bot p50/p99 ms",
                "peak RSS MB",
                "mixups",
                "failed",
                "CPU ms all/loop",
                "model CPU ms (core)",
                "vs alone",
            ),
        ]
        runs: list[tuple[str, ConcurrencyResult]] = [
            *((database, c) for (database, _), c in self.sweep.items()),
            *self.concurrency.items(),
            *(("client alone", c) for _, c in sorted(self.client_alone.items())),
        ]
        for database, c in runs:
            vs_alone = None if database == "client alone" else self._vs_alone(c)
            lines.append(
                _row(
                    database,
                    f"{c.chats:,} x {c.turns_per_chat}",
                    f"{c.latency_s * 1000:.0f} ms",
                    f"{c.wall_s:.2f}",
                    f"{c.ideal_s:.2f}",
                    f"{c.efficiency:.2f}",
                    f"{c.turns_per_s:.0f}",
                    "-"
                    if database == "client alone"
                    else f"{c.overhead_p50_ms:.1f} / {c.overhead_p99_ms:.1f}",
                    f"{c.peak_rss_mb:.0f}",
                    str(c.mixups),
                    str(c.failures),
                    f"{c.cpu_ms_per_turn:.2f} / {c.loop_cpu_ms_per_turn:.2f}",
                    "-"
                    if c.model_cpu_ms_per_turn is None or c.model_cpu_share is None
                    else f"{c.model_cpu_ms_per_turn:.2f} ({c.model_cpu_share:.0%})",
                    _num(vs_alone, fmt=".2f"),
                )
            )
        return [*lines, ""]

    def _telegram_table(self) -> list[str]:
        if not self.telegram:
            return []
        lines = [
            "Through Telegram (PTB and the fake Bot API; chats x 5 messages; 300 ms model)",
            _row(
                "chats",
                "wall s",
                "adapter p50",
                "adapter p99",
                "1st visible p50",
                "1st visible p99",
                "answer p50",
                "answer p99",
                "calls/answer",
                "CPU/turn",
                "1st vis. p99 later",
                "GC pause max",
            ),
        ]
        for t in self.telegram:
            lines.append(
                _row(
                    str(t.chats),
                    f"{t.wall_s:.2f}",
                    f"{t.adapter_p50_ms:.1f} ms",
                    f"{t.adapter_p99_ms:.1f} ms",
                    f"{t.first_visible_p50_ms:.1f} ms",
                    f"{t.first_visible_p99_ms:.1f} ms",
                    f"{t.answer_p50_ms:.0f} ms",
                    f"{t.answer_p99_ms:.0f} ms",
                    f"{t.calls_per_answer:.1f}",
                    f"{t.cpu_ms_per_turn:.1f} ms",
                    f"{t.first_visible_later_p99_ms:.1f} ms",
                    f"{t.longest_gc_pause_ms:.1f} ms",
                )
            )
        lines.append(
            "(1st vis. p99 later: each chat's turns after its first, which all chats start at the "
            "same instant)"
        )
        paced = self.core_at_telegram_pace
        if paced is not None:
            lines.append(
                f"CPU per turn of the core alone at Telegram's pace ({paced.chats} chats, answers "
                f"at {paced.per_s}/s, same fake model): {paced.cpu_ms_per_turn:.1f} ms"
            )
        core = self.core_cpu_ms_per_turn(100)
        if core is not None:
            lines.append(
                f"CPU per turn of the core alone, turns back to back (concurrency run, SQLite): "
                f"{core:.1f} ms"
            )
        return [*lines, ""]

    def _cost_table(self) -> list[str]:
        if self.cost is None:
            return []
        cost = self.cost
        lines = [
            f"Prompt cache and cost over a {cost.turns}-turn conversation",
            _row("window", "cached share", *(f"$/turn {m}" for m in PRICED_MODELS)),
        ]
        for name, usages in (("ours", cost.ours), ("sliding (naive)", cost.sliding)):
            lines.append(
                _row(
                    name,
                    f"{cost.cached_share(usages):.2f}",
                    *(f"{cost.cost_per_turn(usages, m):.6f}" for m in PRICED_MODELS),
                )
            )
        lines.append(_row("ours / sliding", "", *(f"{cost.ratio(m):.2f}" for m in PRICED_MODELS)))
        return [*lines, ""]


def _num(value: float | None, suffix: str = "", fmt: str = ".1f") -> str:
    return "-" if value is None else f"{value:{fmt}}{suffix}"


def _row(*cells: str) -> str:
    widths = (24, 14, 14, 14, 14, 12, 9, 16, 12, 7, 7, 15, 19, 8)
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)).rstrip()

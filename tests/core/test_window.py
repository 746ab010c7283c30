"""The window rule, as properties over many generated conversations."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from core.turn.window import MIN_MESSAGE_TOKENS, plan_window, rows_to_read


@dataclass(frozen=True)
class WindowRow:
    """What trimming reads of a stored message."""

    id: int
    tokens: int
    role: str = "user"


message_sizes = st.lists(st.integers(MIN_MESSAGE_TOKENS, 400), min_size=1, max_size=120)


def simulate(sizes: list[int], budget: int, watermark: float) -> list[list[int]]:
    """Run turns the way the service does and return the ids sent on each turn."""
    low = int(budget * watermark)
    stored: list[WindowRow] = []
    start = 0
    sent: list[list[int]] = []
    for index, size in enumerate(sizes, start=1):
        stored.append(WindowRow(id=index, tokens=min(size, budget)))
        newest_first = [row for row in reversed(stored) if row.id >= start][: rows_to_read(budget)]
        plan = plan_window(newest_first, start, budget, low)
        start = plan.start_id
        window = [row for row in stored if row.id >= start]
        assert sum(row.tokens for row in window) == plan.tokens
        sent.append([row.id for row in window])
    return sent


@settings(max_examples=300, deadline=None)
@given(message_sizes, st.integers(50, 3000), st.floats(0.3, 1.0))
def test_requests_fit_keep_order_and_always_carry_the_newest(
    sizes: list[int], budget: int, watermark: float
) -> None:
    sent = simulate(sizes, budget, watermark)
    for turn, ids in enumerate(sent, start=1):
        tokens = sum(min(sizes[i - 1], budget) for i in ids)
        assert tokens <= budget
        assert ids == sorted(ids)
        assert ids[-1] == turn  # the new message is always there
        assert ids == list(range(ids[0], turn + 1))  # a contiguous run of the newest messages


@settings(max_examples=300, deadline=None)
@given(message_sizes, st.integers(50, 3000), st.floats(0.3, 1.0))
def test_between_cuts_every_request_extends_the_previous_one(
    sizes: list[int], budget: int, watermark: float
) -> None:
    sent = simulate(sizes, budget, watermark)
    for previous, current in itertools.pairwise(sent):
        if current[0] == previous[0]:  # no cut: same start, so the prompt prefix is identical
            assert current[: len(previous)] == previous
        else:  # a cut only ever moves the start forward
            assert current[0] > previous[0]


def test_cuts_are_rare_steps_not_a_sliding_window() -> None:
    sent = simulate([100] * 200, budget=2000, watermark=0.6)
    starts = [ids[0] for ids in sent]
    cuts = sum(1 for a, b in itertools.pairwise(starts) if a != b)
    # Sliding by one would move the start ~180 times; stepping to 60 % moves it every ~9 turns.
    assert 15 <= cuts <= 25


def test_a_fitting_window_keeps_its_start() -> None:
    rows = [WindowRow(3, 10), WindowRow(2, 10), WindowRow(1, 10)]
    plan = plan_window(rows, start_id=1, budget=30, low_watermark=15)
    assert (plan.start_id, plan.tokens, plan.cut) == (1, 30, False)
    plan = plan_window(rows, start_id=1, budget=29, low_watermark=15)
    assert (plan.start_id, plan.tokens, plan.cut) == (3, 10, True)

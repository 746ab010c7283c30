"""The window with tool calls: however it is cut, a call and its results stay together, so the
transcript sent is one the API accepts (checked by the fake server's own rule)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from core.storage.records import StoredMessage
from core.turn.history import prompt_message
from core.turn.window import choose_window, rows_to_read
from fakes.openai_tools import transcript_refusal

# A turn: the user's message, then (calls, results) rounds, then the answer.
turns = st.lists(
    st.tuples(
        st.integers(4, 60),
        st.lists(st.lists(st.integers(4, 80), min_size=1, max_size=3), max_size=3),
        st.integers(4, 60),
    ),
    min_size=1,
    max_size=25,
)


def history(generated: list[tuple[int, list[list[int]], int]]) -> list[StoredMessage]:
    rows: list[StoredMessage] = []

    def add(role: str, tokens: int, **kw: str) -> None:
        rows.append(StoredMessage(len(rows) + 1, role, f"m{len(rows)}", tokens, "o200k_base", **kw))  # type: ignore[arg-type]

    for asked, rounds, answered in generated:
        add("user", asked)
        for results in rounds:
            ids = [f"call_{len(rows)}_{n}" for n in range(len(results))]
            calls = [
                {"id": i, "type": "function", "function": {"name": "t", "arguments": "{}"}}
                for i in ids
            ]
            add("assistant", 10, tool_calls=json.dumps(calls))
            for call_id, tokens in zip(ids, results, strict=True):
                add("tool", tokens, tool_call_id=call_id)
        add("assistant", answered)
    return rows


@settings(max_examples=300, deadline=None)
@given(turns, st.integers(120, 600), st.floats(0.3, 0.9))
def test_no_orphan_tool_message_whatever_the_cut(
    generated: list[tuple[int, list[list[int]], int]], budget: int, watermark: float
) -> None:
    rows = history(generated)
    start = 0
    # Every turn of the conversation, as the service reads and cuts its window.
    for end in range(1, len(rows) + 1):
        if rows[end - 1].role != "user":
            continue
        newest_first = [r for r in reversed(rows[:end]) if r.id >= start][: rows_to_read(budget)]
        window = choose_window(newest_first, start, budget, int(budget * watermark))
        start = window.start_id
        assert start == 0 or rows[start - 1].role != "tool"  # a cut never starts on a result
        sent = [prompt_message(m) for m in window.messages]
        assert transcript_refusal(sent) is None
        assert window.messages[-1].id == end  # the user's message is always sent

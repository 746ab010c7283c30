"""Telling a `<think>` block from the answer however the stream cuts the content."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from core.model.thinking import ThinkSplitter


def split(chunks: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    pieces = [piece for chunk in chunks for piece in splitter.feed(chunk)] + splitter.finish()
    thought = "".join(text for is_thought, text in pieces if is_thought)
    answer = "".join(text for is_thought, text in pieces if not is_thought)
    return thought, answer


def cut(text: str, at: list[int]) -> list[str]:
    points = sorted({0, len(text), *(p % (len(text) + 1) for p in at)})
    return [text[a:b] for a, b in itertools.pairwise(points)]


@given(st.lists(st.integers(min_value=0), max_size=12))
def test_a_leading_block_is_thought_wherever_the_chunks_are_cut(at: list[int]) -> None:
    text = "\n <think>one </thi two\n</think>\n\nThe answer <think>stays</think> as is."
    assert split(cut(text, at)) == ("one </thi two\n", "The answer <think>stays</think> as is.")


@given(st.text(max_size=40), st.lists(st.integers(min_value=0), max_size=8))
def test_content_without_a_leading_block_is_all_answer(text: str, at: list[int]) -> None:
    if text.lstrip().startswith("<think>"):
        return
    assert split(cut(text, at)) == ("", text)


def test_an_unfinished_thought_stays_a_thought() -> None:
    assert split(["<think>still thin", "king"]) == ("still thinking", "")
    assert split(["<thi"]) == ("", "<thi")  # never became a tag: the answer, as it came

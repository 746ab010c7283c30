"""Splitting long answers: limits respected, nothing lost or reordered, code blocks kept whole."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.chunking import split_message, utf16_len

fragments = st.sampled_from(["ab", "cd ", " ", "\n", "\n\n", "😀", "한", "\u200b", "word " * 9])
plain_text = st.lists(fragments, max_size=400).map("".join)
fenced_text = st.lists(
    st.one_of(fragments, st.just("\n```py\n"), st.just("\n```\n")), max_size=400
).map("".join)


@settings(max_examples=300, deadline=None)
@given(plain_text, st.integers(20, 300))
def test_plain_parts_respect_the_limit_and_rejoin_exactly(text: str, limit: int) -> None:
    parts = split_message(text, limit, utf16_len)
    assert all(utf16_len(part) <= limit for part in parts)
    assert "".join(parts) == text


@settings(max_examples=300, deadline=None)
@given(fenced_text, st.integers(20, 300))
def test_fenced_parts_respect_the_limit_and_keep_every_character(text: str, limit: int) -> None:
    parts = split_message(text, limit, utf16_len)
    assert all(utf16_len(part) <= limit for part in parts)
    # Every character survives, in order; only fence lines are added.
    remaining = iter("".join(parts))
    assert all(char in remaining for char in text)


def test_plain_text_is_split_at_paragraphs_and_rejoins_exactly() -> None:
    text = "\n\n".join(f"Paragraph {n} " + "word " * 60 for n in range(40))
    parts = split_message(text, 2000)
    assert len(parts) > 3
    assert "".join(parts) == text
    assert all(len(part) <= 2000 for part in parts)
    assert all(part.endswith("\n\n") for part in parts[:-1])


def test_a_long_code_block_is_closed_and_reopened() -> None:
    code = "\n".join(f"print({n})" for n in range(600))
    text = f"Here you go:\n```python\n{code}\n```\nDone."
    parts = split_message(text, 1000)
    assert len(parts) >= 5
    for part in parts[1:-1]:
        assert part.startswith("```python\n") and part.endswith("```")
    body = "".join(
        part.removeprefix("```python\n").removesuffix("```") if i else part.removesuffix("```")
        for i, part in enumerate(parts)
    )
    assert [line for line in body.splitlines() if line.startswith("print")] == code.splitlines()


def test_telegram_counts_emoji_as_two_units() -> None:
    assert utf16_len("😀") == 2 and utf16_len("한") == 1
    parts = split_message("😀" * 3000, 4096, utf16_len)
    assert len(parts) == 2 and all(utf16_len(p) <= 4096 for p in parts)
    assert "".join(parts) == "😀" * 3000

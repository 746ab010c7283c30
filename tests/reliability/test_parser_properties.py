"""Hypothesis-generated input through the command parser, /set validation and message splitting:
nothing raises but the documented error, nothing is lost or reordered, limits hold."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.chunking import split_message, utf16_len
from core.commands.catalog import parse_command
from core.model.params import FLOAT_RANGES, SETTABLE_PARAMS, ChatParams, InvalidParam, parse_param
from core.turn.user_input import storable_text

hostile_chars = st.sampled_from(
    ["/", "@", " ", "\n", "\t", "\x00", "\u200b", "\u202e", "😀", "한", "é", "`", "|", "_", "-"]
)
hostile_text = st.lists(st.one_of(st.text(max_size=8), hostile_chars), max_size=60).map("".join)
number_like = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["nan", "inf", "-inf", "1e309", "0x10", "١٢٣", "1_000", "1,5", "+3", "default"]
    ),
    hostile_text,
)


@settings(max_examples=200, deadline=None)
@given(hostile_text)
def test_parse_command_never_raises_and_names_are_clean(text: str) -> None:
    parsed = parse_command(text)
    if parsed is None:
        return
    name, args = parsed
    assert name and name == name.lower() and name.replace("_", "").isalnum()
    assert args == args.strip()
    assert text.strip().startswith("/")


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(categories=["Ll", "Nd"]), min_size=1, max_size=20),
    st.text(max_size=40).filter(lambda s: "\n" not in s),
)
def test_a_command_and_its_arguments_come_back_unchanged(name: str, args: str) -> None:
    assert parse_command(f"/{name} {args}") == (name.lower(), args.strip())


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.sampled_from(SETTABLE_PARAMS), hostile_text), number_like)
def test_parse_param_either_gives_valid_params_or_says_what_is_allowed(name: str, raw: str) -> None:
    try:
        params = parse_param(
            ChatParams(), name, raw, max_output_tokens=16384, context_window=128000
        )
    except InvalidParam as invalid:
        assert invalid.key.startswith("set.")
        return
    for field, (low, high) in FLOAT_RANGES.items():
        value = getattr(params, field)
        assert value is None or (math.isfinite(value) and low <= value <= high)
    assert params.max_tokens is None or 1 <= params.max_tokens <= 16384
    assert params.context_tokens is None or 64 <= params.context_tokens <= 128000
    assert len(params.stop) <= 4 and all(0 < len(stop) <= 64 for stop in params.stop)
    assert ChatParams.from_json(params.to_json()) == params


any_text = st.lists(
    st.one_of(st.text(), st.sampled_from(["\n```py\n", "\n```\n", "```", "\n\n", " ", "😀"])),
    max_size=120,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(any_text, st.integers(16, 400))
def test_split_message_keeps_every_character_in_order_within_the_limit(
    text: str, limit: int
) -> None:
    for length in (len, utf16_len):
        parts = split_message(text, limit, length)
        assert all(length(part) <= limit for part in parts)
        assert all(part for part in parts)
        remaining = iter("".join(parts))
        assert all(char in remaining for char in text)  # an ordered subsequence: nothing lost
        if "```" not in text and "~~~" not in text:
            assert "".join(parts) == text


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(codec=None), max_size=50) | hostile_text)
def test_storable_text_removes_only_what_databases_reject(text: str) -> None:
    clean = storable_text(text)
    clean.encode("utf-8")  # no lone surrogate left
    assert "\x00" not in clean
    if "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text):
        assert clean == text

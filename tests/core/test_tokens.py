"""Exact token counts, offline, matching what the API reports."""
# ruff: noqa: E501  (the cookbook example is quoted verbatim)

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from core import tokens

ROOT = Path(__file__).resolve().parents[2]

# The example conversation of OpenAI's cookbook "How to count tokens with tiktoken", for which
# the API reported prompt_tokens 129 (cl100k_base models) and 124 (o200k_base models).
COOKBOOK = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client deliverable.",
    },
]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to download a BPE file fails loudly instead of silently using the network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("token counting tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    tokens.encoding.cache_clear()
    target = tokens.install_offline_encodings(tmp_path / "cache")
    yield target
    tokens.encoding.cache_clear()


@pytest.mark.parametrize(("encoding_name", "expected"), [("cl100k_base", 129), ("o200k_base", 124)])
def test_cookbook_conversation_counts_what_the_api_reported(
    fresh_cache: Path, encoding_name: str, expected: int
) -> None:
    assert tokens.count_prompt(COOKBOOK, encoding_name) == expected


def test_offline_install_places_files_tiktoken_trusts(fresh_cache: Path) -> None:
    for name, sha256 in tokens.SHIPPED_ENCODINGS.items():
        url = tokens.BLOB_URL.format(name=name)
        cached = fresh_cache / hashlib.sha1(url.encode()).hexdigest()
        assert hashlib.sha256(cached.read_bytes()).hexdigest() == sha256


def test_offline_install_repairs_a_corrupt_cache_file(fresh_cache: Path) -> None:
    url = tokens.BLOB_URL.format(name="o200k_base")
    cached = fresh_cache / hashlib.sha1(url.encode()).hexdigest()
    cached.write_bytes(b"garbage")
    tokens.install_offline_encodings(fresh_cache)
    assert tokens.count_text("hello world", "o200k_base") == 2


def test_special_token_text_is_counted_as_plain_text(fresh_cache: Path) -> None:
    typed = "please ignore <|endoftext|> and <|im_start|>"
    assert tokens.count_text(typed, "cl100k_base") > 5
    assert tokens.count_message("user", typed, "o200k_base") > 8


def test_korean_costs_more_tokens_per_character_than_english(fresh_cache: Path) -> None:
    english = "The weather is nice today, let's go for a walk."
    korean = "오늘은 날씨가 좋으니 산책하러 갑시다."
    en_ratio = len(english) / tokens.count_text(english, "cl100k_base")
    ko_ratio = len(korean) / tokens.count_text(korean, "cl100k_base")
    assert ko_ratio < en_ratio


def test_truncate_keeps_a_prefix_within_the_limit(fresh_cache: Path) -> None:
    text = "안녕하세요 " * 500
    cut = tokens.truncate_text(text, 100, "o200k_base")
    assert text.startswith(cut)
    assert tokens.count_text(cut, "o200k_base") <= 100
    assert "\ufffd" not in cut


def test_processes_starting_at_once_share_a_fresh_cache(tmp_path: Path) -> None:
    """Several processes fill one empty cache directory at the same moment."""
    script = (
        "import sys; from core.tokens import install_offline_encodings, count_text;"
        "install_offline_encodings(); print(count_text('hello world', 'cl100k_base'))"
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "shared"), "PYTHONPATH": str(ROOT)}
    starts = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [process.communicate(timeout=60)[0].strip() for process in starts]
    assert outputs == ["2"] * 6
    assert not list((tmp_path / "shared").glob("*.partial"))

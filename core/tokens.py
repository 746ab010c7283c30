"""Exact token counts with tiktoken, working with no network.

tiktoken downloads its BPE files on first use and caches them under TIKTOKEN_CACHE_DIR, keyed by
the sha1 of the file's public URL. The `bpe-openai` package ships cl100k_base and o200k_base
(gzipped, byte-identical to what tiktoken pins by sha256), so at start we place them in a cache
directory we control: no turn ever waits on, or fails for, a download.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import uuid
import warnings
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path

import tiktoken

BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
SHIPPED_ENCODINGS = {
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
}
# The chat format's framing, per OpenAI's cookbook "How to count tokens with tiktoken".
TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_REPLY_PRIMER = 3


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gpt-chat-bot" / "tiktoken"


def install_offline_encodings(cache_dir: Path | None = None) -> Path:
    """Put the shipped BPE files where tiktoken looks for them and point tiktoken there."""
    target = Path(os.environ.get("TIKTOKEN_CACHE_DIR") or cache_dir or default_cache_dir())
    target.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # bpe_openai's own import trips a DeprecationWarning we can do nothing about.
        warnings.simplefilter("ignore", DeprecationWarning)
        shipped = resources.files("bpe_openai").joinpath("data")
    for name, sha256 in SHIPPED_ENCODINGS.items():
        cached = target / hashlib.sha1(BLOB_URL.format(name=name).encode()).hexdigest()
        if cached.exists() and hashlib.sha256(cached.read_bytes()).hexdigest() == sha256:
            continue
        data = gzip.decompress(shipped.joinpath(f"{name}.tiktoken.gz").read_bytes())
        if hashlib.sha256(data).hexdigest() != sha256:
            raise RuntimeError(f"the shipped {name} file does not match tiktoken's pinned hash")
        # A name of this process's own, then an atomic rename: two processes starting at once
        # (a worker and a web process, say) never read half a file or rename each other's.
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.{uuid.uuid4().hex}.partial")
        partial.write_bytes(data)
        partial.replace(cached)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target)
    return target


@lru_cache(maxsize=8)
def encoding(name: str) -> tiktoken.Encoding:
    return tiktoken.get_encoding(name)


def count_text(text: str, encoding_name: str) -> int:
    """Tokens of user-supplied text; special-token strings such as <|endoftext|> count as text."""
    return len(encoding(encoding_name).encode_ordinary(text))


def count_message(role: str, content: str, encoding_name: str, name: str | None = None) -> int:
    """Tokens one chat message adds to a prompt, framing and role included."""
    tokens = (
        TOKENS_PER_MESSAGE + count_text(role, encoding_name) + count_text(content, encoding_name)
    )
    if name:
        tokens += TOKENS_PER_NAME + count_text(name, encoding_name)
    return tokens


# Each call in an assistant message's `tool_calls` (its name and arguments counted as text), and
# the request's `tools` definitions (their compact JSON counted as text): OpenAI does not publish
# how it frames them, so these are the bot's rule, which the fake server counts by too.
TOKENS_PER_TOOL_CALL = 3


def count_tool_calls(calls: Iterable[tuple[str, str]], encoding_name: str) -> int:
    """Tokens the (name, arguments) of an assistant message's tool calls add to it."""
    return sum(
        TOKENS_PER_TOOL_CALL
        + count_text(name, encoding_name)
        + count_text(arguments, encoding_name)
        for name, arguments in calls
    )


def count_tools(tools_json: str, encoding_name: str) -> int:
    """Prompt tokens of a request's tool definitions (`tools_json`: their compact JSON)."""
    return count_text(tools_json, encoding_name) if tools_json else 0


def count_prompt(messages: Iterable[Mapping[str, str]], encoding_name: str) -> int:
    """Prompt tokens of a whole chat request, as the API reports them."""
    total = TOKENS_REPLY_PRIMER
    for message in messages:
        total += count_message(
            message["role"], message["content"], encoding_name, message.get("name")
        )
    return total


def truncate_text(text: str, max_tokens: int, encoding_name: str) -> str:
    """The longest prefix of `text` within `max_tokens` tokens (on a character boundary)."""
    enc = encoding(encoding_name)
    tokens = enc.encode_ordinary(text)
    if len(tokens) <= max_tokens:
        return text
    cut = enc.decode(tokens[: max(max_tokens, 0)])
    # A multi-byte character split by the cut decodes to U+FFFD; drop it.
    return cut.rstrip("\ufffd")

"""The Tokenizer page's port: a text's tokens for a model's encoding, and counts side by side.

A token is a byte sequence, not a piece of text: a Korean syllable (three UTF-8 bytes) is often
split across two cl100k_base tokens. So the text is cut into *spans*: the shortest runs of
tokens whose bytes decode to whole characters. Spans concatenate to the input exactly, and a
span with several ids shows where characters were split.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from core.model.catalog import ModelSpec
from core.model.token_ratios import TokenRatios
from core.tokens import SHIPPED_ENCODINGS, encoding

MAX_TEXT_CHARS = 100_000  # /tokens' limit (core/commands/info.py)
COMPARED_ENCODINGS = tuple(SHIPPED_ENCODINGS)  # cl100k_base, o200k_base


class TextTooLong(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} characters")
        self.limit = limit


@dataclass(frozen=True, slots=True)
class TokenSpan:
    ids: tuple[int, ...]  # one id, or several when they split a character between them
    text: str


@dataclass(frozen=True, slots=True)
class EncodingCount:
    encoding: str
    tokens: int
    chars: int

    @property
    def chars_per_token(self) -> float:
        return self.chars / self.tokens if self.tokens else 0.0


@dataclass(frozen=True, slots=True)
class Tokenized:
    model: str
    encoding: str
    spans: tuple[TokenSpan, ...]
    tokens: int  # in the model's encoding
    chars: int
    # A model whose tokenizer the bot lacks: `tokens` counts `encoding`'s, and this is the
    # estimate of the model's own (what /tokens says); None when the count is exact.
    estimated_tokens: int | None
    compared: tuple[EncodingCount, ...]  # cl100k_base and o200k_base side by side


def token_spans(text: str, encoding_name: str) -> tuple[TokenSpan, ...]:
    """`text`'s tokens (as the chats count them: special-token strings are text), grouped into
    spans of whole characters."""
    enc = encoding(encoding_name)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    spans: list[TokenSpan] = []
    ids: list[int] = []
    pieces: list[str] = []
    for token in enc.encode_ordinary(text):
        ids.append(token)
        pieces.append(decoder.decode(enc.decode_single_token_bytes(token)))
        pending, _ = decoder.getstate()
        if not pending:  # the bytes so far end on a character boundary
            spans.append(TokenSpan(tuple(ids), "".join(pieces)))
            ids, pieces = [], []
    return tuple(spans)


def compare(text: str) -> tuple[EncodingCount, ...]:
    return tuple(
        EncodingCount(name, len(encoding(name).encode_ordinary(text)), len(text))
        for name in COMPARED_ENCODINGS
    )


def tokenize(text: str, spec: ModelSpec, ratios: TokenRatios | None = None) -> Tokenized:
    """The page's whole answer for `text` and the selected model."""
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLong(MAX_TEXT_CHARS)
    spans = token_spans(text, spec.encoding)
    count = sum(len(span.ids) for span in spans)
    estimate = None
    if spec.estimated_tokens:
        estimate = round(count * (ratios or TokenRatios()).ratio(spec))
    return Tokenized(
        model=spec.name,
        encoding=spec.encoding,
        spans=spans,
        tokens=count,
        chars=len(text),
        estimated_tokens=estimate,
        compared=compare(text),
    )

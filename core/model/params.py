"""A chat's generation parameters and the rules for `/set PARAM VALUE`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

MAX_STOP_SEQUENCES = 4
MAX_STOP_LENGTH = 64
DEFAULT_REPLY_TOKENS = 2048


class InvalidParam(ValueError):
    """A /set value outside what is allowed; `key` and `values` pick the user-facing text."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class ChatParams:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    stop: tuple[str, ...] = ()
    context_tokens: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatParams:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "stop" in values:
            values["stop"] = tuple(values["stop"] or ())
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and value != ():
                data[f.name] = list(value) if f.name == "stop" else value
        return data

    def merged_over(self, base: Mapping[str, Any]) -> ChatParams:
        """These params, with unset ones taken from `base` (a persona's defaults)."""
        fallback = ChatParams.from_json(base)
        updates = {
            f.name: getattr(fallback, f.name)
            for f in fields(self)
            if getattr(self, f.name) in (None, ()) and getattr(fallback, f.name) not in (None, ())
        }
        return replace(self, **updates)


SETTABLE_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "context_tokens",
)
FLOAT_RANGES = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "presence_penalty": (-2.0, 2.0),
    "frequency_penalty": (-2.0, 2.0),
}
MIN_CONTEXT_TOKENS = 64
MAX_CONTEXT_TOKENS = 2_000_000


def parse_param(
    params: ChatParams, name: str, raw: str, *, max_output_tokens: int, context_window: int
) -> ChatParams:
    """`params` with `name` set from the user's text `raw`, or InvalidParam saying what is allowed.

    "default" (or "reset") clears a parameter back to the persona's or model's default.
    """
    name = name.strip().lower()
    raw = raw.strip()
    if name not in SETTABLE_PARAMS:
        raise InvalidParam("set.unknown_param", name=name, allowed=", ".join(SETTABLE_PARAMS))
    if raw.lower() in ("default", "reset"):
        cleared: dict[str, Any] = {name: () if name == "stop" else None}
        return replace(params, **cleared)
    if not raw:
        raise InvalidParam("set.missing_value", name=name)
    if name in FLOAT_RANGES:
        low, high = FLOAT_RANGES[name]
        value = _number(raw)
        if value is None or not low <= value <= high:
            raise InvalidParam("set.float_range", name=name, low=low, high=high)
        updated: dict[str, Any] = {name: value}
        return replace(params, **updated)
    if name == "max_tokens":
        count = _whole(raw)
        if count is None or not 1 <= count <= max_output_tokens:
            raise InvalidParam("set.int_range", name=name, low=1, high=max_output_tokens)
        return replace(params, max_tokens=count)
    if name == "context_tokens":
        high = min(MAX_CONTEXT_TOKENS, context_window)
        count = _whole(raw)
        if count is None or not MIN_CONTEXT_TOKENS <= count <= high:
            raise InvalidParam("set.int_range", name=name, low=MIN_CONTEXT_TOKENS, high=high)
        return replace(params, context_tokens=count)
    return replace(params, stop=_stop_sequences(raw))


def _number(raw: str) -> float | None:
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole(raw: str) -> int | None:
    cleaned = raw.replace("_", "").replace(",", "")
    if not cleaned.isascii() or not cleaned.lstrip("+").isdigit():
        return None
    return int(cleaned)


def _stop_sequences(raw: str) -> tuple[str, ...]:
    """Up to four stop sequences separated by '|'; "\\n" in the text means a newline."""
    parts = [part.replace("\\n", "\n") for part in raw.split("|")]
    parts = [part for part in parts if part]
    if not parts or len(parts) > MAX_STOP_SEQUENCES:
        raise InvalidParam("set.stop", limit=MAX_STOP_SEQUENCES)
    if any(len(part) > MAX_STOP_LENGTH for part in parts):
        raise InvalidParam("set.stop", limit=MAX_STOP_SEQUENCES)
    return tuple(parts)

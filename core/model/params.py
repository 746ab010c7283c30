"""A chat's generation parameters and the rules for `/set PARAM VALUE`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from core.model.capabilities import REASONING_EFFORTS, VERBOSITIES, Capabilities
from core.model.image_tokens import DETAILS
from core.reminders.timezones import canonical_zone

MAX_STOP_SEQUENCES = 4
MAX_STOP_LENGTH = 64
# The visible reply's cap when a chat set no max_tokens: DEFAULT_REPLY_TOKENS's default.
DEFAULT_REPLY_TOKENS = 2048
MAX_SEED = 2**31 - 1  # what every OpenAI-compatible server takes
MAX_LOGIT_BIASES = 300  # OpenAI's limit on logit_bias entries
MAX_TOKEN_ID = 2**20  # above any tokenizer's vocabulary (o200k_base: 200k)
RESPONSE_FORMATS = ("json", "text")
ON_OFF = {"on": True, "off": False}
# What a chat's admins may turn off for their chat (the owner's switches in settings still win).
MEDIA_IN_PARAMS = ("files", "voice_notes", "photos")


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
    seed: int | None = None
    logit_bias: tuple[tuple[int, int], ...] = ()  # (token id, bias -100..100)
    response_format: str | None = None  # "json" (JSON mode) or "text"
    reasoning_effort: str | None = None
    verbosity: str | None = None
    show_reasoning: bool | None = None  # show the model's thinking, collapsed
    image_detail: str | None = None  # photos sent at "low", "high" or "auto" detail (vision)
    # Media in, per chat (issue 13 item 7): off refuses that kind of attachment in one line.
    files: bool | None = None  # text files and PDFs read into the message
    voice_notes: bool | None = None  # voice notes and audio transcribed
    photos: bool | None = None  # photos read by the model (vision)
    context_tokens: int | None = None
    # Media out (issue 13 items 4, 5, 7), parsed by core/media/out_params.py.
    image_model: str | None = None
    image_size: str | None = None
    image_quality: str | None = None
    speech_model: str | None = None
    voice: str | None = None
    image_generation: bool | None = None  # off: /image refused here
    speech: bool | None = None  # off: /speak and voice replies refused here
    voice_replies: bool | None = None  # /voice on: each answer also spoken
    # /tools on|off NAME (issue 14): the chat's own switches over each tool's default.
    tools: tuple[tuple[str, bool], ...] = ()
    timezone: str | None = None  # IANA name: reminders and the current time (default UTC)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChatParams:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        if "stop" in values:
            values["stop"] = tuple(values["stop"] or ())
        if "logit_bias" in values:
            biases = values["logit_bias"] or {}
            values["logit_bias"] = tuple((int(k), int(v)) for k, v in biases.items())
        if "tools" in values:
            switches = values["tools"] or {}
            values["tools"] = tuple((str(k), bool(v)) for k, v in sorted(switches.items()))
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == ():
                continue
            if f.name == "stop":
                value = list(value)
            elif f.name == "logit_bias":
                value = {str(token): bias for token, bias in value}
            elif f.name == "tools":
                value = dict(value)
            data[f.name] = value
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


# Images and speech out: /set takes these too; core/media/out_params.py checks their values.
MEDIA_OUT_PARAMS = (
    "image_model",
    "image_size",
    "image_quality",
    "speech_model",
    "voice",
    "image_generation",
    "speech",
)
SETTABLE_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "seed",
    "logit_bias",
    "response_format",
    "reasoning_effort",
    "verbosity",
    "show_reasoning",
    "image_detail",
    "context_tokens",
    *MEDIA_IN_PARAMS,
    *MEDIA_OUT_PARAMS,
    "timezone",
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
    params: ChatParams,
    name: str,
    raw: str,
    *,
    max_output_tokens: int,
    context_window: int,
    caps: Capabilities | None = None,
) -> ChatParams:
    """`params` with `name` set from the user's text `raw`, or InvalidParam saying what is allowed.

    "default" (or "reset") clears a parameter back to the persona's or model's default. A value
    a model would take (a reasoning effort it knows) is checked against `caps`, the chat's model.
    """
    name = name.strip().lower()
    raw = raw.strip()
    if name not in SETTABLE_PARAMS or name in MEDIA_OUT_PARAMS:
        # Media-out values need the image and speech catalogs: core/media/out_params.py.
        raise InvalidParam("set.unknown_param", name=name, allowed=", ".join(SETTABLE_PARAMS))
    if raw.lower() in ("default", "reset"):
        cleared: dict[str, Any] = {name: () if name in ("stop", "logit_bias") else None}
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
    if name == "stop":
        return replace(params, stop=_stop_sequences(raw))
    if name == "timezone":
        zone = canonical_zone(raw)
        if zone is None:
            raise InvalidParam("set.timezone")
        return replace(params, timezone=zone)
    return _parse_choice_param(params, name, raw, caps)


def _parse_choice_param(
    params: ChatParams, name: str, raw: str, caps: Capabilities | None
) -> ChatParams:
    """seed, logit_bias and the parameters that take one of a few words."""
    if name == "seed":
        seed = _whole(raw)
        if seed is None or seed > MAX_SEED:
            raise InvalidParam("set.int_range", name=name, low=0, high=MAX_SEED)
        return replace(params, seed=seed)
    if name == "logit_bias":
        return replace(params, logit_bias=_logit_bias(raw))
    word = raw.lower()
    if name == "show_reasoning" or name in MEDIA_IN_PARAMS:
        if word not in ON_OFF:
            raise InvalidParam("set.choice", name=name, allowed="on, off")
        switched: dict[str, Any] = {name: ON_OFF[word]}
        return replace(params, **switched)
    choices = {
        "response_format": RESPONSE_FORMATS,
        "reasoning_effort": REASONING_EFFORTS,
        "verbosity": VERBOSITIES,
        "image_detail": DETAILS,
    }[name]
    if caps is not None and name == "reasoning_effort" and caps.reasoning_efforts:
        choices = caps.reasoning_efforts  # this model's own
    if caps is not None and name == "verbosity" and caps.verbosities:
        choices = caps.verbosities
    if word not in choices:
        raise InvalidParam("set.choice", name=name, allowed=", ".join(choices))
    updated: dict[str, Any] = {name: word}
    return replace(params, **updated)


def _logit_bias(raw: str) -> tuple[tuple[int, int], ...]:
    """ "1234:-100,5678:5": token ids with a bias from -100 to 100 each."""
    biases: dict[int, int] = {}
    for part in raw.replace(" ", "").split(","):
        token_text, sep, bias_text = part.partition(":")
        token = _whole(token_text)
        bias = _signed(bias_text)
        if not sep or token is None or token >= MAX_TOKEN_ID or bias is None:
            raise InvalidParam("set.logit_bias", limit=MAX_LOGIT_BIASES)
        if not -100 <= bias <= 100:
            raise InvalidParam("set.logit_bias", limit=MAX_LOGIT_BIASES)
        biases[token] = bias
    if len(biases) > MAX_LOGIT_BIASES:
        raise InvalidParam("set.logit_bias", limit=MAX_LOGIT_BIASES)
    return tuple(sorted(biases.items()))


def _signed(raw: str) -> int | None:
    negative = raw.startswith("-")
    value = _whole(raw[1:] if negative else raw)
    if value is None:
        return None
    return -value if negative else value


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

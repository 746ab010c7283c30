"""What a model accepts and does, as data: which request parameters it takes, whether it
reasons (and how much room its reasoning gets), which role carries the instructions, and what
input it takes besides text. Read from `config/models.toml` (profiles shared by models, and
name patterns for models the catalog does not list)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from core.model.image_tokens import ImageRule

# The request parameters a chat can set that a model may or may not take (`/set` names).
SAMPLING_PARAMS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
OPTIONAL_PARAMS = (
    *SAMPLING_PARAMS,
    "stop",
    "seed",
    "logit_bias",
    "response_format",
    "reasoning_effort",
    "verbosity",
)
# Every effort any model knows; a model's entry says which of them it takes.
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high")
VERBOSITIES = ("low", "medium", "high")
SYSTEM_ROLES = ("system", "developer")
# A model nobody described (a local model behind a custom server): the classic chat parameters.
CLASSIC_PARAMS = frozenset(OPTIONAL_PARAMS) - {"reasoning_effort", "verbosity"}

_KEYS = {
    "params",
    "reasoning",
    "reasoning_tokens",
    "reasoning_effort",
    "verbosity",
    "system_role",
    "images",
    "image_tokens",
    "audio_input",
    "tools",
    "token_param",
}
TOKEN_PARAMS = ("max_tokens", "max_completion_tokens")


@dataclass(frozen=True, slots=True)
class Capabilities:
    params: frozenset[str] = CLASSIC_PARAMS  # the OPTIONAL_PARAMS it takes
    reasoning: bool = False  # hidden reasoning tokens count against max_completion_tokens
    reasoning_tokens: int = 0  # room for reasoning added on top of the visible answer's cap
    reasoning_efforts: tuple[str, ...] = ()  # values of reasoning_effort it takes
    verbosities: tuple[str, ...] = ()  # values of verbosity it takes
    system_role: str = "system"  # "developer" for reasoning models
    images: bool = False
    # How its images are counted; a model that reads images without a rule of its own is
    # counted as gpt-4o is (GPT4O_IMAGES).
    image_tokens: ImageRule | None = None
    audio_input: bool = False
    tools: bool = False
    token_param: str = "max_tokens"  # the request field that caps the reply

    def takes(self, param: str) -> bool:
        """Whether a request to this model may carry `param` (a /set name)."""
        return param not in OPTIONAL_PARAMS or param in self.params


DEFAULT_CAPABILITIES = Capabilities()
GPT4O_IMAGES = ImageRule("tiles", base=85, tile=170)


def capabilities(
    entry: Mapping[str, Any], profiles: Mapping[str, Mapping[str, Any]]
) -> Capabilities:
    """An entry's capabilities: its profile's, overridden by its own keys."""
    merged: dict[str, Any] = {}
    profile = entry.get("profile")
    if profile is not None:
        if profile not in profiles:
            raise ValueError(f"unknown profile {profile!r}")
        merged.update(profiles[profile])
    merged.update({key: value for key, value in entry.items() if key in _KEYS})
    params = frozenset(merged.get("params", CLASSIC_PARAMS))
    if not params <= set(OPTIONAL_PARAMS):
        raise ValueError(f"unknown parameters {sorted(params - set(OPTIONAL_PARAMS))}")
    efforts = tuple(merged.get("reasoning_effort", ()))
    verbosities = tuple(merged.get("verbosity", ()))
    role = merged.get("system_role", "system")
    if not set(efforts) <= set(REASONING_EFFORTS) or not set(verbosities) <= set(VERBOSITIES):
        raise ValueError("unknown reasoning_effort or verbosity value")
    if role not in SYSTEM_ROLES:
        raise ValueError(f"system_role must be one of {SYSTEM_ROLES}")
    token_param = merged.get("token_param", "max_tokens")
    if token_param not in TOKEN_PARAMS:
        raise ValueError(f"token_param must be one of {TOKEN_PARAMS}")
    # A model takes reasoning_effort / verbosity exactly when it lists their values.
    params = params - {"reasoning_effort", "verbosity"}
    params |= {"reasoning_effort"} if efforts else set()
    params |= {"verbosity"} if verbosities else set()
    return Capabilities(
        params=params,
        reasoning=bool(merged.get("reasoning", False)),
        reasoning_tokens=int(merged.get("reasoning_tokens", 0)),
        reasoning_efforts=efforts,
        verbosities=verbosities,
        system_role=role,
        images=bool(merged.get("images", False)),
        image_tokens=_image_rule(merged),
        audio_input=bool(merged.get("audio_input", False)),
        tools=bool(merged.get("tools", False)),
        token_param=token_param,
    )


def _image_rule(merged: Mapping[str, Any]) -> ImageRule | None:
    if not merged.get("images", False):
        return None
    data = merged.get("image_tokens")
    return GPT4O_IMAGES if data is None else ImageRule.parse(data)


def check_keys(name: str, entry: Mapping[str, Any], allowed: set[str]) -> None:
    """A misspelt key in models.toml fails at start instead of being ignored."""
    unknown = set(entry) - allowed - _KEYS - {"profile"}
    if unknown:
        raise ValueError(f"models.toml: {name} has unknown keys {sorted(unknown)}")


@dataclass(frozen=True, slots=True)
class FamilyPatterns:
    """Capabilities by name pattern for models the catalog does not list ("o5-mini", a local
    "deepseek-r1:8b"): what they take, never what they cost. First match wins."""

    patterns: tuple[tuple[str, Capabilities], ...] = field(default=())

    @classmethod
    def parse(
        cls, data: Mapping[str, Mapping[str, Any]], profiles: Mapping[str, Mapping[str, Any]]
    ) -> FamilyPatterns:
        parsed = []
        for pattern, entry in data.items():
            check_keys(pattern, entry, set())
            parsed.append((pattern, capabilities(entry, profiles)))
        return cls(tuple(parsed))

    def match(self, name: str) -> Capabilities:
        lowered = name.lower()
        for pattern, caps in self.patterns:
            if fnmatchcase(lowered, pattern):
                return caps
        return DEFAULT_CAPABILITIES

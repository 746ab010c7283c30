"""The model catalog (sizes, prices, encodings, endpoints), from `config/models.toml`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from config.files import read_toml
from config.providers import DEFAULT_PROVIDER
from config.settings import MODEL_NAME
from core.model.capabilities import (
    DEFAULT_CAPABILITIES,
    Capabilities,
    FamilyPatterns,
    capabilities,
    check_keys,
)
from core.model.routes import ProviderRoutes

FALLBACK_ENCODING = "o200k_base"
# A dated snapshot of a catalog model: "-2024-08-06" (today's style) or "-0613" (MMDD, the
# GPT-3.5/GPT-4 style). Nothing else extends a family: "gpt-5-pro" and "o3-pro" are other
# models with other prices, not gpt-5 and o3.
_MONTH, _DAY = r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12]\d|3[01])"
SNAPSHOT_SUFFIX = re.compile(rf"-(?:20\d\d-{_MONTH}-{_DAY}|{_MONTH}{_DAY})\Z")


def valid_model_name(name: str) -> bool:
    """A name as providers spell models (letters, digits, . : / @ + - _), at most 128 long."""
    return MODEL_NAME.fullmatch(name) is not None


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    context_window: int
    max_output_tokens: int
    encoding: str = FALLBACK_ENCODING
    input_per_1m: float | None = None  # USD; None when the price is unknown (local models)
    cached_input_per_1m: float | None = None
    output_per_1m: float | None = None
    endpoint: str = "chat"  # "chat" or "completions"
    known: bool = True
    caps: Capabilities = DEFAULT_CAPABILITIES  # what it takes and does (parameters, reasoning)

    @property
    def token_param(self) -> str:
        """The request field that caps the reply ("max_tokens" or "max_completion_tokens")."""
        return self.caps.token_param

    provider: str = DEFAULT_PROVIDER  # who serves it (PROVIDERS; ProviderRoutes decides)
    # Counts in `encoding` are only estimates of the model's own (a tokenizer the bot does
    # not have): windows are planned with a learned ratio (core/model/token_ratios.py).
    estimated_tokens: bool = False

    @property
    def priced(self) -> bool:
        """Whether its use has a price (budgets in USD can count it)."""
        return self.input_per_1m is not None and self.output_per_1m is not None

    def cost_usd(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> float:
        """Price of one request; cached prompt tokens at the cached rate when there is one.
        Completion tokens include the reasoning tokens (as providers report them): output."""
        if self.input_per_1m is None or self.output_per_1m is None:
            return 0.0
        cached_rate = (
            self.cached_input_per_1m if self.cached_input_per_1m is not None else self.input_per_1m
        )
        uncached = max(prompt_tokens - cached_tokens, 0)
        return (
            uncached * self.input_per_1m
            + cached_tokens * cached_rate
            + completion_tokens * self.output_per_1m
        ) / 1_000_000

    def output_cost_usd(self, tokens: int) -> float:
        """Price of `tokens` output tokens (what a turn's reasoning cost)."""
        return tokens * (self.output_per_1m or 0.0) / 1_000_000


_SPEC_KEYS = {
    "context_window",
    "max_output_tokens",
    "encoding",
    "input",
    "cached_input",
    "output",
    "endpoint",
}


class ModelCatalog:
    """Known models; unknown names get a spec from MODEL_CONTEXT_WINDOW instead of an error,
    priced at `unpriced_usd_per_1m` (input and output) when the owner set one."""

    def __init__(
        self,
        models: Mapping[str, ModelSpec],
        fallback_context_window: int,
        default_model: str = "",
        unpriced_usd_per_1m: float = 0.0,
        patterns: FamilyPatterns | None = None,
        routes: ProviderRoutes | None = None,
    ) -> None:
        self._models = dict(models)
        self._patterns = patterns or FamilyPatterns()
        self.routes = routes or ProviderRoutes()
        self._fallback_context_window = fallback_context_window
        self.default_model = default_model
        self._unpriced_price = unpriced_usd_per_1m or None

    @classmethod
    def load(
        cls,
        fallback_context_window: int,
        default_model: str = "",
        unpriced_usd_per_1m: float = 0.0,
        routes: ProviderRoutes | None = None,
    ) -> ModelCatalog:
        data = read_toml("models.toml")
        profiles = data.get("profiles", {})
        models = {}
        for name, entry in data["models"].items():
            check_keys(name, entry, _SPEC_KEYS)
            models[name] = ModelSpec(
                name=name,
                context_window=int(entry["context_window"]),
                max_output_tokens=int(entry["max_output_tokens"]),
                encoding=entry.get("encoding", FALLBACK_ENCODING),
                input_per_1m=entry.get("input"),
                cached_input_per_1m=entry.get("cached_input"),
                output_per_1m=entry.get("output"),
                endpoint=entry.get("endpoint", "chat"),
                caps=capabilities(entry, profiles),
                provider=entry.get("provider", DEFAULT_PROVIDER),
                # An entry without an encoding (another provider's model) only estimates.
                estimated_tokens="encoding" not in entry,
            )
        patterns = FamilyPatterns.parse(data.get("patterns", {}), profiles)
        return cls(
            models,
            fallback_context_window,
            default_model,
            unpriced_usd_per_1m,
            patterns=patterns,
            routes=routes,
        )

    def names(self) -> list[str]:
        return sorted(self._models)

    def name_for_chat(self, chat_model: str | None, persona_model: str | None) -> str:
        """The model a chat talks to: its own choice, else its persona's, else the default."""
        name = chat_model or persona_model or self.default_model
        if not name:
            raise ValueError("no model chosen and no default model configured")
        return name

    def is_known(self, name: str) -> bool:
        return self._lookup(name) is not None

    def get(self, name: str) -> ModelSpec:
        known = self._lookup(name)
        if known is not None:
            provider = self.routes.route(name, known.provider)
            return known if provider == known.provider else replace(known, provider=provider)
        window = self._fallback_context_window
        caps = self._patterns.match(name)
        # A model that thinks first needs more of the window for its output.
        share = 2 if caps.reasoning else 4
        return ModelSpec(
            name=name,
            context_window=window,
            max_output_tokens=max(window // share, 16),
            input_per_1m=self._unpriced_price,
            output_per_1m=self._unpriced_price,
            known=False,
            caps=caps,
            provider=self.routes.route(name),
            estimated_tokens=True,
        )

    def providers_named(self) -> set[str]:
        """The providers the catalog's entries name (each must be declared to be used)."""
        return {spec.provider for spec in self._models.values()}

    def _lookup(self, name: str) -> ModelSpec | None:
        """The entry for `name`, or for the family a dated snapshot belongs to.

        "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18" and "gpt-4-0613" are priced and sized like
        "gpt-4o", "gpt-4o-mini" and "gpt-4"; "gpt-5-pro" is not gpt-5.
        """
        if name in self._models:
            return self._models[name]
        family = SNAPSHOT_SUFFIX.sub("", name)
        if family == name or family not in self._models:
            return None
        return replace(self._models[family], name=name)

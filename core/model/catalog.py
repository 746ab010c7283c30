"""The model catalog (sizes, prices, encodings, endpoints), from `config/models.toml`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from config.files import read_toml

FALLBACK_ENCODING = "o200k_base"


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
    token_param: str = "max_tokens"
    sampling: bool = True
    known: bool = True

    def cost_usd(self, prompt_tokens: int, cached_tokens: int, completion_tokens: int) -> float:
        """Price of one request; cached prompt tokens at the cached rate when there is one."""
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


class ModelCatalog:
    """Known models; unknown names get a spec from MODEL_CONTEXT_WINDOW instead of an error."""

    def __init__(
        self,
        models: Mapping[str, ModelSpec],
        fallback_context_window: int,
        default_model: str = "",
    ) -> None:
        self._models = dict(models)
        self._fallback_context_window = fallback_context_window
        self.default_model = default_model

    @classmethod
    def load(cls, fallback_context_window: int, default_model: str = "") -> ModelCatalog:
        data = read_toml("models.toml")
        models = {
            name: ModelSpec(
                name=name,
                context_window=int(entry["context_window"]),
                max_output_tokens=int(entry["max_output_tokens"]),
                encoding=entry.get("encoding", FALLBACK_ENCODING),
                input_per_1m=entry.get("input"),
                cached_input_per_1m=entry.get("cached_input"),
                output_per_1m=entry.get("output"),
                endpoint=entry.get("endpoint", "chat"),
                token_param=entry.get("token_param", "max_tokens"),
                sampling=entry.get("sampling", True),
            )
            for name, entry in data["models"].items()
        }
        return cls(models, fallback_context_window, default_model)

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
            return known
        window = self._fallback_context_window
        return ModelSpec(
            name=name,
            context_window=window,
            max_output_tokens=max(window // 4, 16),
            known=False,
        )

    def _lookup(self, name: str) -> ModelSpec | None:
        """The entry for `name`, or for the family a dated snapshot belongs to.

        "gpt-4o-2024-08-06" and "gpt-4o-mini-2024-07-18" are priced and sized like "gpt-4o" and
        "gpt-4o-mini": the longest catalog name that `name` extends with "-" wins.
        """
        if name in self._models:
            return self._models[name]
        families = [known for known in self._models if name.startswith(known + "-")]
        if not families:
            return None
        return replace(self._models[max(families, key=len)], name=name)

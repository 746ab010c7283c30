"""The model and persona catalogs as shipped in config/."""

from __future__ import annotations

import pytest

from core.model.catalog import ModelCatalog
from core.personas import PersonaCatalog

REQUIRED_MODELS = (
    "gpt-3.5-turbo",
    "gpt-3.5-turbo-1106",
    "gpt-3.5-turbo-16k",
    "gpt-3.5-turbo-instruct",
    "gpt-4",
    "gpt-4-32k",
    "gpt-4-turbo",
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-5",
    "gpt-5-mini",
)


def test_every_listed_model_has_sizes_prices_and_an_encoding() -> None:
    catalog = ModelCatalog.load(8192)
    for name in REQUIRED_MODELS:
        spec = catalog.get(name)
        assert spec.known and spec.context_window >= spec.max_output_tokens > 0
        assert spec.input_per_1m and spec.output_per_1m
        assert spec.encoding == (
            "cl100k_base"
            if name.startswith(("gpt-3.5", "gpt-4-")) or name == "gpt-4"
            else "o200k_base"
        )
    assert catalog.get("gpt-3.5-turbo-instruct").endpoint == "completions"
    assert catalog.get("gpt-5-mini").token_param == "max_completion_tokens"


def test_dated_snapshots_resolve_to_their_family() -> None:
    catalog = ModelCatalog.load(8192)
    snapshot = catalog.get("gpt-4o-mini-2024-07-18")
    assert snapshot.name == "gpt-4o-mini-2024-07-18"
    assert (snapshot.input_per_1m, snapshot.context_window) == (0.15, 128000)
    assert catalog.get("gpt-4-0613").encoding == "cl100k_base"
    assert catalog.is_known("gpt-5-mini-2025-08-07")


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o3-2025-04-16", "o3"),
        ("gpt-4-0613", "gpt-4"),
        ("gpt-4-32k-0613", "gpt-4-32k"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("gpt-5-pro", None),  # another model with another price
        ("o3-pro", None),
        ("gpt-4o-mini-high", None),
        ("gpt-4o-2024-13-01", None),  # not a date
        ("gpt-4-9999", None),
        ("gpt-4-0125-preview", None),  # a preview is priced on its own, not as gpt-4
        ("gpt-4o-2024-08-06-2024-08-06", None),
        ("gpt-4o-" + "x" * 193, None),
    ],
)
def test_only_dated_snapshots_belong_to_a_family(name: str, family: str | None) -> None:
    catalog = ModelCatalog.load(8192)
    spec = catalog.get(name)
    assert spec.name == name
    if family is None:
        assert not catalog.is_known(name) and not spec.priced
    else:
        assert spec.input_per_1m == catalog.get(family).input_per_1m and spec.priced


def test_unknown_models_fall_back_without_raising() -> None:
    spec = ModelCatalog.load(32768).get("llama3.1:8b")
    assert not spec.known
    assert (spec.context_window, spec.encoding, spec.input_per_1m) == (32768, "o200k_base", None)
    assert spec.cost_usd(1000, 0, 1000) == 0.0


def test_cached_prompt_tokens_are_priced_at_the_cached_rate() -> None:
    spec = ModelCatalog.load(8192).get("gpt-4o-mini")
    full = spec.cost_usd(prompt_tokens=10_000, cached_tokens=0, completion_tokens=0)
    half_cached = spec.cost_usd(prompt_tokens=10_000, cached_tokens=5_000, completion_tokens=0)
    assert full == 10_000 * 0.15 / 1e6
    assert half_cached == (5_000 * 0.15 + 5_000 * 0.075) / 1e6


def test_persona_catalog_has_the_required_personas() -> None:
    catalog = PersonaCatalog.load()
    assert catalog.default == "assistant"
    assert {"assistant", "translator", "coder", "tutor"} <= set(catalog.names())
    assert len(catalog.names()) >= 8
    for name in catalog.names():
        persona = catalog.get(name)
        assert persona is not None and persona.system_prompt and persona.description
        assert persona.describe("ko") != persona.describe("en")

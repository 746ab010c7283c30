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


SEED_MODELS = (
    *REQUIRED_MODELS,
    "davinci-002",
    "babbage-002",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
    "gpt-5-nano",
    "gpt-5.1",
)


def test_every_seed_model_says_what_it_takes() -> None:
    catalog = ModelCatalog.load(8192)
    for name in SEED_MODELS:
        spec = catalog.get(name)
        assert spec.known and spec.priced, name
        reasons = name.startswith(("o", "gpt-5"))
        assert spec.caps.reasoning == reasons, name
        assert spec.token_param == ("max_completion_tokens" if reasons else "max_tokens"), name
        assert spec.caps.system_role == ("developer" if reasons else "system"), name
        # Reasoning models refuse the sampling knobs and stop; the others take them all.
        for param in ("temperature", "top_p", "presence_penalty", "stop", "logit_bias"):
            assert spec.caps.takes(param) != reasons, (name, param)
        assert spec.caps.reasoning_tokens > 0 if reasons else spec.caps.reasoning_tokens == 0
    for name in ("davinci-002", "babbage-002", "gpt-3.5-turbo-instruct"):
        spec = catalog.get(name)
        assert spec.endpoint == "completions" and spec.encoding == "cl100k_base"
        assert not spec.caps.takes("response_format") and not spec.caps.tools
    assert catalog.get("gpt-5-mini").caps.reasoning_efforts == ("minimal", "low", "medium", "high")
    assert catalog.get("gpt-5.1").caps.reasoning_efforts == ("none", "low", "medium", "high")
    assert catalog.get("o3").caps.verbosities == ()
    assert catalog.get("gpt-4o").caps.images and not catalog.get("o3-mini").caps.images
    assert catalog.get("gpt-4o-audio-preview").caps.audio_input
    assert not catalog.get("gpt-4o").caps.audio_input
    assert (catalog.get("o1").input_per_1m, catalog.get("o1").output_per_1m) == (15.0, 60.0)


@pytest.mark.parametrize(
    ("name", "reasons", "stop"),
    [
        ("o5-mini", True, False),
        ("gpt-5.2", True, False),
        ("deepseek-r1:8b", True, True),  # a local <think> model still takes stop
        ("llama3.1:8b", False, True),
    ],
)
def test_unlisted_models_take_what_their_family_pattern_says_without_a_price(
    name: str, reasons: bool, stop: bool
) -> None:
    spec = ModelCatalog.load(8192).get(name)
    assert not spec.known and not spec.priced
    assert (spec.caps.reasoning, spec.caps.takes("stop")) == (reasons, stop)

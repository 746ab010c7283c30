"""Image token rules against the worked examples OpenAI publishes, and the catalog's data."""

from __future__ import annotations

import pytest

from core.model.catalog import ModelCatalog
from core.model.image_tokens import ImageRule, resolved_detail

GPT_4O = ImageRule("tiles", base=85, tile=170)
PATCHES = ImageRule("patches", multiplier=1.0)


@pytest.mark.parametrize(
    ("width", "height", "detail", "tokens"),
    [
        (1024, 1024, "high", 765),  # 768x768: 4 tiles
        (2048, 4096, "high", 1105),  # 1024x2048 -> 768x1536: 6 tiles
        (4096, 8192, "low", 85),
    ],
)
def test_tiles_match_the_published_examples(
    width: int, height: int, detail: str, tokens: int
) -> None:
    assert GPT_4O.tokens(width, height, detail) == tokens


@pytest.mark.parametrize(
    ("width", "height", "patches"),
    [
        (1024, 1024, 1024),
        (1800, 2400, 1452),  # scaled down to 1056x1408: 33 x 44 patches
    ],
)
def test_patches_match_the_published_examples(width: int, height: int, patches: int) -> None:
    assert PATCHES.tokens(width, height, "high") == patches


def test_multipliers_and_the_stored_size() -> None:
    mini = ImageRule("patches", multiplier=1.62)
    assert mini.tokens(1024, 1024, "high") == 1659  # ceil(1024 * 1.62)
    assert GPT_4O.scaled(4000, 3000, "high") == (1024, 768)
    assert GPT_4O.scaled(4000, 3000, "low") == (512, 384)
    assert resolved_detail("auto", 512, 300) == "low"
    assert resolved_detail("auto", 513, 300) == "high"


def test_the_catalog_carries_each_models_rule() -> None:
    models = ModelCatalog.load(8192)
    assert models.get("gpt-4o").caps.image_tokens == GPT_4O
    assert models.get("gpt-4o-mini").caps.image_tokens == ImageRule("tiles", 2833, 5667)
    assert models.get("gpt-4.1-nano").caps.image_tokens == ImageRule("patches", multiplier=2.46)
    assert models.get("o4-mini").caps.image_tokens == ImageRule("patches", multiplier=1.72)
    assert models.get("gpt-3.5-turbo").caps.image_tokens is None

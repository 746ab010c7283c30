"""What an image costs in prompt tokens, by the per-model rules OpenAI publishes (data in
`config/models.toml`, key `image_tokens`):

- "tiles" (gpt-4o, gpt-4.1, o1, o3, gpt-5...): high detail scales the image to fit 2048x2048,
  then its shortest side down to 768, and costs `base` + `tile` per 512-px tile; low detail
  costs `base` alone.
- "patches" (gpt-4.1-mini/nano, o4-mini, gpt-5-mini/nano): the number of 32-px patches, scaled
  down to at most `max_patches`, times the model's `multiplier`.

Pure arithmetic: the bytes are read and resized once, in core/media/images.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DETAILS = ("low", "high", "auto")
LOW_SIDE = 512  # what low detail sees: the image within 512x512
TILE = 512
TILES_FIT = 2048
TILES_SHORT_SIDE = 768
PATCH = 32
MAX_PATCHES = 1536


@dataclass(frozen=True, slots=True)
class ImageRule:
    kind: str  # "tiles" | "patches"
    base: int = 0  # tiles: every image
    tile: int = 0  # tiles: each 512-px tile at high detail
    multiplier: float = 1.0  # patches: tokens per patch
    max_patches: int = MAX_PATCHES

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ImageRule:
        kind = data.get("rule")
        if kind == "tiles":
            return cls("tiles", base=int(data["base"]), tile=int(data["tile"]))
        if kind == "patches":
            return cls(
                "patches",
                multiplier=float(data["multiplier"]),
                max_patches=int(data.get("max_patches", MAX_PATCHES)),
            )
        raise ValueError(f"image_tokens: rule must be 'tiles' or 'patches', not {kind!r}")

    @property
    def key(self) -> str:
        """Names the rule and its numbers: a stored count made by another rule is redone."""
        if self.kind == "tiles":
            return f"tiles:{self.base}:{self.tile}"
        return f"patches:{self.multiplier:g}:{self.max_patches}"

    def scaled(self, width: int, height: int, detail: str) -> tuple[int, int]:
        """The size the model works from: the most of the image worth storing and sending."""
        if detail == "low":
            return _fit(width, height, LOW_SIDE, LOW_SIDE)
        if self.kind == "tiles":
            width, height = _fit(width, height, TILES_FIT, TILES_FIT)
            short = min(width, height)
            if short > TILES_SHORT_SIDE:
                factor = TILES_SHORT_SIDE / short
                width, height = _at_least_1(width * factor), _at_least_1(height * factor)
            return width, height
        return _patch_fit(width, height, self.max_patches)

    def tokens(self, width: int, height: int, detail: str) -> int:
        """Prompt tokens of one image of this size at `detail` ("low" or "high")."""
        if self.kind == "tiles":
            if detail == "low":
                return self.base
            width, height = self.scaled(width, height, detail)
            return self.base + self.tile * math.ceil(width / TILE) * math.ceil(height / TILE)
        width, height = self.scaled(width, height, detail)
        patches = math.ceil(width / PATCH) * math.ceil(height / PATCH)
        return math.ceil(min(patches, self.max_patches) * self.multiplier)


def resolved_detail(detail: str, width: int, height: int) -> str:
    """ "auto" made definite, so the request says what was counted: a small image loses nothing
    at low detail."""
    if detail in ("low", "high"):
        return detail
    return "low" if max(width, height) <= LOW_SIDE else "high"


def _at_least_1(value: float) -> int:
    return max(int(value), 1)


def _fit(width: int, height: int, max_width: int, max_height: int) -> tuple[int, int]:
    factor = min(max_width / width, max_height / height)
    if factor >= 1:
        return width, height
    return _at_least_1(width * factor), _at_least_1(height * factor)


def _patch_fit(width: int, height: int, max_patches: int) -> tuple[int, int]:
    """Scaled down (never up) until its 32-px patches number at most `max_patches`, with whole
    patches along the limiting side, as the published rule does."""
    if math.ceil(width / PATCH) * math.ceil(height / PATCH) <= max_patches:
        return width, height
    factor = math.sqrt(PATCH * PATCH * max_patches / (width * height))
    factor *= min(
        math.floor(width * factor / PATCH) / (width * factor / PATCH),
        math.floor(height * factor / PATCH) / (height * factor / PATCH),
    )
    return _at_least_1(width * factor), _at_least_1(height * factor)

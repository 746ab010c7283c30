"""What the fake OpenAI server makes of image parts in a chat request: the image's size read from
the PNG or JPEG header in its data URL, and its prompt tokens by OpenAI's published rules. Written
apart from the bot's own counting (core/model/image_tokens.py) so the tests that compare the two
are a real cross-check."""

from __future__ import annotations

import base64
import binascii
import math
import struct
from typing import Any

# Published per-model numbers: ("tiles", base, per tile) or ("patches", multiplier).
TILE_MODELS = {
    "gpt-4o": (85, 170),
    "gpt-4.1": (85, 170),
    "gpt-4-turbo": (85, 170),
    "gpt-4o-mini": (2833, 5667),
    "o1": (75, 150),
    "o3": (75, 150),
    "gpt-5": (70, 140),
    "gpt-5.1": (70, 140),
}
PATCH_MODELS = {
    "gpt-4.1-mini": 1.62,
    "gpt-4.1-nano": 2.46,
    "o4-mini": 1.72,
    "gpt-5-mini": 1.62,
    "gpt-5-nano": 2.46,
}


class BadImage(ValueError):
    """OpenAI answers 400 invalid_image for what it cannot read."""


def image_size(url: str) -> tuple[int, int]:
    """Width and height from a `data:image/png|jpeg;base64,...` URL's header bytes."""
    if not url.startswith("data:image/") or ";base64," not in url:
        raise BadImage("only data: URLs of images are read here")
    try:
        data = base64.b64decode(url.split(";base64,", 1)[1], validate=True)
    except binascii.Error:
        raise BadImage("bad base64") from None
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith(b"\xff\xd8"):
        at = 2
        while at + 9 < len(data):
            if data[at] != 0xFF:
                raise BadImage("bad JPEG marker")
            marker = data[at + 1]
            length = struct.unpack(">H", data[at + 2 : at + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[at + 5 : at + 9])
                return width, height
            at += 2 + length
    raise BadImage("not a PNG or JPEG")


def image_tokens(model: str, url: str, detail: str) -> int:
    width, height = image_size(url)
    base_model = model.split("-20")[0]
    if base_model in PATCH_MODELS:
        return _patches(width, height, detail, PATCH_MODELS[base_model])
    base, tile = TILE_MODELS.get(base_model, (85, 170))
    if detail == "low":
        return base
    if detail == "auto":
        detail = "low" if max(width, height) <= 512 else "high"
        if detail == "low":
            return base
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    if min(w, h) > 768:
        shrink = 768 / min(w, h)
        w, h = w * shrink, h * shrink
    return base + tile * math.ceil(int(w) / 512) * math.ceil(int(h) / 512)


def _patches(width: int, height: int, detail: str, multiplier: float) -> int:
    if detail == "low" or (detail == "auto" and max(width, height) <= 512):
        scale = min(1.0, 512 / max(width, height))
        width, height = max(int(width * scale), 1), max(int(height * scale), 1)
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    if patches > 1536:
        shrink = math.sqrt(32 * 32 * 1536 / (width * height))
        shrink *= min(
            math.floor(width * shrink / 32) / (width * shrink / 32),
            math.floor(height * shrink / 32) / (height * shrink / 32),
        )
        width, height = max(int(width * shrink), 1), max(int(height * shrink), 1)
        patches = min(math.ceil(width / 32) * math.ceil(height / 32), 1536)
    return math.ceil(patches * multiplier)


def content_images(content: Any) -> list[tuple[str, str]]:
    """(url, detail) of each image part of a message's content."""
    if not isinstance(content, list):
        return []
    found = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url") or {}
            found.append((str(image.get("url", "")), str(image.get("detail", "auto"))))
    return found

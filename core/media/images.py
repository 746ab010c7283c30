"""Photos for models that read images: decoded once when they arrive (Pillow), scaled down to
what the chat's detail level lets the model use, re-encoded, and counted by the model's rule.
What is stored and sent afterwards are these bytes: no later turn decodes or counts them again.
"""

from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageOps

from core.model.image_tokens import ImageRule, resolved_detail

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
# Pillow refuses images above this many pixels (a decompression bomb): 16k x 16k is plenty.
Image.MAX_IMAGE_PIXELS = 16_384 * 16_384


class NotAnImage(Exception):
    """The bytes are no image Pillow can read."""


@dataclass(frozen=True, slots=True)
class PreparedImage:
    """An image as stored and sent: its bytes at the size the model uses, and what it costs."""

    data: bytes
    media_type: str  # "image/jpeg" or "image/png"
    width: int
    height: int
    detail: str  # "low" or "high", never "auto": the request says what was counted
    tokens: int

    def data_url(self) -> str:
        return data_url(self.media_type, self.data)


def data_url(media_type: str, data: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


def prepare_image(data: bytes, rule: ImageRule, detail: str) -> PreparedImage:
    """Decode, orient, scale down and re-encode (JPEG; PNG for images with transparency, so a
    diagram keeps its background). CPU-bound on a big photo: run it in a thread."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        log.info("an image could not be read: %s", type(error).__name__)
        raise NotAnImage from None
    chosen = resolved_detail(detail, image.width, image.height)
    width, height = rule.scaled(image.width, image.height, chosen)
    if (width, height) != image.size:
        image = image.resize((width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if image.mode in ("RGBA", "LA", "P") and _has_transparency(image):
        image.save(out, "PNG", optimize=True)
        media_type = "image/png"
    else:
        image.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
        media_type = "image/jpeg"
    return PreparedImage(
        out.getvalue(), media_type, width, height, chosen, rule.tokens(width, height, chosen)
    )


def _has_transparency(image: Image.Image) -> bool:
    if image.mode == "P":
        return "transparency" in image.info
    alpha = image.getchannel("A")
    return alpha.getextrema()[0] < 255  # type: ignore[operator]

"""Text to image: the image models' catalog (sizes, qualities, prices per image) and the
generation port, implemented on the `openai` client's images endpoint."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import openai

from config.files import read_toml
from core.model.provider_errors import ProviderError, provider_error

DEFAULT_IMAGE_MODEL = "gpt-image-1"
# What the images endpoint answers with code or type when its safety system refuses a prompt.
SAFETY_CODES = frozenset({"content_policy_violation", "moderation_blocked"})


@dataclass(frozen=True, slots=True)
class ImageModel:
    name: str
    sizes: tuple[str, ...]
    qualities: tuple[str, ...]
    default_size: str
    default_quality: str
    asks_for_base64: bool  # dall-e answers with URLs unless asked; gpt-image-1 refuses the ask
    per_image: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # quality, size

    def cost_usd(self, size: str, quality: str) -> float:
        """0.0 when the catalog has no price for this size and quality."""
        return float(self.per_image.get(quality, {}).get(size, 0.0))


class ImageCatalog:
    """The `[images.NAME]` entries of models.toml."""

    def __init__(self, models: Mapping[str, ImageModel]) -> None:
        self._models = dict(models)

    @classmethod
    def load(cls) -> ImageCatalog:
        entries: dict[str, Any] = read_toml("models.toml").get("images", {})
        return cls({name: _image_model(name, entry) for name, entry in entries.items()})

    def names(self) -> list[str]:
        return list(self._models)

    def get(self, name: str) -> ImageModel | None:
        return self._models.get(name)

    def model(self, name: str) -> ImageModel:
        """The catalog's entry, or one that takes what it is given, priced at nothing (another
        server's image model)."""
        known = self._models.get(name)
        if known is not None:
            return known
        return ImageModel(name, (), (), "1024x1024", "auto", asks_for_base64=True)


def _image_model(name: str, entry: Mapping[str, Any]) -> ImageModel:
    return ImageModel(
        name=name,
        sizes=tuple(entry["sizes"]),
        qualities=tuple(entry["qualities"]),
        default_size=str(entry["default_size"]),
        default_quality=str(entry["default_quality"]),
        asks_for_base64=bool(entry.get("asks_for_base64", True)),
        per_image={
            quality: {size: float(price) for size, price in prices.items()}
            for quality, prices in entry.get("per_image", {}).items()
        },
    )


@dataclass(frozen=True, slots=True)
class GeneratedImage:
    data: bytes = field(repr=False)
    media_type: str
    revised_prompt: str | None  # dall-e-3 rewrites the prompt; what it drew from


class ImageRefused(Exception):
    """The provider's safety system refused the prompt."""


class ImageGenerator(Protocol):
    async def generate(
        self, prompt: str, model: ImageModel, size: str, quality: str
    ) -> GeneratedImage:
        """One image; raises ImageRefused or ProviderError."""
        ...


class OpenAIImageGenerator:
    """`client.images.generate`, the image coming back inline as base64 (a URL would have to
    be fetched again, from a host the bot does not otherwise talk to)."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def generate(
        self, prompt: str, model: ImageModel, size: str, quality: str
    ) -> GeneratedImage:
        try:
            result = await self._client.images.generate(
                model=model.name,
                prompt=prompt,
                n=1,
                size=size,  # the catalog's, checked by /set
                quality=cast(Any, quality),  # the catalog's; the client lists only known ones
                response_format="b64_json" if model.asks_for_base64 else openai.omit,
            )
        except openai.BadRequestError as error:
            if _is_safety_refusal(error):
                raise ImageRefused(str(error.code or "")) from None
            raise provider_error(error) from error
        except openai.APIError as error:
            raise provider_error(error) from error
        image = result.data[0] if result.data else None
        if image is None or not image.b64_json:
            raise ProviderError("bad_request", "the images endpoint sent no base64 image")
        try:
            data = base64.b64decode(image.b64_json, validate=True)
        except binascii.Error:
            raise ProviderError("bad_request", "the images endpoint sent broken base64") from None
        output = getattr(result, "output_format", None) or "png"
        return GeneratedImage(data, f"image/{output}", image.revised_prompt)


def _is_safety_refusal(error: openai.BadRequestError) -> bool:
    body = error.body if isinstance(error.body, Mapping) else {}
    return bool({str(error.code or ""), str(body.get("type") or "")} & SAFETY_CODES)

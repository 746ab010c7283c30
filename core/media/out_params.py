"""Images and speech out, per chat: the owner's defaults and switches, what a chat set with
/set (image_model, image_size, image_quality, speech_model, voice, image_generation, speech),
checked against the catalogs, and what applies to one request."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from core.media.image_generation import DEFAULT_IMAGE_MODEL, ImageCatalog, ImageModel
from core.media.speech import DEFAULT_SPEECH_MODEL, DEFAULT_VOICE, SpeechCatalog, SpeechModel
from core.model.params import MEDIA_OUT_PARAMS, ON_OFF, ChatParams, InvalidParam


@dataclass(frozen=True, slots=True)
class MediaOutConfig:
    """IMAGE_GENERATION_ENABLED, SPEECH_ENABLED and the defaults chats start from."""

    image_generation_enabled: bool = True
    speech_enabled: bool = True
    image_model: str = DEFAULT_IMAGE_MODEL
    image_size: str = ""  # "" = the model's own default
    image_quality: str = ""
    speech_model: str = DEFAULT_SPEECH_MODEL
    voice: str = DEFAULT_VOICE


@dataclass(frozen=True, slots=True)
class MediaOutOptions:
    """What /set, /voice and the media turns check a chat's choices against."""

    config: MediaOutConfig = field(default_factory=MediaOutConfig)
    images: ImageCatalog = field(default_factory=ImageCatalog.load)
    speech: SpeechCatalog = field(default_factory=SpeechCatalog.load)

    def parse(self, params: ChatParams, name: str, raw: str) -> ChatParams:
        return parse_media_param(params, name, raw, self.config, self.images, self.speech)


@dataclass(frozen=True, slots=True)
class ImageChoice:
    model: ImageModel
    size: str
    quality: str

    @property
    def cost_usd(self) -> float:
        return self.model.cost_usd(self.size, self.quality)


def image_choice(params: ChatParams, config: MediaOutConfig, images: ImageCatalog) -> ImageChoice:
    """The chat's model, size and quality; a size or quality the model does not have (set for
    another model) falls back to the owner's, then to the model's own default."""
    model = images.model(params.image_model or config.image_model)
    return ImageChoice(
        model,
        _first_valid(model.sizes, params.image_size, config.image_size) or model.default_size,
        _first_valid(model.qualities, params.image_quality, config.image_quality)
        or model.default_quality,
    )


def speech_choice(
    params: ChatParams, config: MediaOutConfig, speech: SpeechCatalog
) -> tuple[SpeechModel, str]:
    """The chat's speech model and voice (a voice the model lacks: the owner's, then its first)."""
    model = speech.model(params.speech_model or config.speech_model)
    voice = _first_valid(model.voices, params.voice, config.voice)
    return model, voice or (model.voices[0] if model.voices else config.voice)


def _first_valid(allowed: tuple[str, ...], *candidates: str | None) -> str | None:
    for candidate in candidates:
        if candidate and (not allowed or candidate in allowed):
            return candidate
    return None


def parse_media_param(
    params: ChatParams,
    name: str,
    raw: str,
    config: MediaOutConfig,
    images: ImageCatalog,
    speech: SpeechCatalog,
) -> ChatParams:
    """`params` with one of MEDIA_OUT_PARAMS set from `raw`, or InvalidParam saying what is
    allowed: sizes and qualities are the chat's image model's, voices its speech model's."""
    name, raw = name.strip().lower(), raw.strip()
    assert name in MEDIA_OUT_PARAMS
    if raw.lower() in ("default", "reset"):
        cleared: dict[str, Any] = {name: None}
        return replace(params, **cleared)
    if not raw:
        raise InvalidParam("set.missing_value", name=name)
    word = raw.lower()
    if name in ("image_generation", "speech"):
        allowed: tuple[str, ...] = tuple(ON_OFF)
        value: object = ON_OFF.get(word)
    elif name == "image_model":
        allowed, value = tuple(images.names()), word
    elif name == "speech_model":
        allowed, value = tuple(speech.names()), word
    elif name == "voice":
        allowed, value = speech_choice(params, config, speech)[0].voices, word
    else:
        model = image_choice(params, config, images).model
        allowed = model.sizes if name == "image_size" else model.qualities
        value = word
    if value is None or (allowed and word not in allowed):
        raise InvalidParam("set.choice", name=name, allowed=", ".join(allowed))
    updated: dict[str, Any] = {name: value}
    return replace(params, **updated)

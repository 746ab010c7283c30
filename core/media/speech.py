"""Text to speech: the speech models' catalog (voices, price per character) and the synthesis
port, implemented on the `openai` client's speech endpoint with OGG/Opus output, which
Telegram's sendVoice takes as it is and every player plays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import openai

from config.files import read_toml
from core.model.provider_errors import provider_error

DEFAULT_SPEECH_MODEL = "gpt-4o-mini-tts"
DEFAULT_VOICE = "alloy"
SPEECH_MEDIA_TYPE = "audio/ogg"  # response_format "opus": Opus in an OGG container
# The endpoint's limit on the text of one request.
MAX_INPUT_CHARS = 4096


@dataclass(frozen=True, slots=True)
class SpeechModel:
    name: str
    voices: tuple[str, ...]  # empty: any (another server's model)
    per_1m_chars: float

    def cost_usd(self, chars: int) -> float:
        return self.per_1m_chars * chars / 1_000_000


class SpeechCatalog:
    """The `[speech.NAME]` entries of models.toml."""

    def __init__(self, models: Mapping[str, SpeechModel]) -> None:
        self._models = dict(models)

    @classmethod
    def load(cls) -> SpeechCatalog:
        entries: dict[str, Any] = read_toml("models.toml").get("speech", {})
        return cls(
            {
                name: SpeechModel(name, tuple(entry["voices"]), float(entry["per_1m_chars"]))
                for name, entry in entries.items()
            }
        )

    def names(self) -> list[str]:
        return list(self._models)

    def get(self, name: str) -> SpeechModel | None:
        return self._models.get(name)

    def model(self, name: str) -> SpeechModel:
        return self._models.get(name) or SpeechModel(name, (), 0.0)


class Synthesizer(Protocol):
    async def speak(self, text: str, model: str, voice: str) -> bytes:
        """OGG/Opus audio of `text` (at most MAX_INPUT_CHARS); raises ProviderError."""
        ...


class OpenAISynthesizer:
    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self._client = client

    async def speak(self, text: str, model: str, voice: str) -> bytes:
        try:
            response = await self._client.audio.speech.create(
                model=model,
                voice=voice,
                input=text,
                response_format="opus",
            )
            return await response.aread()
        except openai.APIError as error:
            raise provider_error(error) from error


def speakable(text: str, limit: int = MAX_INPUT_CHARS) -> tuple[str, bool]:
    """`text` as one request takes it: whole, or cut at the last sentence or word end before
    `limit` (True when cut)."""
    text = text.strip()
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    for stop in (". ", "! ", "? ", "\n", " "):
        at = head.rfind(stop)
        if at > limit // 2:
            return head[: at + 1].rstrip(), True
    return head, True

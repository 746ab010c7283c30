"""Speech to text: the transcription port, its implementation on the `openai` client's audio
transcriptions endpoint, and its prices per minute from the model catalog."""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import openai

from config.files import read_toml
from core.model.provider_errors import provider_error

DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
# The endpoint's own limit on an uploaded file.
ENDPOINT_MAX_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    seconds: float | None  # the audio's length as the service billed it, when it says


class Transcriber(Protocol):
    async def transcribe(
        self, audio: bytes, file_name: str, media_type: str, language: str | None
    ) -> Transcript:
        """What was said; raises ProviderError."""
        ...


class OpenAITranscriber:
    """`client.audio.transcriptions.create`, the audio sent as it came: OGG/Opus voice notes,
    MP3, M4A, WAV and WebM are all accepted as they are, so nothing is re-encoded.

    The upload is streamed from the one buffer the attachment arrived in. Given as bytes, the
    multipart body writes the whole file to the socket at once, and Python 3.11's asyncio
    transport then copies what the socket did not take (twice: a slice and its write buffer),
    ~2.6x a 20 MB note at peak. Given as a file over the same bytes (`io.BytesIO` shares them
    until written to), the client sends it in 64 KiB pieces; a retry reads it again from the
    start (the client seeks to 0)."""

    def __init__(self, client: openai.AsyncOpenAI, model: str) -> None:
        self._client = client
        self.model = model

    async def transcribe(
        self, audio: bytes, file_name: str, media_type: str, language: str | None
    ) -> Transcript:
        hint = language_hint(language)
        try:
            result = await self._client.audio.transcriptions.create(
                model=self.model,
                # The endpoint tells the format by the file name's extension.
                file=(file_name, io.BytesIO(audio), media_type or "application/octet-stream"),
                response_format="json",
                language=hint if hint else openai.omit,
            )
        except openai.APIError as error:
            raise provider_error(error) from error
        usage = result.usage
        seconds = usage.seconds if usage is not None and usage.type == "duration" else None
        return Transcript(result.text.strip(), seconds)


def language_hint(language: str | None) -> str | None:
    """The ISO 639-1 code the endpoint takes ("ko" from "ko-KR"), or None."""
    if not language:
        return None
    code = language.replace("_", "-").split("-", 1)[0].lower()
    return code if len(code) == 2 and code.isalpha() else None


class TranscriptionPrices:
    """USD per minute of audio by transcription model (`[transcription.NAME]` in models.toml)."""

    def __init__(self, per_minute: Mapping[str, float]) -> None:
        self._per_minute = dict(per_minute)

    @classmethod
    def load(cls) -> TranscriptionPrices:
        entries = read_toml("models.toml").get("transcription", {})
        return cls({name: float(entry["per_minute"]) for name, entry in entries.items()})

    def cost_usd(self, model: str, seconds: float) -> float:
        """0.0 for a model without a price (a local server's)."""
        return self._per_minute.get(model, 0.0) * seconds / 60

"""A voice note's upload through the real `openai` client to the fake server: the bytes arrive
as they were given (not re-encoded), and the body is streamed from the one buffer in pieces,
never written to the socket whole (Python 3.11's asyncio transport copies what a socket does
not take at once: ~2.6x a 20 MB note at peak, `python -m bench --media`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import openai

from core.media.transcription import OpenAITranscriber
from fakes.openai_server import FakeOpenAI
from tests.media_fixtures import voice_note

MB = 1024 * 1024


class ChunkSizes(httpx2.AsyncHTTPTransport):
    """The real transport, noting the size of each piece of a request body it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        body: httpx2.AsyncByteStream = request.stream
        sizes = self.sizes

        class Counted(httpx2.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                async for chunk in body:
                    sizes.append(len(chunk))
                    yield chunk

        request.stream = Counted()
        return await super().handle_async_request(request)


async def test_a_large_voice_note_is_streamed_in_pieces_and_arrives_unchanged(
    llm: FakeOpenAI,
) -> None:
    audio = voice_note("hello there", padding=3 * MB)
    transport = ChunkSizes()
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url=llm.base_url,
        max_retries=0,
        http_client=httpx2.AsyncClient(transport=transport),
    )
    try:
        transcript = await OpenAITranscriber(client, "whisper-1").transcribe(
            audio, "voice.ogg", "audio/ogg", "en"
        )
    finally:
        await client.close()

    assert transcript.text == "hello there"
    [heard] = llm.transcriptions
    assert heard.audio == audio
    assert sum(transport.sizes) > len(audio)  # the whole form went through the counter
    assert max(transport.sizes) <= 64 * 1024

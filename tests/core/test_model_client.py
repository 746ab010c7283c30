"""The bot's model client on the wire: SSE decoding, stream errors, connections kept alive."""

from __future__ import annotations

import asyncio
import itertools

import openai
from hypothesis import given
from hypothesis import strategies as st
from openai._streaming import SSEDecoder  # the client's own decoder, as the reference

from config.settings import Settings
from core.bootstrap import model_client
from core.model.catalog import ModelCatalog
from core.model.client import ModelRequest, OpenAIChatModel, ProviderError, SSEData, TextDelta
from core.model.params import ChatParams
from fakes.openai_server import FakeOpenAI, FakeReply

SPEC = ModelCatalog.load(8192).get("gpt-4o-mini")
ENDINGS = st.sampled_from([b"\n", b"\r", b"\r\n"])
TEXT = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=12
).map(str.encode)


@st.composite
def event_streams(draw: st.DrawFn) -> bytes:
    """Events of one or more data lines, with comments and other fields, any line endings."""
    out = b""
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            out += b":" + draw(TEXT) + draw(ENDINGS)
        if draw(st.booleans()):
            out += b"event: " + draw(TEXT) + draw(ENDINGS)
        for _ in range(draw(st.integers(1, 3))):
            out += draw(st.sampled_from([b"data: ", b"data:", b"data:  "])) + draw(TEXT)
            out += draw(ENDINGS)
        out += draw(ENDINGS)
    return out


@given(stream=event_streams(), cuts=st.lists(st.integers(0, 400), max_size=8))
def test_sse_data_matches_the_openai_decoder_however_the_bytes_are_split(
    stream: bytes, cuts: list[int]
) -> None:
    expected = [event.data for event in SSEDecoder().iter_bytes(iter([stream]))]
    bounds = sorted({min(cut, len(stream)) for cut in cuts} | {0, len(stream)})
    decoder = SSEData()
    got: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        got += decoder.feed(stream[start:end])
    assert [data.decode() for data in got] == expected


def _settings(llm: FakeOpenAI) -> Settings:
    return Settings(
        openai_api_key="sk-test", openai_base_url=llm.base_url, openai_max_retries=0, _env_file=None
    )


async def _answer(model: OpenAIChatModel, text: str) -> str:
    request = ModelRequest(SPEC, [{"role": "user", "content": text}], ChatParams(), 100)
    return "".join([e.text async for e in model.stream(request) if isinstance(e, TextDelta)])


async def test_an_error_event_mid_stream_is_a_broken_stream_after_the_text_so_far() -> None:
    async with FakeOpenAI() as llm:
        llm.responder = lambda body: FakeReply("abcdefghij", chunk_size=2, error_after_chunks=2)
        client = model_client(_settings(llm))
        try:
            request = ModelRequest(SPEC, [{"role": "user", "content": "hi"}], ChatParams(), 100)
            deltas: list[str] = []
            error: ProviderError | None = None
            try:
                async for event in OpenAIChatModel(client).stream(request):
                    assert isinstance(event, TextDelta)
                    deltas.append(event.text)
            except ProviderError as raised:
                error = raised
        finally:
            await client.close()
    assert deltas == ["ab", "cd"]
    assert error is not None and error.kind == "broken_stream"
    assert "The server had an error" in error.detail


async def test_many_streams_at_once_keep_their_connections_for_the_next_turn() -> None:
    # 150 answers at once: more than the openai client keeps alive by default (100).
    async with FakeOpenAI(latency_s=0.2) as llm:
        client = model_client(_settings(llm))
        model = OpenAIChatModel(client)
        try:
            for wave in range(2):
                answers = await asyncio.gather(
                    *(_answer(model, f"wave {wave} chat {n}") for n in range(150))
                )
                assert answers == [
                    f"You said: wave {wave} chat {n}. I can see 0 earlier messages."
                    for n in range(150)
                ]
        finally:
            await client.close()
    first, second = (
        {r.peer for r in llm.chat_requests[wave * 150 : (wave + 1) * 150]} for wave in (0, 1)
    )
    assert len(first) == 150
    assert second <= first  # no connection was closed and opened again


async def test_requests_that_do_not_stream_go_through_the_same_pools() -> None:
    async with FakeOpenAI() as llm:
        client = model_client(_settings(llm))
        try:
            assert isinstance(client, openai.AsyncOpenAI)
            listed = await client.models.list()
            assert "gpt-4o-mini" in [m.id for m in listed.data]
        finally:
            await client.close()

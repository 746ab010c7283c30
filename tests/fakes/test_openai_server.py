"""The fake OpenAI server, exercised through the real `openai` client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
import tiktoken

from fakes.openai_server import (
    FakeOpenAI,
    FakeReply,
    count_prompt_tokens,
    default_responder,
    encoding_for,
)

# The six-message example from OpenAI's cookbook "How to count tokens with tiktoken".
COOKBOOK_MESSAGES: list[dict[str, Any]] = [
    {
        "role": "system",
        "content": "You are a helpful, pattern-following assistant that translates corporate "
        "jargon into plain English.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "New synergies will help drive top-line growth.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Things working well together will increase revenue.",
    },
    {
        "role": "system",
        "name": "example_user",
        "content": "Let's circle back when we have more bandwidth to touch base on opportunities "
        "for increased leverage.",
    },
    {
        "role": "system",
        "name": "example_assistant",
        "content": "Let's talk later when we're less busy about how to do better.",
    },
    {
        "role": "user",
        "content": "This late pivot means we don't have time to boil the ocean for the client "
        "deliverable.",
    },
]


@pytest.fixture
async def llm() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as server:
        yield server


@pytest.fixture
async def client(llm: FakeOpenAI) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0) as c:
        yield c


USER = [{"role": "user", "content": "hello there"}]


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        *[(m, 129) for m in ("gpt-3.5-turbo", "gpt-4", "gpt-4-0613", "gpt-4-turbo")],
        *[(m, 124) for m in ("gpt-4o", "gpt-4o-mini", "gpt-4.1-mini", "o3-mini", "gpt-5", "x")],
    ],
)
def test_cookbook_prompt_token_counts(model: str, expected: int) -> None:
    assert count_prompt_tokens(COOKBOOK_MESSAGES, model) == expected


@pytest.mark.parametrize("name", ["o200k_base", "cl100k_base"])
def test_bpe_openai_matches_tiktoken(name: str) -> None:
    from bpe_openai import registry  # already imported (warnings muted) by openai_server

    spec = registry.ENCODING_CONSTRUCTORS[name]()
    reference = tiktoken.Encoding(
        name=f"{name}_ref",
        pat_str=spec["pat_str"],
        mergeable_ranks=spec["mergeable_ranks"],
        special_tokens=spec["special_tokens"],
    )
    model = "gpt-4o" if name == "o200k_base" else "gpt-4"
    samples = ["Hello, world!", "  spaces\n\n\tand tabs ", "안녕하세요 세계 😀", "<|endoftext|> x"]
    samples += ["1234567 don't", "def f(x):\n    return x**2\n", "Ünïcödé — “quotes”"]
    for text in samples:
        assert encoding_for(model).encode_ordinary(text) == reference.encode_ordinary(text)


async def test_streamed_chat_with_usage(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
        temperature=0.5,
        safety_identifier="user-1",
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(c.object == "chat.completion.chunk" and c.model == "gpt-4o-mini" for c in chunks)
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: hello there. I can see 0 earlier messages."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert all(c.usage is None for c in chunks[:-1])
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.prompt_tokens == count_prompt_tokens(USER, "gpt-4o-mini")
    assert last.usage.completion_tokens == len(encoding_for("gpt-4o-mini").encode_ordinary(text))
    assert last.usage.prompt_tokens_details is not None
    assert last.usage.prompt_tokens_details.cached_tokens == 0
    body = llm.last_body
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.5 and body["safety_identifier"] == "user-1"
    assert llm.last_request.headers["authorization"] == "Bearer test"
    assert llm.last_request.api_key == "test"


async def test_stream_without_usage_option_has_no_usage(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,  # type: ignore[arg-type]
    )
    chunks = [chunk async for chunk in stream]
    assert all(c.usage is None and len(c.choices) == 1 for c in chunks)


async def test_plain_chat_and_memory_responder(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    messages: Any = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi! My name is Alice Cooper, nice to meet you."},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "What is my name?"},
    ]
    done = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, max_completion_tokens=100
    )
    assert done.object == "chat.completion"
    assert done.choices[0].message.content == "Your name is Alice Cooper."
    assert done.choices[0].message.role == "assistant"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None
    assert done.usage.prompt_tokens == count_prompt_tokens(messages, "gpt-4o-mini")
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert llm.last_messages == messages and llm.last_body["max_completion_tokens"] == 100
    assert default_responder({"messages": messages[2:]}) == "I don't know your name."


async def test_max_tokens_cuts_with_length(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    llm.responder = lambda body: "one two three four five six seven eight"
    done = await client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        max_tokens=3,  # type: ignore[arg-type]
    )
    assert done.choices[0].message.content == "one two three"
    assert done.choices[0].finish_reason == "length"
    assert done.usage is not None and done.usage.completion_tokens == 3


async def test_legacy_completions(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    prompt = "User: my name is Bob\nAssistant: Hi Bob\nUser: what's my name?\nAssistant:"
    done = await client.completions.create(
        model="gpt-3.5-turbo-instruct", prompt=prompt, max_tokens=50
    )
    assert done.object == "text_completion" and done.id.startswith("cmpl-")
    assert done.choices[0].text == "Your name is Bob."
    assert done.usage is not None
    assert done.usage.prompt_tokens == len(encoding_for("gpt-4").encode_ordinary(prompt))

    llm.responder = lambda body: FakeReply("streamed legacy answer", chunk_size=4)
    stream = await client.completions.create(
        model="gpt-3.5-turbo-instruct",
        prompt="Say something",
        max_tokens=50,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "streamed legacy answer"
    expected = len(encoding_for("gpt-3.5-turbo-instruct").encode_ordinary("streamed legacy answer"))
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == expected


async def test_models(client: openai.AsyncOpenAI) -> None:
    ids = [m.id async for m in client.models.list()]
    assert "gpt-4o-mini" in ids


async def test_a_base_url_without_v1_meets_404s_like_a_real_server(llm: FakeOpenAI) -> None:
    wrong = openai.AsyncOpenAI(api_key="sk-x", base_url=llm.base_url.removesuffix("/v1"))
    async with wrong:
        with pytest.raises(openai.NotFoundError) as chat:
            await wrong.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]
        with pytest.raises(openai.NotFoundError):
            await wrong.models.list()
    assert not isinstance(chat.value.body, dict)  # a plain "Not Found", not an OpenAI error


async def test_a_server_without_a_model_list() -> None:
    async with FakeOpenAI(list_models=False) as bare:
        listing = openai.AsyncOpenAI(api_key="sk-x", base_url=bare.base_url)
        async with listing:
            with pytest.raises(openai.NotFoundError):
                await listing.models.list()
            assert (await listing.chat.completions.create(model="m", messages=USER)).choices  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "kwargs", "exc"),
    [
        (429, {"headers": {"retry-after": "2"}}, openai.RateLimitError),
        (429, {"code": "insufficient_quota", "type": "insufficient_quota"}, openai.RateLimitError),
        (401, {}, openai.AuthenticationError),
        (400, {"code": "context_length_exceeded"}, openai.BadRequestError),
        (500, {}, openai.InternalServerError),
        (502, {}, openai.InternalServerError),
        (503, {}, openai.InternalServerError),
    ],
)
async def test_fail_next(
    llm: FakeOpenAI, client: openai.AsyncOpenAI, status: int, kwargs: Any, exc: type[Exception]
) -> None:
    llm.fail_next(status, count=2, **kwargs)
    for _ in range(2):
        with pytest.raises(exc) as info:
            await client.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]
        assert isinstance(info.value, openai.APIStatusError)
        assert info.value.status_code == status
        assert info.value.code == kwargs.get("code", info.value.code)
        if "headers" in kwargs:
            assert info.value.response.headers["retry-after"] == "2"
    assert (await client.chat.completions.create(model="gpt-4o", messages=USER)).choices  # type: ignore[arg-type]
    assert len(llm.chat_requests) == 3


async def test_context_window_error(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    llm.context_window = 20
    with pytest.raises(openai.BadRequestError) as info:
        await client.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            max_tokens=15,  # type: ignore[arg-type]
        )
    assert info.value.code == "context_length_exceeded"


async def test_hang_next_times_out(llm: FakeOpenAI) -> None:
    llm.hang_next(5)
    async with openai.AsyncOpenAI(
        base_url=llm.base_url, api_key="k", max_retries=0, timeout=0.3
    ) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]
        assert (await client.chat.completions.create(model="gpt-4o", messages=USER)).choices  # type: ignore[arg-type]


async def test_cached_tokens_on_repeated_long_prefix(client: openai.AsyncOpenAI) -> None:
    system = {"role": "system", "content": " ".join(f"fact {i}." for i in range(1000))}
    first: Any = [system, {"role": "user", "content": "first question"}]
    second: Any = [*first, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "b"}]
    one = await client.chat.completions.create(model="gpt-4o-mini", messages=first)
    two = await client.chat.completions.create(model="gpt-4o-mini", messages=second)
    assert one.usage is not None and two.usage is not None
    assert one.usage.prompt_tokens_details is not None
    assert two.usage.prompt_tokens_details is not None
    assert one.usage.prompt_tokens_details.cached_tokens == 0
    cached = two.usage.prompt_tokens_details.cached_tokens
    shared = one.usage.prompt_tokens - 3  # all but the reply primer is a shared prefix
    assert cached == shared // 128 * 128 and cached >= 1024
    short = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    again = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    assert short.usage is not None and again.usage is not None
    assert again.usage.prompt_tokens_details is not None
    assert again.usage.prompt_tokens_details.cached_tokens == 0  # below 1024 tokens


async def test_broken_stream_raises(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    llm.responder = lambda body: FakeReply("x" * 100, chunk_size=10, break_after_chunks=3)
    stream = await client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,  # type: ignore[arg-type]
    )
    received = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "x" * 30

    llm.responder = lambda body: FakeReply("never sent", break_after_chunks=0)
    with pytest.raises(openai.APIConnectionError):
        await client.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]


async def test_api_key_check(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    llm.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        await client.chat.completions.create(model="gpt-4o", messages=USER)  # type: ignore[arg-type]


async def test_malformed_chunk_raises(llm: FakeOpenAI, client: openai.AsyncOpenAI) -> None:
    llm.responder = lambda body: FakeReply("abcdefghij", chunk_size=2, malformed_chunk_after=2)
    stream = await client.chat.completions.create(
        model="gpt-4o",
        messages=USER,
        stream=True,  # type: ignore[arg-type]
    )
    with pytest.raises(ValueError):
        async for _ in stream:
            pass


async def test_latency_spreads_over_the_stream() -> None:
    async with (
        FakeOpenAI(latency_s=0.4) as llm,
        openai.AsyncOpenAI(base_url=llm.base_url, api_key="k", max_retries=0) as client,
    ):
        start = time.monotonic()
        stream = await client.chat.completions.create(
            model="gpt-4o",
            messages=USER,
            stream=True,  # type: ignore[arg-type]
        )
        arrivals = [time.monotonic() - start async for _ in stream]
    assert arrivals[0] < 0.2
    assert 0.35 < arrivals[-1] < 0.8


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("stop", ["END"], "unsupported_parameter"),
        ("max_tokens", 100, "unsupported_parameter"),
        ("top_p", 0.5, "unsupported_parameter"),
        ("presence_penalty", 0.5, "unsupported_parameter"),
        ("frequency_penalty", 0.5, "unsupported_parameter"),
        ("logit_bias", {"1": 5}, "unsupported_parameter"),
        ("temperature", 0.3, "unsupported_value"),
        ("reasoning_effort", "loud", "invalid_value"),
    ],
)
async def test_reasoning_models_refuse_what_openai_refuses(
    client: openai.AsyncOpenAI, field: str, value: Any, code: str
) -> None:
    for model in ("o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5-mini", "gpt-5.1"):
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(
                model=model,
                messages=USER,
                **{field: value},  # type: ignore[arg-type]
            )
        assert refused.value.code == code and refused.value.param == field
    # Other models take it (but a reasoning effort), and so does temperature 1.
    if field != "reasoning_effort":
        await client.chat.completions.create(model="gpt-4o", messages=USER, **{field: value})  # type: ignore[arg-type]
    await client.chat.completions.create(model="gpt-5", messages=USER, temperature=1)  # type: ignore[arg-type]


async def test_reasoning_spends_the_budget_before_any_visible_text(
    llm: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    llm.reasoning_tokens = 3000
    done = await client.chat.completions.create(
        model="gpt-5-mini",
        messages=USER,
        max_completion_tokens=3005,  # type: ignore[arg-type]
    )
    assert done.choices[0].message.content == "You said: hello there"
    assert done.choices[0].finish_reason == "length"
    usage = done.usage
    assert usage is not None and usage.completion_tokens == 3005
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 3000

    stream = await client.chat.completions.create(
        model="gpt-5-mini",
        messages=USER,
        max_completion_tokens=2000,
        stream=True,
        stream_options={"include_usage": True},  # type: ignore[arg-type]
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 2000
    # Non-reasoning models spend nothing on it.
    done = await client.chat.completions.create(model="gpt-4o", messages=USER, max_tokens=5)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "You said: hello there"


async def test_reasoning_deltas_stream_before_the_answer(
    llm: FakeOpenAI, client: openai.AsyncOpenAI
) -> None:
    llm.responder = lambda body: FakeReply("Hi.", reasoning_text="Greet back.", chunk_size=4)
    stream = await client.chat.completions.create(
        model="deepseek-reasoner",
        messages=USER,
        stream=True,  # type: ignore[arg-type]
    )
    deltas = [c.choices[0].delta for c in [chunk async for chunk in stream] if c.choices]
    thought = [getattr(d, "reasoning_content", None) for d in deltas]
    assert "".join(t for t in thought if t) == "Greet back."
    first_content = next(i for i, d in enumerate(deltas) if d.content)
    assert all(t is None for t in thought[first_content:])

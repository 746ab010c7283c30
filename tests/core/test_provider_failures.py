"""Every provider failure reaches the user as a short message; history stays consistent."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncGenerator, Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import select

from config.settings import Settings
from core.bootstrap import App, bootstrap
from core.boundary import AnswerDone, CommandReply, Failure, Notice
from core.storage.schema import MessageRow, UsageRow
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.core.helpers import collect, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]


async def stored(app: App) -> list[tuple[str, str]]:
    async with session_on(app) as session:
        rows = (await session.scalars(select(MessageRow).order_by(MessageRow.id))).all()
    return [(row.role, row.content) for row in rows]


@pytest.mark.parametrize(
    ("status", "options", "expected"),
    [
        (429, {}, "rate limit"),
        (429, {"headers": {"retry-after": "3"}}, "rate limit"),
        (429, {"code": "insufficient_quota", "type": "insufficient_quota"}, "quota"),
        (401, {}, "API key"),
        (400, {"code": "context_length_exceeded"}, "too long for the model"),
        (  # llama.cpp's llama-server
            400,
            {
                "type": "exceed_context_size_error",
                "message": "request (3114 tokens) exceeds the available context size (512 "
                "tokens), try increasing it",
            },
            "too long for the model",
        ),
        (404, {"code": "model_not_found"}, "doesn't know this chat's model"),
        (500, {}, "had an error"),
        (502, {}, "had an error"),
        (503, {}, "had an error"),
    ],
)
async def test_status_errors_become_short_messages_and_the_next_turn_works(
    app: App, llm: FakeOpenAI, status: int, options: dict, expected: str
) -> None:
    llm.fail_next(status, **options)
    events = await collect(app.service, private("first try"))
    assert len(events) == 1 and isinstance(events[0], Failure)
    assert expected in events[0].text and "Traceback" not in events[0].text
    assert await stored(app) == [("user", "first try")]
    assert (await say(app.service, private("second try"))).startswith("You said: second try")
    assert [m["content"] for m in llm.last_messages[1:]] == ["first try", "second try"]


async def test_a_timeout_is_reported(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(openai_timeout_s=0.5) as app:
        llm.hang_next(3)
        (event,) = await collect(app.service, private("slow"))
        assert event == Failure("The AI service took too long to answer. Please try again.")
        assert (await say(app.service, private("again"))).startswith("You said: again")


async def test_connection_refused_is_reported(make_app: MakeApp) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    async with make_app(openai_base_url=f"http://127.0.0.1:{port}/v1") as app:
        (event,) = await collect(app.service, private("anyone there?"))
        assert event == Failure("I can't reach the AI service right now. Please try again later.")


async def test_retries_ride_out_a_brief_rate_limit(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(openai_max_retries=2) as app:
        llm.fail_next(429, headers={"retry-after": "0"}, count=2)
        assert (await say(app.service, private("hello"))).startswith("You said: hello")
        assert len(llm.chat_requests) == 3


async def test_a_broken_stream_keeps_what_arrived_and_says_so(app: App, llm: FakeOpenAI) -> None:
    llm.responder = lambda body: FakeReply(
        "The first part arrives, then", chunk_size=4, break_after_chunks=3
    )
    events = await collect(app.service, private("tell me"))
    done = [e for e in events if isinstance(e, AnswerDone)]
    assert done == [AnswerDone("The first pa", cut_short=True)]
    assert any(isinstance(e, Notice) and "interrupted" in e.text for e in events)
    assert await stored(app) == [("user", "tell me"), ("assistant", "The first pa")]
    llm.responder = lambda body: "fine now"
    assert await say(app.service, private("again")) == "fine now"


async def test_a_malformed_chunk_is_reported_without_a_traceback(app: App, llm: FakeOpenAI) -> None:
    llm.responder = lambda body: FakeReply("abcdefghij", chunk_size=2, malformed_chunk_after=2)
    events = await collect(app.service, private("hi"))
    assert isinstance(events[-1], Notice | Failure)
    assert all("Traceback" not in getattr(e, "text", "") for e in events)


async def test_an_answer_cut_at_max_tokens_is_shown_as_cut(app: App, llm: FakeOpenAI) -> None:
    await say(app.service, private("/set max_tokens 5"))
    llm.responder = lambda body: "one two three four five six seven eight nine ten"
    events = await collect(app.service, private("count"))
    done = next(e for e in events if isinstance(e, AnswerDone))
    assert done.cut_short and done.text == "one two three four five"
    assert isinstance(events[-1], Notice) and "max_tokens limit (5)" in events[-1].text


async def test_an_empty_answer_is_reported_and_nothing_half_stored(
    app: App, llm: FakeOpenAI
) -> None:
    llm.responder = lambda body: ""
    (event,) = await collect(app.service, private("hi"))
    assert isinstance(event, Failure) and "empty answer" in event.text
    assert await stored(app) == [("user", "hi")]
    async with session_on(app) as session:
        assert len((await session.scalars(select(UsageRow))).all()) == 1


class BrokenModel:
    """A hand-written model whose stream hits a bug of ours, not a provider error."""

    async def stream(self, request: object) -> AsyncGenerator[object, None]:
        raise RuntimeError("a bug, with a secret sk-test-key-123456 in it")
        yield  # pragma: no cover - makes this an async generator


async def test_a_bug_in_a_turn_is_a_short_message_not_a_traceback(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    async with bootstrap(make_settings(), model=BrokenModel()) as app:  # type: ignore[arg-type]
        (event,) = await collect(app.service, private("hello"))
        assert event == Failure("Something went wrong on my side. Please try again.")
        assert "RuntimeError" in caplog.text  # the owner sees it in the log
        assert await stored(app) == [("user", "hello")]


# issue 11 item 17: a wrong base URL is told apart from a model the server does not have.


async def test_a_base_url_without_v1_says_to_check_it(
    make_app: MakeApp, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = llm.base_url.removesuffix("/v1")
    async with make_app(openai_base_url=wrong) as app:
        for attempt in ("hello", "hello again"):
            (event,) = await collect(app.service, private(attempt))
            assert event == Failure(
                "The AI service's address looks wrong (it answers 'not found' to everything). "
                "The owner needs to check OPENAI_BASE_URL (or this provider's base_url in "
                "PROVIDERS)."
            )
        listing = (await collect(app.service, private("/models")))[0]
        assert isinstance(listing, CommandReply) and listing.is_error
        assert "OPENAI_BASE_URL" in listing.text
    told = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert told == [
        f"the AI service answers 404 at {wrong}/chat/completions: check OPENAI_BASE_URL (it "
        "usually ends in /v1); every answer fails until then"
    ]
    assert "sk-test-key" not in caplog.text


@pytest.mark.parametrize(
    ("error", "list_models", "expected"),
    [
        ({"code": "model_not_found"}, True, "doesn't know this chat's model"),
        ({"message": "model 'llama9' not found, try pulling it first"}, True, "doesn't know"),
        ({"code": "model_not_found"}, False, "check OPENAI_BASE_URL"),  # GET /models 404s too
        ({"message": "Invalid URL (POST /v1/chat/completions)"}, True, "check OPENAI_BASE_URL"),
    ],
)
async def test_a_404_names_the_model_only_when_the_server_said_so(
    make_settings: Callable[..., Settings], error: dict, list_models: bool, expected: str
) -> None:
    async with FakeOpenAI(list_models=list_models) as server:
        settings = make_settings(openai_base_url=server.base_url)
        async with bootstrap(settings) as app:
            server.fail_next(404, **error)
            (event,) = await collect(app.service, private("hi"))
            assert isinstance(event, Failure) and expected in event.text


async def test_models_behind_a_custom_server_lists_what_it_serves(
    app: App, llm: FakeOpenAI
) -> None:
    llm.models = ("gpt-4o-mini", "llama3.1:8b", "mistral:7b")
    (listing,) = await collect(app.service, private("/models"))
    assert isinstance(listing, CommandReply)
    assert listing.text.splitlines()[1:] == [
        "▶ gpt-4o-mini: 128,000 · 16,384 · $0.15/0.075/0.6",
        "• llama3.1:8b: 8,192 · 2,048 · —",
        "• mistral:7b: 8,192 · 2,048 · —",
    ]
    assert [r.path for r in llm.requests] == ["/v1/models"]

"""Providers side by side (issue 12 item 4): two fake OpenAI-compatible servers, each with its
own key; a chat moves between their models and each request reaches the right server with the
right key; one provider down fails only its chats."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from sqlalchemy import select

from core.bootstrap import App
from core.boundary import AnswerDone, CommandReply, ConversationKey, Failure
from core.storage.schema import UsageRow
from fakes.openai_server import CHARS_PER_TOKEN_RULE, FakeOpenAI
from tests.core.helpers import ALICE, collect, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
DEFAULT_KEY = "sk-test-key-123456"  # conftest's OPENAI_API_KEY
LOCAL_KEY = "sk-local-SECRET-424242"
OTHER_CHAT = ConversationKey("telegram", "2002")


@pytest.fixture
async def local(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenAI]:
    """The second provider: another model family, another key, another tokenizer."""
    monkeypatch.setenv("LOCAL_LLM_KEY", LOCAL_KEY)
    async with FakeOpenAI(
        api_key=LOCAL_KEY,
        models=("llama-3.1-8b", "qwen2.5-7b", "mistral-7b"),
        tokenizer=CHARS_PER_TOKEN_RULE,
    ) as server:
        yield server


def providers(local: FakeOpenAI, **extra: Any) -> str:
    entry = {
        "base_url": local.base_url,
        "api_key_env": "LOCAL_LLM_KEY",
        "headers": {"X-Title": "gpt-chat-bot"},
        "models": ["llama*", "qwen*"],
        **extra,
    }
    return json.dumps({"local": entry})


async def reply(app: App, text: str, key: ConversationKey = OTHER_CHAT) -> CommandReply:
    (event,) = await collect(app.service, private(text, key=key))
    assert isinstance(event, CommandReply)
    return event


async def test_a_chat_moves_between_providers_and_each_gets_its_key(
    make_app: MakeApp, llm: FakeOpenAI, local: FakeOpenAI
) -> None:
    llm.api_key = DEFAULT_KEY
    async with make_app(providers=providers(local)) as app:
        key = OTHER_CHAT
        assert (await say(app.service, private("my name is Ann", key=key))).startswith("You said")
        assert len(llm.chat_requests) == 1 and local.chat_requests == []

        switched = await reply(app, "/model llama-3.1-8b")
        assert switched.text.startswith("Model is now llama-3.1-8b.")
        answer = await say(app.service, private("what is my name?", key=key))
        assert answer == "Your name is Ann."  # the history moved with the chat
        (sent,) = local.chat_requests
        assert sent.api_key == LOCAL_KEY and sent.headers["x-title"] == "gpt-chat-bot"
        assert sent.body["model"] == "llama-3.1-8b"
        assert len(llm.chat_requests) == 1  # nothing more went to the default provider

        assert not (await reply(app, "/model gpt-4o")).is_error
        await say(app.service, private("back again", key=key))
        assert [r.api_key for r in llm.chat_requests] == [DEFAULT_KEY, DEFAULT_KEY]
        assert llm.last_body["model"] == "gpt-4o" and len(local.chat_requests) == 1
        # No provider ever saw another's key.
        assert all(r.api_key != LOCAL_KEY for r in llm.requests)
        assert all(r.api_key == LOCAL_KEY for r in local.requests)
        async with session_on(app) as session:
            models = (await session.scalars(select(UsageRow.model).order_by(UsageRow.id))).all()
        assert models == ["gpt-4o-mini", "llama-3.1-8b", "gpt-4o"]


async def test_one_provider_down_fails_only_its_chats(
    make_app: MakeApp, llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeOpenAI(models=("llama-3.1-8b",)) as gone:
        settings = providers(gone)
    # `gone` is closed now: nothing listens at its address.
    async with make_app(providers=settings) as app:
        # It cannot list its models now, so only an owner may pick one of them.
        assert (await reply(app, "/model llama-3.1-8b")).is_error
    async with make_app(providers=settings, admin_users=frozenset({ALICE.user_id})) as app:
        assert not (await reply(app, "/model llama-3.1-8b")).is_error
        caplog.set_level(logging.WARNING)
        down = await collect(app.service, private("hello", key=OTHER_CHAT))
        up = await collect(app.service, private("hello"))
    assert isinstance(up[-1], AnswerDone) and up[-1].text.startswith("You said: hello.")
    assert llm.last_body["model"] == "gpt-4o-mini"
    assert down == [Failure("I can't reach the AI service right now. Please try again later.")]
    assert "provider local failed for telegram:2002" in caplog.text.replace("'", "")
    assert LOCAL_KEY not in caplog.text


async def test_an_unlisted_name_is_refused_even_if_it_matches_a_pattern(
    make_app: MakeApp, local: FakeOpenAI
) -> None:
    async with make_app(providers=providers(local)) as app:
        refused = await reply(app, "/model llama-9000")
        assert refused.is_error and refused.text.startswith("Unknown model 'llama-9000'.")
        # Listed by `local` but routed to no provider of its: not offered under its name.
        assert (await reply(app, "/model mistral-7b")).is_error
        assert not (await reply(app, "/model qwen2.5-7b")).is_error


async def test_models_are_listed_by_provider(
    make_app: MakeApp, llm: FakeOpenAI, local: FakeOpenAI
) -> None:
    llm.models = ("gpt-4o-mini", "gpt-4o", "llama-3.1-8b")  # a name routed to `local`
    async with make_app(providers=providers(local)) as app:
        lines = (await reply(app, "/models")).text.splitlines()
        assert lines == [
            "Models (context · max reply · $ per 1M input/cached/output):",
            "[openai]",
            "• gpt-4o: 128,000 · 16,384 · $2.5/1.25/10",
            "▶ gpt-4o-mini: 128,000 · 16,384 · $0.15/0.075/0.6",
            "[local]",
            "• llama-3.1-8b: 8,192 · 2,048 · —",
            "• qwen2.5-7b: 8,192 · 2,048 · —",
        ]
    async with FakeOpenAI() as gone:
        down = providers(gone)
    async with make_app(providers=down) as app:
        lines = (await reply(app, "/models")).text.splitlines()
        assert lines[-1] == "[local] its list of models can't be read right now."
        assert lines[1] == "[openai]" and lines[3].startswith("▶ gpt-4o-mini: 128,000")

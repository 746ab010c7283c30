"""Windows stay safe without a local tokenizer (issue 12 item 5): a model the bot cannot count
exactly is served by a fake that counts prompts its own way (about 3.2 characters a token);
the bot learns the ratio from the reported usage, stores it, and plans windows with it."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from config.settings import Settings
from core.bootstrap import App, bootstrap
from core.boundary import AnswerDone, CommandReply, Failure, Notice
from core.model.catalog import ModelSpec
from core.model.token_ratios import UNLEARNED_RATIO, TokenRatios
from core.tokens import count_prompt
from fakes.openai_server import CHARS_PER_TOKEN_RULE, FakeOpenAI, prompt_token_ids
from tests.core.helpers import collect, private, say
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
LLAMA = "llama-3.1-8b"


def local_provider(server: FakeOpenAI) -> str:
    return json.dumps({"local": {"base_url": server.base_url, "models": ["llama*"]}})


@pytest.fixture
async def local() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(models=(LLAMA,), tokenizer=CHARS_PER_TOKEN_RULE) as server:
        yield server


def fake_count(body: dict[str, Any]) -> int:
    """The prompt's tokens as the fake (the model) counts them."""
    return len(prompt_token_ids(body["messages"], body["model"], CHARS_PER_TOKEN_RULE))


def test_the_ratio_rises_at_once_and_falls_slowly() -> None:
    spec = ModelSpec(LLAMA, 8192, 2048, estimated_tokens=True)
    ratios = TokenRatios()
    assert ratios.ratio(spec) == UNLEARNED_RATIO
    assert ratios.observe(spec, 1000, 1400) == pytest.approx(1.4)  # the first one is taken
    assert ratios.observe(spec, 1000, 1000) == pytest.approx(1.36)  # a tenth of the way down
    assert ratios.observe(spec, 1000, 1500) == pytest.approx(1.5)  # up at once
    assert ratios.observe(spec, 1000, 1500) is None  # unchanged: nothing to store
    assert ratios.observe(spec, 10, 100) is None  # a prompt of framing only says little
    assert ratios.observe(spec, 1000, 50_000) is None  # not about the same prompt
    assert ratios.planning_factor(spec) == pytest.approx(1.5 * 1.1)
    exact = ModelSpec("gpt-4o", 128000, 16384)
    assert ratios.observe(exact, 1000, 1400) is None and ratios.planning_factor(exact) == 1.0


async def test_the_ratio_is_learned_stored_and_used(make_app: MakeApp, local: FakeOpenAI) -> None:
    local.context_window = 8192
    async with make_app(providers=local_provider(local), default_model=LLAMA) as app:
        unlearned = (await say(app.service, private("/tokens hello there world"))).splitlines()
        assert unlearned == [
            f"About 4 tokens, 17 characters (4.25 characters per token) for {LLAMA}: an "
            "estimate, since I don't have its tokenizer (3 in o200k_base × 1.25, a cautious "
            "guess until its first answer)."
        ]
        await say(app.service, private("The quick brown fox jumps over the lazy dog. " * 8))
        body = local.last_body
        ratio = fake_count(body) / count_prompt(body["messages"], "o200k_base")
        assert 1.1 < ratio < 1.6  # the fake counts more than o200k_base does
        async with session_on(app) as session:
            stored = await session.execute(text("SELECT model, ratio FROM model_token_ratios"))
            assert [tuple(row) for row in stored] == [(LLAMA, pytest.approx(ratio))]

        # A message as long as the history budget: planned with the ratio, it still fits.
        huge = " ".join(f"word{i} is here" for i in range(3000))
        events = await collect(app.service, private(huge))
        assert isinstance(events[0], Notice) and "I read only its first" in events[0].text
        assert any(isinstance(event, AnswerDone) for event in events)
        assert fake_count(local.last_body) + local.last_body["max_tokens"] <= 8192
        async with session_on(app) as session:
            ratio = (await session.execute(text("SELECT ratio FROM model_token_ratios"))).scalar()

    async with make_app(providers=local_provider(local), default_model=LLAMA) as app:
        # After a restart the ratio comes from the database.
        (reply,) = await collect(app.service, private("/tokens hello there world"))
        assert isinstance(reply, CommandReply)
        assert f"× {ratio:.2f}, learned from its answers)." in reply.text
        # A catalog model counts exactly: no estimate.
        (switched,) = await collect(app.service, private("/model gpt-4o"))
        assert isinstance(switched, CommandReply) and not switched.is_error
        (count,) = await collect(app.service, private("/tokens hello there world"))
        assert isinstance(count, CommandReply) and count.text.startswith("3 tokens, 17 characters")


WORDS = (
    "the a of and to in is it you that he was for on are with as I his they be at one have "
    "this from or had by word but what some we can out other were all there when up use your "
    "how said an each she which do their time if will way about many then them write would "
    "internationalization responsibilities extraordinary 2024 3.14159 42 1,000,000 (x) -> {} "
    "안녕하세요 감사합니다 東京 café naïve 🙂 def return self.value == None; // TODO: fix"
)
VOCABULARY = WORDS.split()
messages = st.lists(st.sampled_from(VOCABULARY), min_size=20, max_size=260).map(" ".join)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages, min_size=10, max_size=24))
def test_a_long_chat_never_sends_more_than_the_models_context(chat: list[str]) -> None:
    """A llama.cpp-like server with a 2,048-token context that counts its own way: every
    request the bot sends fits it (prompt as the server counts it + the reply it asks for)."""
    asyncio.run(_long_chat(chat))


async def _long_chat(chat: list[str]) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        async with (
            FakeOpenAI(models=(LLAMA,), tokenizer=CHARS_PER_TOKEN_RULE) as server,
            FakeOpenAI() as openai_server,
        ):
            server.context_window = 2048
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                openai_api_key="sk-test",
                openai_base_url=openai_server.base_url,
                openai_max_retries=0,
                database_url=f"sqlite+aiosqlite:///{Path(workdir) / 'bot.db'}",
                tiktoken_cache_dir=Path(workdir) / "tiktoken",
                providers=local_provider(server),
                default_model=LLAMA,
                model_context_window=2048,
            )
            async with bootstrap(settings) as app:
                for line in chat:
                    events = await collect(app.service, private(line))
                    assert not any(isinstance(e, Failure) for e in events), events
            assert openai_server.chat_requests == []
            assert len(server.chat_requests) == len(chat)
            for request in server.chat_requests:
                assert fake_count(request.body) + request.body["max_tokens"] <= 2048

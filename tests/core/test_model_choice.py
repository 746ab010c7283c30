"""Model choice under cost control (issue 11 item 3): who may pick which model, unpriced models
while a dollar budget is on, and names validated before anything is stored or logged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest
from sqlalchemy import select, text

from config.settings import ConfigError, load_settings
from core.bootstrap import App
from core.boundary import AnswerDone, Author, CommandReply, ConversationKey, Failure
from core.storage.schema import ConversationRow, CustomPersonaRow, UsageRow
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ADMIN, ALICE, collect, group, private
from tests.database import session_on

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
OWNER = Author("99", "Olga", "en")
OWNERS = frozenset({"99"})
LONG_NAME = "gpt-4o-" + "x" * 193  # 200 characters extending a catalog name


async def reply(app: App, text: str, author: Author = ALICE) -> CommandReply:
    (event,) = await collect(app.service, private(text, author=author))
    assert isinstance(event, CommandReply)
    return event


async def stored_models(app: App) -> list[str | None]:
    async with session_on(app) as session:
        chats = (await session.scalars(select(ConversationRow.model))).all()
        personas = (await session.scalars(select(CustomPersonaRow.model))).all()
        usage = (await session.scalars(select(UsageRow.model))).all()
    return [*chats, *personas, *usage]


async def test_a_catalog_name_plus_anything_is_not_that_model(make_app: MakeApp) -> None:
    # The fake plays OpenAI: it lists none of these names (with no OPENAI_BASE_URL the bot
    # would ask api.openai.com's list the same way).
    async with make_app(admin_users=OWNERS) as app:
        for name in ("gpt-5-pro", "o3-pro", "gpt-4o-mini-high"):
            refused = await reply(app, f"/model {name}")
            assert refused.is_error and refused.text.startswith(f"Unknown model '{name}'.")
        assert await stored_models(app) == [None]
        # Dated snapshots are their family's.
        picked = await reply(app, "/model gpt-4o-2024-08-06")
        assert picked.text == "Model is now gpt-4o-2024-08-06."
        # Owners may pick any valid name, told it is not in the catalog.
        owned = await reply(app, "/model gpt-5-pro", author=OWNER)
        assert owned.text.startswith("Model is now gpt-5-pro.\nThis model is not in the catalog")


async def test_behind_a_custom_server_non_owners_pick_what_it_lists(
    app: App, llm: FakeOpenAI
) -> None:
    llm.models = ("llama3.1:8b", "qwen2.5:7b")
    assert (await reply(app, "/model qwen2.5:7b")).text.startswith("Model is now qwen2.5:7b.")
    refused = await reply(app, "/model made-up-model")
    assert refused.is_error
    assert refused.text.startswith("Unknown model 'made-up-model'. Known models: babbage-002,")
    assert refused.text.endswith("o4-mini, llama3.1:8b, qwen2.5:7b")
    assert await stored_models(app) == ["qwen2.5:7b"]
    listing = (await reply(app, "/models")).text.splitlines()
    assert listing[1:] == ["• llama3.1:8b: 8,192 · 2,048 · —", "▶ qwen2.5:7b: 8,192 · 2,048 · —"]


async def test_an_unpriced_model_is_refused_while_a_dollar_budget_is_on(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    llm.models = ("gpt-4o-mini", "llama3.1:8b")
    async with make_app(budget_user_daily_usd=1, admin_users=OWNERS) as app:
        refused = await reply(app, "/model llama3.1:8b")
        assert refused.is_error
        assert refused.text == (
            "'llama3.1:8b' has no price, and this bot has spending limits in dollars. "
            "Models you can pick: babbage-002, davinci-002, gpt-3.5-turbo, gpt-3.5-turbo-1106, "
            "gpt-3.5-turbo-16k, gpt-3.5-turbo-instruct, gpt-4, gpt-4-32k, gpt-4-turbo, gpt-4.1, "
            "gpt-4.1-mini, gpt-4.1-nano, gpt-4o, gpt-4o-audio-preview, gpt-4o-mini, "
            "gpt-4o-mini-audio-preview, gpt-5, gpt-5-mini, gpt-5-nano, gpt-5.1, o1, o3, o3-mini, "
            "o4-mini"
        )
        assert "llama" not in (await reply(app, "/models")).text
        assert await stored_models(app) == [None]
        owned = await reply(app, "/model llama3.1:8b", author=OWNER)
        assert owned.text.endswith("(UNPRICED_MODEL_USD_PER_1M gives it one).")
    # Token budgets count any model: no reason to refuse one.
    async with make_app(budget_user_daily_tokens=1000) as app:
        assert not (await reply(app, "/model llama3.1:8b")).is_error


async def test_an_owner_set_fallback_price_makes_unpriced_models_count(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    llm.models = ("llama3.1:8b",)
    async with make_app(budget_user_daily_usd=1, unpriced_model_usd_per_1m=2.0) as app:
        picked = await reply(app, "/model llama3.1:8b")
        assert picked.text.endswith("I assume a 8192-token context and $2 per 1M tokens.")
        await collect(app.service, private("hello"))
        async with session_on(app) as session:
            (usage,) = (await session.scalars(select(UsageRow))).all()
        tokens = usage.prompt_tokens + usage.completion_tokens
        assert usage.model == "llama3.1:8b" and usage.cost_usd == pytest.approx(tokens * 2 / 1e6)


async def test_allowed_models_is_the_owners_list(make_app: MakeApp, llm: FakeOpenAI) -> None:
    allowed = frozenset({"gpt-4o-mini", "llama3.1:8b"})
    async with make_app(allowed_models=allowed, admin_users=OWNERS) as app:
        refused = await reply(app, "/model gpt-4o")
        assert refused.is_error and refused.text == (
            "'gpt-4o' isn't one of the models you can pick here: gpt-4o-mini, llama3.1:8b"
        )
        assert not (await reply(app, "/model llama3.1:8b")).is_error
        assert not (await reply(app, "/model gpt-4o", author=OWNER)).is_error
        # An admin of a group is not an owner of the bot.
        (event,) = await collect(app.service, group("/model gpt-5", author=ADMIN))
        assert isinstance(event, CommandReply) and event.is_error
    async with make_app(allowed_models=frozenset({"*"})) as app:
        assert not (await reply(app, "/model anything-at-all")).is_error
    with pytest.raises(ConfigError, match="ALLOWED_MODELS: 'bad name' is not a model name"):
        load_settings(allowed_models="gpt-4o, bad name", _env_file=None)


@pytest.mark.parametrize("base_url", ["custom", "openai"])
async def test_an_over_long_name_never_reaches_the_database(
    make_app: MakeApp, llm: FakeOpenAI, base_url: str
) -> None:
    overrides = {"openai_base_url": None} if base_url == "openai" else {}
    async with make_app(admin_users=OWNERS, allowed_models=frozenset({"*"}), **overrides) as app:
        for author in (ALICE, OWNER):
            refused = await reply(app, f"/model {LONG_NAME}", author=author)
            assert refused.is_error and "Unknown model 'gpt-4o-xxxxx" in refused.text
            assert len(refused.text) < 1000
        await reply(app, "/newpersona keeper You keep things.")
        await collect(app.service, private("hello"))
        assert LONG_NAME not in await stored_models(app)
        assert (await reply(app, "/settings")).text.count(LONG_NAME) == 0


async def test_a_failing_statement_logs_no_user_text(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "my bank PIN is 4921"
    async with session_on(app, begin=True) as session:
        await session.execute(text("ALTER TABLE messages RENAME TO messages_gone"))
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statements echoed too
    (event,) = await collect(app.service, private(secret))
    assert event == Failure("I couldn't reach my memory (database). Please try again in a moment.")
    (failed,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    logged = logging.Formatter().format(failed)
    assert "storage failed" in logged and "messages" in logged  # the statement is there...
    assert secret not in logged and "4921" not in logged  # ...its parameters are not
    assert secret not in caplog.text


async def test_a_turn_on_an_unpriced_model_is_refused_while_a_usd_budget_is_on(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    """A model chosen before the budget (or an unpriced DEFAULT_MODEL) must not escape it at
    turn time: refused, nothing stored, nothing asked of the model; owners are not limited."""
    unpriced = {"default_model": "llama3.1:8b", "budget_user_daily_usd": 1.0}
    async with make_app(**unpriced, admin_users=OWNERS) as app:
        (refused,) = await collect(app.service, private("hello"))
        assert isinstance(refused, Failure)
        assert refused.text.startswith("This chat's model 'llama3.1:8b' has no price")
        assert llm.chat_requests == []
        async with session_on(app) as session:
            assert (await session.execute(text("select count(*) from messages"))).scalar() == 0
        owner = private("hello", author=OWNER, key=ConversationKey("telegram", "99"))
        assert isinstance((await collect(app.service, owner))[-1], AnswerDone)
    async with make_app(**unpriced, unpriced_model_usd_per_1m=2.0) as app:
        events = await collect(app.service, private("hello"))
        assert isinstance(events[-1], AnswerDone)  # priced by the owner's fallback


async def test_a_new_name_is_accepted_only_when_its_provider_lists_it(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    """Issue 12 item 6: a name the catalog does not have (a new gpt-5.2) may be picked once the
    provider it goes to lists it; not before, and not unpriced under a dollar budget."""
    async with make_app() as app:
        refused = await reply(app, "/model gpt-5.2")
        assert refused.is_error and refused.text.startswith("Unknown model 'gpt-5.2'.")
        llm.models = (*llm.models, "gpt-5.2")
    async with make_app() as app:  # a new start: the cached list is read again
        picked = await reply(app, "/model gpt-5.2")
        assert picked.text.startswith("Model is now gpt-5.2.\nThis model is not in the catalog")
    async with make_app(budget_user_daily_usd=1) as app:
        assert (await reply(app, "/model gpt-5.2")).text.startswith("'gpt-5.2' has no price")

"""Allow-lists, deny-lists and owners, checked in the core on every message."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from core.bootstrap import App
from core.boundary import Author, ConversationKey, Failure
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import ALICE, BOB, collect, group, private, say

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
PRIVATE_BOT = "Sorry, this bot is private. Ask its owner to add you to the allowed users."
CAROL = Author("77", "Carol", "en")


async def test_allow_lists_let_in_listed_users_and_chats_only(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(
        allowed_users=frozenset({"11"}),
        allowed_chats=frozenset({"telegram:-2002"}),
        admin_users=frozenset({"discord:77"}),
    ) as app:
        assert (await say(app.service, private("hi"))).startswith("You said: hi")
        assert await collect(app.service, private("hi", author=BOB)) == [Failure(PRIVATE_BOT)]
        assert await collect(app.service, private("/usage", author=BOB)) == [Failure(PRIVATE_BOT)]
        # Bob may talk in the allowed group, but not in another one, where the bot stays silent.
        assert (await say(app.service, group("hi", author=BOB))).startswith("You said: Bob: hi")
        other = ConversationKey("telegram", "-3003")
        assert await collect(app.service, group("hi", author=BOB, key=other)) == []
        # "platform:id" entries match only on that platform; owners are always let in.
        on_discord = ConversationKey("discord", "-2002")
        assert await collect(app.service, group("hi", author=BOB, key=on_discord)) == []
        carol_dm = ConversationKey("discord", "77")
        assert (await say(app.service, private("hi", author=CAROL, key=carol_dm))).startswith(
            "You said: hi"
        )
        assert await collect(app.service, private("hi", author=CAROL)) == [Failure(PRIVATE_BOT)]
        assert len(llm.chat_requests) == 3


async def test_deny_lists_win_over_allow_lists_but_not_over_owners(make_app: MakeApp) -> None:
    async with make_app(
        allowed_users=frozenset({"11", "22"}),
        denied_users=frozenset({"22"}),
        denied_chats=frozenset({"-2002"}),
        admin_users=frozenset({"77"}),
    ) as app:
        assert await collect(app.service, private("hi", author=BOB)) == [Failure(PRIVATE_BOT)]
        assert await collect(app.service, group("hi", author=ALICE)) == []  # a denied chat
        assert (await say(app.service, group("hi", author=CAROL))).startswith("You said:")
        assert (await say(app.service, private("hi"))).startswith("You said: hi")
    async with make_app(denied_users=frozenset({"22"})) as app:  # no allow-list: open to others
        assert await collect(app.service, private("hi", author=BOB)) == [Failure(PRIVATE_BOT)]
        assert (await say(app.service, private("hi"))).startswith("You said: hi")

"""/tools per chat and the confirmation a tool may need, through the real service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from config.settings import Settings
from core.bootstrap import bootstrap
from core.boundary import CommandReply, IncomingMessage, ReplyEvent
from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall
from tests.core.helpers import ADMIN, ALICE, BOB, collect, group, private, say
from tests.tools.scripted import ScriptedSource, ScriptedTool, answering, without_default_tools


def offered(llm: FakeOpenAI) -> list[str]:
    body = llm.chat_requests[-1].body
    return without_default_tools([tool["function"]["name"] for tool in body.get("tools", ())])


async def test_tools_on_and_off_in_a_group_and_in_private(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    web = ScriptedTool("web", answering("page"), acts_outside=True, source="web")
    clock = ScriptedTool("clock", answering("now"))
    settings = make_settings(image_generation_enabled=False)
    async with bootstrap(settings, tool_sources=[ScriptedSource([web, clock])]) as app:
        service = app.service
        listing = await say(service, group("/tools"))
        assert without_default_tools(listing.splitlines()) == [
            "Tools in this chat (/tools on|off NAME):",
            "builtin:",  # the clock and reminders first, then the sources given
            "✅ clock: The clock tool.",
            "web:",
            "⛔ web: The web tool. (off in groups until an admin turns it on)",
        ]
        await collect(service, group("hello"))
        assert offered(llm) == ["clock"]  # acting outside: off in a group by default
        assert await say(service, group("/tools on web", author=BOB)) == (
            "Only this chat's admins can change that (an admin can allow everyone with "
            "/access everyone)."
        )
        assert await say(service, group("/tools on web", author=ADMIN)) == (
            "web is now on in this chat."
        )
        await collect(service, group("hello again"))
        assert offered(llm) == ["web", "clock"]
        assert await say(service, group("/tools off clock", author=ADMIN)) == (
            "clock is now off in this chat."
        )
        await collect(service, group("and again"))
        assert offered(llm) == ["web"]
        assert "⛔ clock: The clock tool." in await say(service, group("/tools"))
        assert await say(service, group("/tools on nope", author=ADMIN)) == (
            "There is no tool named nope here. /tools lists them."
        )
        assert await say(service, group("/tools maybe")) == "Usage: /tools, or /tools on|off NAME"

        # In private everything is on by default, and the group's switches are its own.
        await collect(service, private("hi"))
        assert offered(llm) == ["web", "clock"]
        assert await say(service, private("/tools off web")) == "web is now off in this chat."
        await collect(service, private("hi again"))
        assert offered(llm) == ["clock"]


def calls_danger(body: dict[str, Any]) -> FakeReply:
    if body["messages"][-1]["role"] == "tool":
        return FakeReply("Result: " + body["messages"][-1]["content"])
    return FakeReply("", tool_calls=(FakeToolCall("danger", '{"q": "rm"}'),))


async def run_until_asked(
    service: Any, message: IncomingMessage
) -> tuple[asyncio.Task[list[ReplyEvent]], CommandReply]:
    """Start the turn and return it with the confirmation question it shows."""
    asked: asyncio.Future[CommandReply] = asyncio.get_running_loop().create_future()

    async def turn() -> list[ReplyEvent]:
        events = []
        async for event in service.handle(message):
            events.append(event)
            if isinstance(event, CommandReply) and event.choices and not asked.done():
                asked.set_result(event)
        return events

    task = asyncio.create_task(turn())
    return task, await asyncio.wait_for(asked, 30)


def answers(events: list[ReplyEvent]) -> list[str]:
    from core.boundary import AnswerDone

    return [e.text for e in events if isinstance(e, AnswerDone)]


async def test_confirmation_yes_no_other_user_and_timeout(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    danger = ScriptedTool("danger", answering("done {q}"), needs_confirmation=True)
    llm.responder = calls_danger
    settings = make_settings(tools_confirm_timeout_s=30)
    async with bootstrap(settings, tool_sources=[ScriptedSource([danger])]) as app:
        service = app.service
        task, question = await run_until_asked(service, private("do it"))
        assert question.text == 'Run `danger` with {"q": "rm"}?'
        yes, no = question.choices
        assert (yes.label, no.label) == ("Yes", "No")
        # Someone else's press changes nothing; the asker's Yes runs it, once.
        assert await say(service, private(yes.command, author=BOB)) == (
            "Only the person who asked can answer this."
        )
        assert await say(service, private(yes.command)) == "OK, running it."
        assert answers(await asyncio.wait_for(task, 30)) == ["Result: done rm"]
        assert danger.calls == [{"q": "rm"}]
        assert await say(service, private(yes.command)) == (
            "That question has expired or was answered already."
        )

        task, question = await run_until_asked(service, private("do it again"))
        assert await say(service, private(question.choices[1].command)) == "OK, not running it."
        result = "Result: Error: The user declined to run this tool."
        assert answers(await asyncio.wait_for(task, 30)) == [result]
        assert len(danger.calls) == 1

    async with bootstrap(
        make_settings(tools_confirm_timeout_s=0.2), tool_sources=[ScriptedSource([danger])]
    ) as app:
        task, _ = await run_until_asked(app.service, private("and once more", author=ALICE))
        assert answers(await asyncio.wait_for(task, 30)) == [result]
        assert len(danger.calls) == 1


async def test_a_source_offers_its_tools_only_where_it_is_allowed(
    make_settings: Callable[..., Settings], llm: FakeOpenAI
) -> None:
    class PrivateOnly(ScriptedSource):
        def allowed_in(self, context: Any) -> bool:
            return bool(context.is_private and context.is_owner)

    mine = ScriptedTool("mine", answering("ok"), source="my-server")
    settings = make_settings(image_generation_enabled=False, admin_users="11")
    async with bootstrap(settings, tool_sources=[PrivateOnly([mine])]) as app:
        await collect(app.service, private("hi"))  # Alice (11) is an owner, in private
        assert offered(llm) == ["mine"]
        await collect(app.service, group("hi"))
        assert offered(llm) == []
        listing = await say(app.service, group("/tools"))
        assert "mine" not in listing and "my-server" not in listing
        await collect(app.service, private("hi", author=BOB))
        assert offered(llm) == []

"""/set timezone and /reminders through the chat service, as every adapter calls it."""

from __future__ import annotations

from collections.abc import Callable

from config.settings import Settings
from core.bootstrap import App
from core.boundary import Choice, CommandReply
from tests.core.helpers import ADMIN, ALICE, BOB, GROUP, collect, group, private
from tests.core.reminder_helpers import START, FakeClock, clocked_app, context


async def command(app: App, text: str, author=ALICE, in_group: bool = False) -> CommandReply:  # type: ignore[no-untyped-def]
    message = group(text, author) if in_group else private(text, author)
    (event,) = await collect(app.service, message)
    assert isinstance(event, CommandReply)
    return event


async def test_set_timezone_is_checked_and_shown(make_settings: Callable[..., Settings]) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        assert "timezone: UTC" in (await command(app, "/settings")).text

        done = await command(app, "/set timezone europe/berlin")
        assert (done.text, done.is_error) == ("timezone = Europe/Berlin", False)
        assert "timezone: Europe/Berlin" in (await command(app, "/settings")).text

        for bad in ("Mars/Olympus_Mons", "../../etc/passwd", "Europe/"):
            before = (await command(app, "/settings")).text
            refused = await command(app, f"/set timezone {bad}")
            assert refused.is_error
            assert refused.text == (
                "timezone must be an IANA time zone name, e.g. Europe/Berlin, America/New_York "
                "or Asia/Seoul (or UTC)."
            )
            assert (await command(app, "/settings")).text == before

        assert (await command(app, "/set timezone default")).text == "timezone = default"
        assert "timezone: UTC" in (await command(app, "/settings")).text


async def test_reminders_lists_in_the_chats_timezone_with_a_cancel_button(
    make_settings: Callable[..., Settings],
) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        await command(app, "/set timezone Asia/Seoul", ADMIN, in_group=True)
        set_reminder = app.reminder_tools.tools()[1]
        asked = context(GROUP, START, "Asia/Seoul", user_id=ALICE.user_id, is_private=False)
        await collect(app.service, group("@bot hi", ALICE))  # the name reminders show
        await set_reminder.run({"text": "call mum", "in_minutes": 120}, asked)
        await set_reminder.run(
            {"text": "buy a very long list of groceries", "in_minutes": 60}, asked
        )

        listing = await command(app, "/reminders", BOB, in_group=True)
        assert listing.text == (
            "Reminders in this chat (Asia/Seoul):\n"
            "#2 Tue 2026-12-08 08:00 KST — buy a very long list of groceries (for Alice)\n"
            "#1 Tue 2026-12-08 09:00 KST — call mum (for Alice)\n"
            "Cancel one with its button or /reminders cancel ID."
        )
        assert listing.choices == (
            Choice("✖ #2 buy a very long list of…", "/reminders cancel 2"),
            Choice("✖ #1 call mum", "/reminders cancel 1"),
        )


async def test_only_the_author_or_an_admin_cancels_a_reminder(
    make_settings: Callable[..., Settings],
) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        set_reminder = app.reminder_tools.tools()[1]
        asked = context(GROUP, START, user_id=ALICE.user_id, is_private=False)
        for text in ("one", "two"):
            await set_reminder.run({"text": text, "in_minutes": 30}, asked)

        refused = await command(app, "/reminders cancel 1", BOB, in_group=True)
        assert (refused.text, refused.is_error) == (
            "Only the person who set reminder #1 or an admin can cancel it.",
            True,
        )
        assert [r.id for r in await app.storage.reminders.pending(GROUP)] == [1, 2]

        mine = await command(app, "/reminders cancel 1", ALICE, in_group=True)
        assert mine.text == "Cancelled reminder #1: one"
        admins = await command(app, "/reminders cancel #2", ADMIN, in_group=True)
        assert admins.text == "Cancelled reminder #2: two"
        assert await app.storage.reminders.pending(GROUP) == []

        again = await command(app, "/reminders cancel 2", ADMIN, in_group=True)
        assert (again.text, again.is_error) == (
            "There is no pending reminder #2 in this chat: see /reminders.",
            True,
        )
        usage = await command(app, "/reminders delete 2", ADMIN, in_group=True)
        assert (usage.text, usage.is_error) == ("Usage: /reminders, or /reminders cancel ID", True)
        assert (await command(app, "/reminders")).text.startswith("No reminders are set")


async def test_forget_deletes_the_users_reminders(make_settings: Callable[..., Settings]) -> None:
    async with clocked_app(make_settings(), FakeClock(START)) as app:
        set_reminder = app.reminder_tools.tools()[1]
        for author in (ALICE, BOB):
            asked = context(GROUP, START, user_id=author.user_id, is_private=False)
            await set_reminder.run({"text": f"for {author.display_name}", "in_minutes": 30}, asked)

        await collect(app.service, group("/forget", ALICE))

        assert [r.text for r in await app.storage.reminders.pending(GROUP)] == ["for Bob"]
        assert await app.storage.reminders.get(GROUP, 1) is None

"""Signing in to the console in a real browser: the token lets the owner in, a wrong one does
not, and repeated failures lock the address out even with the right token."""

from __future__ import annotations

from typing import Any

from tests.web_console.conftest import RunningConsole, screenshot, sign_in

SEED = False


async def test_the_token_signs_in_and_the_cookie_is_httponly_and_strict(
    page: Any, console: RunningConsole
) -> None:
    await page.goto(f"{console.url}/conversations/1")
    assert page.url == f"{console.url}/signin"  # signed out: sent to sign in, nothing shown
    await screenshot(page, "signin")
    await sign_in(page, console)
    await page.wait_for_url(f"{console.url}/")
    assert (await page.inner_text("h1")).startswith("Overview")
    cookies = {c["name"]: c for c in await page.context.cookies()}
    session = cookies["console_session"]
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert session["secure"] is False  # plain HTTP on loopback, no trusted proxy
    assert await page.evaluate("document.cookie") == ""  # no script can read it


async def test_a_wrong_token_is_refused(page: Any, console: RunningConsole) -> None:
    await sign_in(page, console, token="not-the-token-at-all")
    assert (
        await page.inner_text("[role=alert]")
        == "That is neither the console's token nor its password."
    )
    assert page.url == f"{console.url}/signin"
    names = {c["name"] for c in await page.context.cookies()}
    assert "console_session" not in names
    await page.goto(f"{console.url}/")
    assert page.url == f"{console.url}/signin"


async def test_repeated_failures_lock_out_even_the_right_token(
    page: Any, console: RunningConsole
) -> None:
    for _ in range(3):  # the fixture's policy: 3 failures lock out for 15 minutes
        await sign_in(page, console, token="wrong-token-guess-1234")
    assert "Too many failed sign-ins: try again in 15 minutes." in await page.inner_text(
        "[role=alert]"
    )
    await sign_in(page, console)  # the right token, while locked out
    assert "Too many failed sign-ins" in await page.inner_text("[role=alert]")
    assert page.url == f"{console.url}/signin"
    await screenshot(page, "signin-locked")
    console.clock.now += 901  # the lock-out ends
    await sign_in(page, console)
    await page.wait_for_url(f"{console.url}/")

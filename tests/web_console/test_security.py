"""The console's security rules over HTTP (no browser): nothing for a stranger, not even whether
a chat exists; CSRF on every change; cookie flags; CSP; the token never logged; hidden
transcripts."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bots.web_console.app import CONTENT_SECURITY_POLICY
from bots.web_console.deps import ConsoleConfig, build_deps
from bots.web_console.password import hash_password
from bots.web_console.serve import console_deps, console_enabled
from config.settings import ConfigError, load_settings
from core.bootstrap import App
from tests.core.helpers import private, say
from tests.web_console.conftest import TOKEN, Clock, RunningConsole, serve

Opener = Callable[..., AbstractAsyncContextManager[RunningConsole]]


@pytest.fixture
def open_console(make_app: Callable[..., AbstractAsyncContextManager[App]]) -> Opener:
    """A console over a bot with one chat (telegram:1001), with the config a test asks for."""

    @asynccontextmanager
    async def start(config: ConsoleConfig | None = None, **settings: Any) -> AsyncIterator[Any]:
        async with make_app(web_console_token=TOKEN, **settings) as app:
            await say(app.service, private("My name is Alice"))
            clock = Clock()
            deps = build_deps(app.console, TOKEN, config or ConsoleConfig(), clock=clock)
            async for url in serve(app, deps):
                yield RunningConsole(url, app, deps, clock)

    return start


async def signed_in_session(console: RunningConsole, **headers: str) -> aiohttp.ClientSession:
    """An HTTP client holding a session cookie (cookies of any scheme kept: loopback)."""
    client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with client.get(f"{console.url}/signin") as response:
        csrf = _csrf(await response.text())
    async with client.post(
        f"{console.url}/signin",
        data={"csrf": csrf, "token": TOKEN},
        allow_redirects=False,
        headers=headers,
    ) as response:
        assert response.status == 303, await response.text()
    return client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_signed_out_every_path_is_the_same_redirect(open_console: Opener) -> None:
    async with open_console() as console, aiohttp.ClientSession() as client:
        answers = set()
        for path in (
            "/",
            "/conversations/1",  # exists
            "/conversations/999999",  # does not
            "/conversations/1/reset",
            "/no-such-page",
            "/models",
        ):
            for method in ("GET", "POST"):
                async with client.request(
                    method, console.url + path, allow_redirects=False
                ) as response:
                    body = await response.read()
                    answers.add((response.status, response.headers.get("Location"), body))
                    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert answers == {(302, "/console/signin", answers.copy().pop()[2])}
        # Nothing was changed by the stranger's POSTs: the chat still remembers.
        assert "Your name is Alice." in await say(console.app.service, private("What is my name?"))


async def test_a_change_without_the_csrf_token_is_refused(open_console: Opener) -> None:
    async with open_console() as console:
        client = await signed_in_session(console)
        async with client:
            for data in ({}, {"csrf": "forged"}):
                async with client.post(
                    f"{console.url}/conversations/1/reset", data=data, allow_redirects=False
                ) as response:
                    assert response.status == 403
            async with client.post(
                f"{console.url}/signout", data={}, allow_redirects=False
            ) as response:
                assert response.status == 403  # not even signing out
            assert "Your name is Alice." in await say(
                console.app.service, private("What is my name?")
            )
            async with client.get(f"{console.url}/conversations/1") as response:
                csrf = _csrf(await response.text())
            async with client.post(
                f"{console.url}/conversations/1/reset", data={"csrf": csrf}
            ) as response:
                assert response.status == 200
            assert "I don't know your name." in await say(
                console.app.service, private("What is my name?")
            )


async def test_signing_in_needs_the_forms_own_csrf_token(open_console: Opener) -> None:
    async with (
        open_console() as console,
        aiohttp.ClientSession() as client,
        client.post(
            f"{console.url}/signin", data={"token": TOKEN}, allow_redirects=False
        ) as response,
    ):
        assert response.status == 403
        assert "console_session" not in response.cookies


async def test_cookie_flags_and_secure_only_behind_a_trusted_https_proxy(
    open_console: Opener,
) -> None:
    trusted = ConsoleConfig(trusted_proxies=frozenset({"127.0.0.1"}))
    for config, headers, secure in (
        (ConsoleConfig(), {}, False),
        (ConsoleConfig(), {"X-Forwarded-Proto": "https"}, False),  # from anyone: not believed
        (trusted, {"X-Forwarded-Proto": "https"}, True),
    ):
        async with open_console(config) as console:
            client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            async with client:
                async with client.get(f"{console.url}/signin") as response:
                    csrf = _csrf(await response.text())
                async with client.post(
                    f"{console.url}/signin",
                    data={"csrf": csrf, "token": TOKEN},
                    allow_redirects=False,
                    headers=headers,
                ) as response:
                    cookie = response.cookies["console_session"]
                    assert cookie["httponly"] is True
                    assert cookie["samesite"] == "Strict"
                    assert cookie["path"] == "/console"
                    assert bool(cookie["secure"]) is secure


async def test_every_answer_carries_the_csp(open_console: Opener) -> None:
    async with open_console() as console:
        client = await signed_in_session(console)
        async with client:
            for path in ("/", "/conversations/1", "/conversations/424242", "/static/console.css"):
                async with client.get(console.url + path) as response:
                    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
                    assert response.headers["X-Frame-Options"] == "DENY"
            async with client.get(f"{console.url}/conversations/424242") as response:
                assert response.status == 404  # signed in: a missing chat is a plain 404


async def test_the_token_is_never_logged(
    open_console: Opener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_console() as console:
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as client:
            async with client.get(f"{console.url}/signin") as response:
                csrf = _csrf(await response.text())
            async with client.post(
                f"{console.url}/signin", data={"csrf": csrf, "token": TOKEN + "x"}
            ) as response:
                assert response.status == 401
        client = await signed_in_session(console)
        await client.close()
    assert "failed sign-in" in caplog.text
    assert TOKEN not in caplog.text


async def test_hidden_transcripts_show_no_message(open_console: Opener) -> None:
    async with open_console(web_console_transcripts=False) as console:
        client = await signed_in_session(console)
        async with client, client.get(f"{console.url}/conversations/1") as response:
            html = await response.text()
    assert "Transcripts are hidden" in html
    assert "My name is Alice" not in html
    assert "You said" not in html


def test_a_short_token_stops_the_bot_at_start() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(web_console_token="tiny-secret", _env_file=None)
    assert raised.value.problems == [
        "WEB_CONSOLE_TOKEN: must be at least 16 characters (e.g. from `python -c 'import "
        "secrets; print(secrets.token_urlsafe(24))'`)"
    ]


def test_a_malformed_password_hash_stops_the_bot_at_start() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(web_console_password_hash="hunter2-in-plain", _env_file=None)
    assert raised.value.problems == [
        "WEB_CONSOLE_PASSWORD_HASH: is not a hash from `python -m bots console-password`"
    ]


async def test_a_password_kept_as_its_hash_signs_in(
    make_app: Callable[..., AbstractAsyncContextManager[App]],
) -> None:
    password = "correct horse battery staple"
    stored = hash_password(password)
    assert password not in stored
    async with make_app(web_console_password_hash=stored) as app:
        assert console_enabled(app.settings)
        deps = console_deps(app.settings, app.console)
        async for url in serve(app, deps):
            console = RunningConsole(url, app, deps, Clock())
            for given, status in (("correct horse battery stapler", 401), (password, 303)):
                jar = aiohttp.CookieJar(unsafe=True)
                async with aiohttp.ClientSession(cookie_jar=jar) as client:
                    async with client.get(f"{console.url}/signin") as response:
                        csrf = _csrf(await response.text())
                    async with client.post(
                        f"{console.url}/signin",
                        data={"csrf": csrf, "token": given},
                        allow_redirects=False,
                    ) as response:
                        assert response.status == status
            # The hash itself is no password.
            assert not deps.secret.matches(stored)

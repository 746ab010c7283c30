"""Sign-in and sign-out: the owner's secret, checked in constant time, with a lock-out after
repeated failures (security.SignInGuard)."""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets

from aiohttp import web

from bots.web_console.client import client_address, is_https
from bots.web_console.deps import deps
from bots.web_console.rendering import CONSOLE_PATH, render, url
from bots.web_console.security import CSRF_FIELD, PRESESSION_COOKIE, SESSION_COOKIE

log = logging.getLogger("bots.web_console")
routes = web.RouteTableDef()


@routes.get("/signin")
async def signin_form(request: web.Request) -> web.Response:
    nonce = request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(18)
    response = _form(request, nonce, status=200)
    return response


@routes.post("/signin")
async def signin(request: web.Request) -> web.Response:
    console = deps(request)
    address = client_address(request)
    form = await request.post()
    nonce = request.cookies.get(PRESESSION_COOKIE, "")
    expected = console.secret.sign("signin", nonce)
    if not nonce or not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
        return _form(request, nonce or secrets.token_urlsafe(18), status=403, error="expired")
    if console.guard.locked_for(address):
        return _locked(request, nonce, address)
    # Off the event loop: a password is checked by scrypt, tens of milliseconds of CPU.
    if not await asyncio.to_thread(console.secret.matches, str(form.get("token", ""))):
        console.guard.failed(address)
        log.warning("web console: a failed sign-in from %s", address)  # never what was typed
        if console.guard.locked_for(address):
            return _locked(request, nonce, address)
        return _form(request, nonce, status=401, error="wrong")
    console.guard.succeeded(address)
    log.info("web console: signed in from %s", address)
    response = web.HTTPSeeOther(url("/"))
    response.set_cookie(
        SESSION_COOKIE,
        console.sessions.issue(),
        max_age=int(console.sessions.lifetime_s),
        path=CONSOLE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )
    response.del_cookie(PRESESSION_COOKIE, path=CONSOLE_PATH)
    raise response


@routes.post("/signout")
async def signout(request: web.Request) -> web.Response:
    deps(request).sessions.revoke(request.cookies.get(SESSION_COOKIE))
    response = web.HTTPSeeOther(url("/signin"))
    response.del_cookie(SESSION_COOKIE, path=CONSOLE_PATH)
    raise response


def _locked(request: web.Request, nonce: str, address: str) -> web.Response:
    minutes = math.ceil(deps(request).guard.locked_for(address) / 60)
    return _form(request, nonce, status=429, error="locked", minutes=minutes)


def _form(
    request: web.Request, nonce: str, *, status: int, error: str = "", minutes: int = 0
) -> web.Response:
    console = deps(request)
    response = render(
        request,
        "signin.html",
        status=status,
        signin_csrf=console.secret.sign("signin", nonce),
        error=error,
        minutes=minutes,
    )
    response.set_cookie(
        PRESESSION_COOKIE,
        nonce,
        path=CONSOLE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )
    return response

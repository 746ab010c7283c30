"""The console's aiohttp application: security middlewares, static files, every page's routes.

Mounted under CONSOLE_PATH on the bot's web server (the Telegram webhook's, or its own on PORT):
`mount(parent, deps)`; or served alone by `standalone_app(deps)`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bots.web_console.deps import CSRF_TOKEN, DEPS, ConsoleDeps, deps
from bots.web_console.pages import PAGES
from bots.web_console.rendering import CONSOLE_PATH, STATIC_DIR, render, url
from bots.web_console.security import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

log = logging.getLogger("bots.web_console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Nothing from elsewhere, no inline script or style: vendored files under /static only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
PUBLIC_PATHS = frozenset({url("/signin")})
STATIC_PREFIX = url("/static/")
MAX_BODY_BYTES = 1 << 20  # forms and a Playground prompt; nothing near this is expected
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer, errors and redirects included, carries the headers."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(SECURITY_HEADERS)
        raise
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


@web.middleware
async def require_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Signed out: every path but the sign-in page and static files is the same redirect, found
    or not (nothing tells a stranger what exists). Signed in: every change needs the session's
    CSRF token (form field `csrf` or header X-CSRF-Token)."""
    if request.path in PUBLIC_PATHS or request.path.startswith(STATIC_PREFIX):
        return await handler(request)
    console = deps(request)
    nonce = console.sessions.nonce(request.cookies.get(SESSION_COOKIE))
    if nonce is None:
        raise web.HTTPFound(url("/signin"))  # for a GET or a change, found or not
    request[CSRF_TOKEN] = console.sessions.csrf_token(nonce)
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER, "")
        if not given and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            form = await request.post()
            given = str(form.get(CSRF_FIELD, ""))
        if not console.sessions.csrf_ok(nonce, given):
            return render(
                request,
                "error.html",
                status=403,
                message="This form has expired or did not come from the console: reload the "
                "page and try again.",
            )
    return await handler(request)


def console_app(console: ConsoleDeps) -> web.Application:
    """A new console application (one per server it is mounted on)."""
    app = web.Application(
        middlewares=[security_headers, require_session], client_max_size=MAX_BODY_BYTES
    )
    app[DEPS] = console
    app.router.add_static("/static", STATIC_DIR)
    for page in PAGES:
        app.add_routes(page.routes)
    return app


def mount(parent: web.Application, console: ConsoleDeps) -> None:
    """Serve the console under CONSOLE_PATH on `parent` (e.g. the Telegram webhook's server)."""
    parent.add_subapp(CONSOLE_PATH, console_app(console))


def standalone_app(console: ConsoleDeps) -> web.Application:
    """The console on a server of its own: `/` answers a health check, as the webhook's does."""
    root = web.Application()

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    root.router.add_get("/", health)
    mount(root, console)
    return root

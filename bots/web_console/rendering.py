"""Pages are Jinja2 templates (autoescaped), rendered with what every page shows: the nav, the
CSRF token for its forms, the console's base path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bots.web_console.deps import CSRF_TOKEN

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
CONSOLE_PATH = "/console"  # where the console is mounted on the bot's web server

# (path under CONSOLE_PATH, label): the nav of base.html, in order.
NAV = (
    ("/", "Overview"),
    ("/conversations", "Conversations"),
    ("/personas", "Personas"),
    ("/playground", "Playground"),
    ("/tokenizer", "Tokenizer"),
    ("/models", "Models"),
)

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,  # a misspelt variable fails the test, not the owner
    trim_blocks=True,
    lstrip_blocks=True,
)


def environment() -> jinja2.Environment:
    """The console's Jinja2 environment (pages may add filters to it at import)."""
    return _environment


def usd(value: float) -> str:
    """Dollars as the owner reads them: cents, and fractions of a cent for small sums."""
    if value == 0:
        return "$0"
    if abs(value) < 0.01:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def thousands(value: float) -> str:
    return f"{value:,.0f}"


_environment.filters["usd"] = usd
_environment.filters["thousands"] = thousands


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """`template` rendered with `context` plus: `base` (the console's path), `nav`, `page` (the
    nav entry to mark), `csrf` (for forms; "" when signed out), `signed_in`."""
    values = {
        "base": CONSOLE_PATH,
        "nav": NAV,
        "page": "",
        "csrf": request.get(CSRF_TOKEN, ""),
        "signed_in": CSRF_TOKEN in request,
        **context,
    }
    html = _environment.get_template(template).render(values)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def url(path: str) -> str:
    """A console path (as in NAV) as the browser requests it."""
    return CONSOLE_PATH + path

"""What every page gets: the core's console port and the console's own settings and guards."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from bots.web_console.security import LockoutPolicy, Secret, Sessions, SignInGuard
from config.settings import Settings
from core.console_port import ConsolePort
from core.workbench_port import WorkbenchPort


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The console's settings (WEB_CONSOLE_*), read once."""

    trusted_proxies: frozenset[str] = frozenset()  # addresses, or "*" for any
    transcripts: bool = True
    session_hours: float = 12.0

    @classmethod
    def of(cls, settings: Settings) -> ConsoleConfig:
        return cls(
            trusted_proxies=settings.web_console_trusted_proxies,
            transcripts=settings.web_console_transcripts,
            session_hours=settings.web_console_session_hours,
        )


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """Built once per process (`build_deps`); pages read it with `deps(request)`.

    `core` is the only way to the chat bot's data and actions. A page that needs more of the
    core adds a narrow Protocol to core/ (as core/console_port.py) and a field here.
    """

    core: ConsolePort
    secret: Secret
    config: ConsoleConfig
    sessions: Sessions
    guard: SignInGuard
    settings: Settings | None = field(default=None, repr=False)  # for pages with own settings
    # The Playground, Tokenizer and Personas pages' ports (core/workbench_port.py).
    workbench: WorkbenchPort | None = field(default=None, repr=False)


DEPS = web.AppKey("console_deps", ConsoleDeps)
# Set on a signed-in request by the session middleware: the CSRF token its forms carry.
CSRF_TOKEN = web.RequestKey("console_csrf", str)


def deps(request: web.Request) -> ConsoleDeps:
    """The console's dependencies, from inside any handler or middleware of its application."""
    return request.config_dict[DEPS]


def workbench(request: web.Request) -> WorkbenchPort:
    """The Playground, Tokenizer and Personas ports; those pages are missing without them."""
    bench = deps(request).workbench
    if bench is None:
        raise web.HTTPNotFound()
    return bench


def build_deps(
    core: ConsolePort,
    token: str,
    config: ConsoleConfig | None = None,
    *,
    settings: Settings | None = None,
    workbench: WorkbenchPort | None = None,
    lockout: LockoutPolicy | None = None,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    password_hash: str = "",
) -> ConsoleDeps:
    config = config or ConsoleConfig()
    secret = Secret(token, password_hash)
    return ConsoleDeps(
        core=core,
        secret=secret,
        config=config,
        sessions=Sessions(secret, config.session_hours * 3600, wall_clock),
        guard=SignInGuard(lockout, clock),
        settings=settings,
        workbench=workbench,
    )

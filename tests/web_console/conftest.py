"""The web console served over a real socket by the real bootstrap (fake OpenAI server, a seeded
SQLite database), and a real headless Chromium (Debian's `chromium`) driven by Playwright.

Browser tests skip where no chromium is installed, except in CI (CI=true), where they fail:
.ci/run installs it. Screenshots go to SCREENSHOT_DIR (default .screenshots/; `make
screenshots` writes the README's, docs/screenshots/).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import insert, select

from bots.web_console.app import standalone_app
from bots.web_console.deps import ConsoleConfig, ConsoleDeps, build_deps
from bots.web_console.security import LockoutPolicy
from core.bootstrap import App
from core.boundary import ConversationKey
from core.storage.schema import ConversationRow, TurnEventRow, UsageRow
from tests.core.helpers import ADMIN, ALICE, BOB, group, private, say
from tests.database import session_on

TOKEN = "console-test-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = ROOT / os.environ.get("SCREENSHOT_DIR", ".screenshots")
# Which private chat the seed fills past its window (a history budget of HISTORY_TOKENS).
LONG_CHAT = ConversationKey("telegram", "1001")
HISTORY_TOKENS = 120
# Usage rows the seed adds on earlier days: (days ago, model, cost in USD, prompt, completion).
PAST_USAGE = (
    (1, "gpt-4o-mini", 0.25, 1000, 500),
    (1, "gpt-4o", 1.50, 4000, 1000),
    (3, "gpt-4o", 0.75, 2000, 300),
    (12, "gpt-4o-mini", 0.05, 300, 100),
    (29, "gpt-4.1-mini", 0.40, 900, 400),
    (45, "gpt-4o", 9.00, 9000, 9000),  # older than the 30 days shown
)
# Refused and failed turns the seed counts on earlier days: (days ago, platform, kind, count).
PAST_EVENTS = (
    (1, "telegram", "refused.rate_limit", 4),
    (1, "discord", "refused.rate_limit", 2),
    (1, "telegram", "error.provider.server", 3),
    (3, "telegram", "refused.budget", 5),
    (45, "telegram", "refused.budget", 70),  # older than the 30 days shown
)


class Clock:
    """Time the test moves (the sign-in lock-out's clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class RunningConsole:
    url: str  # http://127.0.0.1:PORT/console
    app: App
    deps: ConsoleDeps
    clock: Clock


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Browser tests run on SQLite only; the console's queries are also tested on PostgreSQL
    without a browser (test_usage_report.py)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"


async def seed(app: App) -> None:
    """Chats through the real service (messages, usage, a window cut), plus usage rows on
    earlier days for the overview's charts."""
    service = app.service
    await say(service, private("/set context_tokens " + str(HISTORY_TOKENS), author=ALICE))
    for n in range(1, 9):
        await say(service, private(f"Note {n}: my name is Alice and I like tea.", author=ALICE))
    await say(service, group("Hello from the group", author=BOB))
    await say(service, group("What did Bob say?", author=ADMIN))
    discord = ConversationKey("discord", "555")
    await say(service, private("Hi from Discord", author=ALICE, key=discord))
    async with session_on(app, begin=True) as session:
        conversation_id = (
            await session.execute(
                select(ConversationRow.id).where(ConversationRow.chat_id == "-2002")
            )
        ).scalar_one()
        now = datetime.now(UTC)
        await session.execute(
            insert(UsageRow),
            [
                {
                    "conversation_id": conversation_id,
                    "user_id": "22",
                    "model": model,
                    "prompt_tokens": prompt,
                    "cached_tokens": 0,
                    "completion_tokens": completion,
                    "reasoning_tokens": 0,
                    "cost_usd": cost,
                    "kind": "chat",
                    "quantity": 0.0,
                    "created_at": now - timedelta(days=days_ago),
                }
                for days_ago, model, cost, prompt, completion in PAST_USAGE
            ],
        )
        await session.execute(
            insert(TurnEventRow),
            [
                {"day": (now - timedelta(days=ago)).date(), "platform": p, "kind": k, "count": n}
                for ago, p, k, n in PAST_EVENTS
            ],
        )


@pytest.fixture
async def console_bot(
    request: pytest.FixtureRequest, make_app: Callable[..., AbstractAsyncContextManager[App]]
) -> AsyncIterator[App]:
    """The bot, seeded unless the test's module says `SEED = False` (sign-in needs no chats)."""
    async with make_app(web_console_token=TOKEN) as app:
        if getattr(request.module, "SEED", True):
            await seed(app)
        yield app


async def serve(app: App, deps: ConsoleDeps) -> AsyncIterator[str]:
    runner = web.AppRunner(standalone_app(deps), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/console"
    finally:
        await runner.cleanup()


@pytest.fixture
async def console(console_bot: App) -> AsyncIterator[RunningConsole]:
    clock = Clock()
    deps = build_deps(
        console_bot.console,
        TOKEN,
        ConsoleConfig(),
        settings=console_bot.settings,
        workbench=console_bot.workbench,
        lockout=LockoutPolicy(max_failures=3, window_s=600, lock_s=900),
        clock=clock,
    )
    async for url in serve(console_bot, deps):
        yield RunningConsole(url, console_bot, deps, clock)


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium: Debian's, never a browser Playwright would download."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no chromium in CI: .ci/run should have installed Debian's chromium")
        pytest.skip("browser tests need chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh page (no cookies), phone-width when a test asks for it with `resize`."""
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)  # generous: the machine may be busy
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def sign_in(page: Any, console: RunningConsole, token: str = TOKEN) -> None:
    await page.goto(f"{console.url}/signin")
    await page.fill("#token", token)
    await page.click("button[type=submit]")


@pytest.fixture
async def signed_in(page: Any, console: RunningConsole) -> Any:
    """`page`, signed in to `console`, on the overview."""
    await sign_in(page, console)
    await page.wait_for_url(f"{console.url}/")
    return page


async def screenshot(page: Any, name: str) -> Path:
    """The page as the owner sees it, to SCREENSHOT_DIR/<name>.png."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path

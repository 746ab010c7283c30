"""A whole bot for end-to-end tests: real bootstrap (SQLite file), real PTB, fake Telegram and
fake OpenAI servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bots.telegram_adapter.options import TelegramOptions
from bots.telegram_adapter.startup import serve
from config.settings import Settings
from core.bootstrap import App, bootstrap
from core.tools.base import ToolSource
from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram

# Small intervals keep the whole Telegram suite well under a minute.
FAST: dict[str, Any] = {
    "telegram_edit_interval_s": 0.2,
    "telegram_typing_interval_s": 0.1,
    "telegram_poll_timeout_s": 1,
    "shutdown_grace_s": 3,
}


def bot_settings(tg: FakeTelegram, llm: FakeOpenAI, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "openai_api_key": "sk-test-key-123456",
        "openai_base_url": llm.base_url,
        "openai_max_retries": 0,
        "openai_timeout_s": 5,
        "database_url": f"sqlite+aiosqlite:///{db}",
        "telegram_bot_token": tg.token,
        "telegram_base_url": tg.root_url,
        **FAST,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class RunningBot:
    app: App
    stop: asyncio.Event
    task: asyncio.Task[None]


@asynccontextmanager
async def running_bot(
    tg: FakeTelegram,
    llm: FakeOpenAI,
    db: Path,
    *,
    slots: int | None = None,
    tool_sources: Sequence[ToolSource] = (),
    **overrides: Any,
) -> AsyncIterator[RunningBot]:
    """The bot polling the fake Telegram until the block ends (then stopped as on SIGTERM);
    `slots`: how many updates it processes at once (TelegramOptions.max_concurrent_updates)."""

    def listening() -> int:
        return len(tg.calls_to("getUpdates")) + len(tg.calls_to("setWebhook"))

    before = listening()
    settings = bot_settings(tg, llm, db, **overrides)
    async with bootstrap(settings, tool_sources=tool_sources) as app:
        stop = asyncio.Event()
        options = TelegramOptions.from_settings(app.settings)
        if slots is not None:
            options = replace(options, max_concurrent_updates=slots)
        task = asyncio.create_task(serve(app.service, options, stop))
        running = RunningBot(app, stop, task)
        try:
            await tg.wait_until(lambda: task.done() or listening() > before)
            if task.done():
                task.result()
            yield running
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)

"""Item 6: the concurrency run through the Telegram adapter, python-telegram-bot and the fake
Bot API server (tests/fakes/telegram_api.py), with the adapter's production settings.

Per answered turn: the adapter's added time (from the update being available to the final
message arriving, minus the core's whole turn: its own time plus the model's), the delay from
the model's first token to the first text a user can see (a draft or a message), and the Bot
API calls made for the answer. Everything runs in this process, so the clocks agree.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

from bench.harness import Database, Workdir, percentile
from bots.telegram_adapter import run_telegram
from config.settings import Settings
from core.bootstrap import bootstrap
from core.service import TurnStats
from tests.fakes.openai_server import FakeOpenAI, default_responder
from tests.fakes.telegram_api import FakeTelegram

FIRST_TOKEN_S = 0.05
ASKED = re.compile(r"chat (\d+) turn (\d+)")
DELIVERY = ("sendMessageDraft", "sendMessage", "editMessageText")


@dataclass(frozen=True, slots=True)
class TelegramResult:
    chats: int
    turns: int
    adapter_p50_ms: float
    adapter_p99_ms: float
    first_visible_p50_ms: float
    first_visible_p99_ms: float
    calls_per_answer: float  # drafts, messages and edits
    wall_s: float


async def run_telegram_bench(
    database: Database,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
    latency_s: float = 0.3,
) -> TelegramResult:
    asked: dict[tuple[int, int], float] = {}

    def responder(body: dict[str, Any]) -> str:
        found = ASKED.search(str(body["messages"][-1]["content"]))
        if found:
            asked[(int(found.group(1)), int(found.group(2)))] = time.monotonic()
        return default_responder(body)

    turns: list[TurnStats] = []
    sent: dict[tuple[int, int], float] = {}
    ended: dict[tuple[int, int], float] = {}
    async with (
        FakeOpenAI(
            latency_s=latency_s, first_token_delay_s=FIRST_TOKEN_S, responder=responder
        ) as llm,
        FakeTelegram() as tg,
    ):
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            openai_api_key="sk-bench",
            openai_base_url=llm.base_url,
            openai_max_retries=0,
            database_url=database.url,
            tiktoken_cache_dir=workdir.path / "tiktoken",
            telegram_bot_token=tg.token,
            telegram_base_url=tg.root_url,
            telegram_poll_timeout_s=1,  # only shortens shutdown; updates return at once
        )
        async with bootstrap(settings) as app:
            app.service.on_turn = turns.append
            stop = asyncio.Event()
            task = asyncio.create_task(run_telegram(app, stop))
            await tg.wait_until(lambda: bool(tg.calls_to("getUpdates")) or task.done(), 30)

            def answered(chat_id: int, asked_id: int, text: str) -> bool:
                # The answer is one of the next few messages in the chat (a notice could come
                # first); looked up by id, so waiting costs the same however many chats run.
                for message_id in range(asked_id + 1, asked_id + 4):
                    message = tg.messages.get((chat_id, message_id))
                    if message is not None and message.text.startswith(f"You said: {text}."):
                        return True
                return False

            async def chat(number: int) -> None:
                chat_id = 10_000 + number
                for turn in range(turns_per_chat):
                    text = f"chat {number} turn {turn}"
                    sent[(number, turn)] = time.monotonic()
                    asked_id = tg.send_text(chat_id, text)["message_id"]
                    await tg.wait_until(lambda: answered(chat_id, asked_id, text), 300)  # noqa: B023
                    ended[(number, turn)] = time.monotonic()

            started = time.monotonic()
            await asyncio.gather(*(chat(n) for n in range(chats)))
            wall_s = time.monotonic() - started
            stop.set()
            await asyncio.wait_for(task, 30)

    core_s: dict[int, list[float]] = {}  # per chat, its turns in order
    for stats in turns:
        core_s.setdefault(int(stats.key.chat_id) - 10_000, []).append(stats.bot_s + stats.model_s)
    adapter = [
        (ended[(number, turn)] - sent[(number, turn)] - core_s[number][turn]) * 1000
        for (number, turn) in ended
        if turn < len(core_s.get(number, []))
    ]
    delivery_calls = [c for c in tg.calls if c.method in DELIVERY]
    first_visible = []
    for (number, _turn), asked_at in asked.items():
        visible = [
            c.at
            for c in delivery_calls
            if c.params.get("chat_id") == 10_000 + number and c.at >= asked_at
        ]
        if visible:
            first_visible.append((min(visible) - asked_at - FIRST_TOKEN_S) * 1000)
    return TelegramResult(
        chats=chats,
        turns=len(turns),
        adapter_p50_ms=percentile(adapter, 50),
        adapter_p99_ms=percentile(adapter, 99),
        first_visible_p50_ms=percentile(first_visible, 50),
        first_visible_p99_ms=percentile(first_visible, 99),
        calls_per_answer=len(delivery_calls) / max(len(turns), 1),
        wall_s=wall_s,
    )

"""Item 6: the concurrency run through the Telegram adapter, python-telegram-bot and the fake
Bot API server (tests/fakes/telegram_api.py), with the adapter's production settings.

Per answered turn: the adapter's added time (from the update being available to the final
message arriving, minus the core's whole turn: its own time plus the model's), the time from
the user's message to the complete answer, the delay from the model's first text (the first
non-empty chunk written to the socket) to the first text a user can see (a draft or a
message), and the Bot API calls made for the answer. The fake model runs in its own process,
as in the concurrency run (bench/telegram_model.py logs when it wrote each answer's first text,
on the machine-wide monotonic clock); the fake Bot API server runs in this one.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from dataclasses import dataclass

from bench.harness import Database, FakeModelProcess, Workdir, percentile
from bench.telegram_model import read_first_texts
from bots.telegram_adapter import run_telegram
from config.settings import Settings
from core.bootstrap import bootstrap
from core.service import TurnStats
from tests.fakes.telegram_api import FakeTelegram

FIRST_TOKEN_S = 0.05
DELIVERY = ("sendMessageDraft", "sendMessage", "editMessageText")


@dataclass(frozen=True, slots=True)
class TelegramResult:
    chats: int
    turns: int
    adapter_p50_ms: float
    adapter_p99_ms: float
    first_visible_p50_ms: float
    first_visible_p99_ms: float
    answer_p50_ms: float  # the user's message sent -> the complete answer shown
    answer_p99_ms: float
    calls_per_answer: float  # drafts, messages and edits
    wall_s: float


async def run_telegram_bench(
    database: Database,
    workdir: Workdir,
    chats: int,
    turns_per_chat: int = 5,
    latency_s: float = 0.3,
) -> TelegramResult:
    first_text_log = workdir.path / f"first-text-{chats}.log"
    turns: list[TurnStats] = []
    sent: dict[tuple[int, int], float] = {}
    ended: dict[tuple[int, int], float] = {}
    model = FakeModelProcess(
        latency_s,
        module="bench.telegram_model",
        extra_args=("--first-token", str(FIRST_TOKEN_S), "--first-text", str(first_text_log)),
    )
    async with model as llm, FakeTelegram() as tg:
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
                    await tg.wait_for_chat(
                        chat_id,
                        lambda: answered(chat_id, asked_id, text),  # noqa: B023
                        300,
                    )
                    ended[(number, turn)] = time.monotonic()

            started = time.monotonic()
            await asyncio.gather(*(chat(n) for n in range(chats)))
            wall_s = time.monotonic() - started
            stop.set()
            await asyncio.wait_for(task, 30)
    first_texts = read_first_texts(first_text_log)

    core_s: dict[int, list[float]] = {}  # per chat, its turns in order
    for stats in turns:
        core_s.setdefault(int(stats.key.chat_id) - 10_000, []).append(stats.bot_s + stats.model_s)
    adapter = [
        (ended[(number, turn)] - sent[(number, turn)] - core_s[number][turn]) * 1000
        for (number, turn) in ended
        if turn < len(core_s.get(number, []))
    ]
    answer = [(ended[key] - sent[key]) * 1000 for key in ended]
    delivery_calls = [c for c in tg.calls if c.method in DELIVERY]
    shown_at: dict[int, list[float]] = {}  # per chat, when its delivery calls arrived, in order
    for call in delivery_calls:
        shown_at.setdefault(int(call.params["chat_id"]) - 10_000, []).append(call.at)
    first_visible = []
    for (number, _turn), written_at in first_texts.items():
        times = shown_at.get(number, [])
        index = bisect.bisect_left(times, written_at)
        if index < len(times):
            first_visible.append((times[index] - written_at) * 1000)
    return TelegramResult(
        chats=chats,
        turns=len(turns),
        adapter_p50_ms=percentile(adapter, 50),
        adapter_p99_ms=percentile(adapter, 99),
        first_visible_p50_ms=percentile(first_visible, 50),
        first_visible_p99_ms=percentile(first_visible, 99),
        answer_p50_ms=percentile(answer, 50),
        answer_p99_ms=percentile(answer, 99),
        calls_per_answer=len(delivery_calls) / max(len(turns), 1),
        wall_s=wall_s,
    )

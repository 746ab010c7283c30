"""A Telegram chat moves to a second provider's model: its answers come from that server, with
that server's key (issue 12 item 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fakes.openai_server import FakeOpenAI
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot
from tests.telegram.test_bot import USER, command, replies

LOCAL_KEY = "sk-local-telegram-777777"


async def test_a_chat_switches_provider_with_model(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", LOCAL_KEY)
    async with FakeOpenAI(api_key=LOCAL_KEY, models=("llama-3.1-8b",)) as local:
        local.responder = lambda body: "Hi from llama."
        providers = {
            "local": {
                "base_url": local.base_url,
                "api_key_env": "LOCAL_LLM_KEY",
                "models": ["llama*"],
            }
        }
        async with running_bot(tg, llm, tmp_path / "bot.db", providers=json.dumps(providers)):
            tg.send_text(USER, "hello")
            await replies(tg, USER, 1)
            tg.send_text(USER, "/model llama-3.1-8b", entities=command("/model"))
            await replies(tg, USER, 2)
            tg.send_text(USER, "and now?")
            answers = await replies(tg, USER, 3)
    assert answers == [
        "You said: hello. I can see 1 earlier messages.",
        "Model is now llama-3.1-8b.\nThis model is not in the catalog: I assume a 8192-token "
        "context and no price.",
        "Hi from llama.",
    ]
    (sent,) = local.chat_requests
    assert sent.api_key == LOCAL_KEY and sent.body["model"] == "llama-3.1-8b"
    assert [m["content"] for m in sent.body["messages"][1:]] == [
        "hello",
        "You said: hello. I can see 1 earlier messages.",
        "and now?",
    ]
    assert len(llm.chat_requests) == 1 and llm.chat_requests[0].api_key != LOCAL_KEY

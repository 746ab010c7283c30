"""A long chat through a real local model server: llama.cpp's `llama-server` with a small real
model (Gemma 3 270M) and a 2,048-token context. The bot has no tokenizer for it, so its counts are
estimates; the ratio it learns from the server's reported usage must keep every request inside
the context (issue 12 item 5). `make test-local-model` builds llama-server and installs the model,
then runs this; `make test` skips it (building llama.cpp takes minutes)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.settings import Settings
from core.bootstrap import bootstrap
from core.boundary import Failure, Notice
from core.turn.reporting import TurnStats
from tests.core.helpers import collect, private

LLAMA_SERVER = os.environ.get("LLAMA_SERVER", "")
LOCAL_GGUF = os.environ.get("LOCAL_GGUF", "")
pytestmark = pytest.mark.skipif(
    not (LLAMA_SERVER and LOCAL_GGUF),
    reason="make test-local-model runs this (it needs llama-server and a GGUF model)",
)

CONTEXT = 2048
REPLY_TOKENS = 24
TURNS = 20
WORDS = ("seven", "ocean", "violet", "thunder", "maple", "quartz", "lantern", "orbit", "cedar")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture
async def llama_server(tmp_path: Path) -> AsyncIterator[str]:
    port = free_port()
    log = tmp_path / "llama-server.log"
    with log.open("w") as output:
        server = await asyncio.create_subprocess_exec(
            *(LLAMA_SERVER, "-m", LOCAL_GGUF, "-c", str(CONTEXT), "-t", "2"),
            *("--host", "127.0.0.1", "--port", str(port)),
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    root = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if server.returncode is not None:
                raise RuntimeError(f"llama-server exited: see {log}")
            if await asyncio.to_thread(healthy, root):
                break
            await asyncio.sleep(0.5)
        else:
            raise RuntimeError("llama-server did not come up in 2 minutes")
        yield f"{root}/v1"
    finally:
        if server.returncode is None:
            server.terminate()
        await asyncio.wait_for(server.wait(), 30)


def message(turn: int) -> str:
    """About 120 tokens of varied text: numbers and words the two tokenizers split differently."""
    words = [f"{WORDS[(turn * 5 + i) % len(WORDS)]}-{turn * 37 + i * 11}" for i in range(45)]
    return f"Note {turn}: " + " ".join(words) + ". Reply with one short sentence."


async def test_a_long_chat_never_sends_more_than_the_context(
    llama_server: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        openai_api_key="sk-not-used",
        providers=json.dumps({"local": {"base_url": llama_server, "models": ["gemma*"]}}),
        default_model="gemma-3-270m",
        model_context_window=CONTEXT,
        default_context_tokens=CONTEXT,  # the model's whole window, as a long chat would use
        openai_timeout_s=120,  # a 270M model on two busy cores: seconds per turn
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        tiktoken_cache_dir=tmp_path / "tiktoken",
    )
    turns: list[TurnStats] = []
    trimmed = 0
    async with bootstrap(settings) as app:
        app.service.on_turn = turns.append
        await collect(app.service, private(f"/set max_tokens {REPLY_TOKENS}"))
        for turn in range(TURNS):
            events = await collect(app.service, private(message(turn)))
            failures = [e.text for e in events if isinstance(e, Failure)]
            assert not failures, f"turn {turn}: {failures}"
            trimmed += any(isinstance(e, Notice) and "left out" in e.text for e in events)
    assert len(turns) == TURNS
    # No request overflowed and was saved by the retry with half of the history.
    assert not [r for r in caplog.records if "context too long" in r.getMessage()]
    # What the server itself counted, plus the reply it was allowed, never passed its context.
    sent = [stats.prompt_tokens + REPLY_TOKENS for stats in turns]
    assert max(sent) <= CONTEXT, sent
    assert trimmed, "the chat never outgrew the window: the test proved nothing"
    assert max(sent) > CONTEXT * 0.5, "the window was kept needlessly small"

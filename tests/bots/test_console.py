"""`python -m bots console` as a user scripts it: real process, real SQLite file, fake OpenAI."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from fakes.openai_server import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]


async def run_console(llm: FakeOpenAI, workdir: Path, lines: list[str]) -> tuple[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "sk-console-test-key",
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "TIKTOKEN_CACHE_DIR": str(workdir / "tiktoken"),
        "LANG": "en_US.UTF-8",
    }
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        env.pop(name, None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots",
        "console",
        cwd=workdir,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    script = "".join(line + "\n" for line in lines).encode()
    stdout, stderr = await asyncio.wait_for(process.communicate(script), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return stdout.decode(), stderr.decode()


async def test_a_scripted_session_and_a_restart(llm: FakeOpenAI, tmp_path: Path) -> None:
    out, err = await run_console(
        llm,
        tmp_path,
        [
            "Hello, my name is Alice",
            "What is my name?",
            "/set temperature 3",
            "/set temperature 0.4",
            "/tokens 안녕하세요 hello",
            "/persona translator",
            "what is my name?",
            "/usage",
        ],
    )
    lines = out.splitlines()
    assert lines[0] == "You said: Hello, my name is Alice. I can see 1 earlier messages."
    assert lines[1] == "Your name is Alice."
    assert lines[2] == "temperature must be a number from 0.0 to 2.0."
    assert lines[3] == "temperature = 0.4"
    assert lines[4].startswith("3 tokens, 11 characters") and "gpt-4o-mini" in lines[4]
    assert lines[5].startswith("Persona is now translator.")
    assert lines[6] == "I don't know your name."  # a new persona starts a fresh window
    assert lines[7] == "Usage in this chat:"
    assert lines[8].startswith("gpt-4o-mini: 3 requests")
    assert llm.last_body["temperature"] == 0.4
    assert "sk-console-test-key" not in out + err

    out, _ = await run_console(llm, tmp_path, ["/persona assistant", "what is my name"])
    # After the restart the chat is still on the translator persona and remembers its history.
    assert out.splitlines()[0].startswith("Persona is now assistant.")
    assert llm.last_messages[-1]["content"] == "what is my name"
    assert "Your name is Alice." not in out  # fresh window after the switch, as designed
    out, _ = await run_console(llm, tmp_path, ["/settings"])
    assert "persona: assistant" in out and "temperature: 0.4" in out


async def test_memory_survives_a_restart(llm: FakeOpenAI, tmp_path: Path) -> None:
    await run_console(llm, tmp_path, ["my name is Bob"])
    out, _ = await run_console(llm, tmp_path, ["what is my name?"])
    assert out.strip() == "Your name is Bob."

"""`python -m bots console` as a user scripts it: real process, real SQLite file, fake OpenAI."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import sqlite3
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from core.storage.schema import MessageRow
from core.texts import EN
from fakes.media import ogg_comment, png
from fakes.openai_server import FakeOpenAI, FakeReply, count_prompt_tokens, default_responder
from tests.media_fixtures import photo, voice_note

ROOT = Path(__file__).resolve().parents[2]


async def run_console(
    llm: FakeOpenAI, workdir: Path, lines: list[str], **extra_env: str
) -> tuple[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "sk-console-test-key",
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "TIKTOKEN_CACHE_DIR": str(workdir / "tiktoken"),
        "LANG": "en_US.UTF-8",
        **extra_env,
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


async def test_ctrl_c_stops_the_reply_not_the_bot_and_quit_ends_it(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    """In a terminal (stdin a pty): Ctrl-C (SIGINT) cuts the reply being streamed and the chat
    goes on; /quit ends it; a second Ctrl-C at the prompt quits too."""
    long = FakeReply("endless " * 400, chunk_size=8, chunk_delay_s=0.05)  # about 20 s
    llm.responder = lambda body: long if "long" in body["messages"][-1]["content"] else "short"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OPENAI_API_KEY": "sk-console-test-key",
        "OPENAI_BASE_URL": llm.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "TIKTOKEN_CACHE_DIR": str(tmp_path / "tiktoken"),
    }

    async def start() -> tuple[asyncio.subprocess.Process, int]:
        terminal, tty = pty.openpty()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bots", "console", cwd=tmp_path, env=env,
            stdin=tty, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        os.close(tty)
        return process, terminal

    async def read_until(process: asyncio.subprocess.Process, text: str) -> str:
        assert process.stdout is not None
        seen = ""
        while text not in seen:
            chunk = await asyncio.wait_for(process.stdout.read(64), 30)
            assert chunk, f"output ended before {text!r}: {seen!r}"
            seen += chunk.decode()
        return seen

    process, terminal = await start()
    os.write(terminal, b"talk for a long time\n")
    await read_until(process, "endless endless")
    process.send_signal(signal.SIGINT)  # what Ctrl-C sends
    await read_until(process, "(stopped)\nyou> ")
    os.write(terminal, b"and now?\n")
    await read_until(process, "short\nyou> ")
    os.write(terminal, b"/quit\n")
    assert await asyncio.wait_for(process.wait(), 30) == 0
    os.close(terminal)
    messages = await stored_messages(tmp_path / "bot.db")
    # The cut reply left its question without a half answer; the chat went on.
    assert messages == [
        ("user", "talk for a long time"),
        ("user", "and now?"),
        ("assistant", "short"),
    ]

    process, terminal = await start()
    await read_until(process, "you> ")
    process.send_signal(signal.SIGINT)  # at the prompt: quit
    assert await asyncio.wait_for(process.wait(), 30) == 0
    os.close(terminal)


async def stored_messages(path: Path) -> list[tuple[str, str]]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(MessageRow.role, MessageRow.content).order_by(MessageRow.id)
        )
        messages = [(role, content) for role, content in rows.all()]
    await engine.dispose()
    return messages


async def test_a_reasoning_model_answers_and_its_thinking_is_never_stored(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    """The issue's scenario: gpt-5-mini ignores stop, thinks for 3,000 tokens and still answers;
    a local model's <think> block stays out of the history."""
    llm.reasoning_tokens = 3000
    llm.models = (*llm.models, "qwen3:8b")

    def respond(body: dict[str, object]) -> str | FakeReply:
        if body["model"] == "qwen3:8b":
            return FakeReply("<think>a secret plan</think>\nThe plan is ready.", chunk_size=4)
        return default_responder(body)

    llm.responder = respond
    out, _ = await run_console(
        llm,
        tmp_path,
        [
            "/model gpt-5-mini",
            "/set stop END",
            "Why is the sky blue?",
            "/usage",
            "/set reasoning_effort high",
            "/set reasoning_effort loud",
            "/model qwen3:8b",
            "Make a plan",
            "/set show_reasoning on",
            "Another plan",
        ],
    )
    lines = out.splitlines()
    assert lines[0] == "Model is now gpt-5-mini."
    assert lines[1] == (
        "stop = 'END' (kept, but gpt-5-mini ignores it: it applies when this chat uses a model "
        "that takes it)"
    )
    assert lines[2] == "You said: Why is the sky blue?. I can see 1 earlier messages."
    assert lines[3] == "Usage in this chat:"
    assert lines[4].startswith("gpt-5-mini: 1 requests")
    assert lines[4].endswith("(of which 3,000 reasoning, $0.0060)")
    assert lines[6:8] == [
        "reasoning_effort = high",
        "reasoning_effort must be one of: minimal, low, medium, high.",
    ]
    assert lines[8].startswith("Model is now qwen3:8b.")
    assert lines[-4:] == [
        "The plan is ready.",
        "show_reasoning = on",
        "│ a secret plan",  # shown, apart from the answer
        "The plan is ready.",
    ]
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    async with engine.connect() as connection:
        contents = list(await connection.scalars(select(MessageRow.content)))
    await engine.dispose()
    assert "The plan is ready." in contents
    assert not any("secret" in content or "<think>" in content for content in contents)
    assert all("secret" not in str(m["content"]) for m in llm.last_messages)


async def test_a_chat_moves_to_another_providers_model(llm: FakeOpenAI, tmp_path: Path) -> None:
    """PROVIDERS declares a second server (its key in its own variable): `/models` lists both,
    `/model` moves the chat there and back, each answer comes from its own server."""
    async with FakeOpenAI(api_key="sk-console-local-5150", models=("llama-3.1-8b",)) as local:
        local.responder = lambda body: f"llama heard {len(body['messages'])} messages"
        providers = {"local": {"base_url": local.base_url, "api_key_env": "LOCAL_KEY"}}
        providers["local"]["models"] = ["llama*"]  # type: ignore[index]
        out, err = await run_console(
            llm,
            tmp_path,
            ["/models", "hello", "/model llama-3.1-8b", "hi llama", "/model gpt-4o-mini", "bye"],
            PROVIDERS=json.dumps(providers),
            LOCAL_KEY="sk-console-local-5150",
        )
    lines = out.splitlines()
    assert lines[1] == "[openai]" and "[local]" in lines
    assert lines[lines.index("[local]") + 1] == "• llama-3.1-8b: 8,192 · 2,048 · —"
    rest = lines[lines.index("[local]") + 2 :]
    assert rest[0] == "You said: hello. I can see 1 earlier messages."
    assert rest[1].startswith("Model is now llama-3.1-8b.")
    assert rest[3] == "llama heard 4 messages"
    assert rest[4] == "Model is now gpt-4o-mini."
    assert rest[5] == "You said: bye. I can see 5 earlier messages."
    assert [r.api_key for r in local.chat_requests] == ["sk-console-local-5150"]
    assert "sk-console-local-5150" not in out + err


async def test_attach_sends_a_local_file_or_recording(llm: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "todo list.txt").write_text("buy milk\n")
    (tmp_path / "memo.ogg").write_bytes(voice_note("call the plumber"))
    out, _ = await run_console(
        llm,
        tmp_path,
        [
            '/attach "todo list.txt" what is on it?',
            "/attach memo.ogg",
            "/attach missing.pdf read it",
        ],
    )
    assert out.splitlines() == [
        "You said: what is on it?",
        "",
        "[file: todo list.txt]",
        "buy milk. I can see 1 earlier messages.",
        "🎤 “call the plumber”",
        "You said: call the plumber. I can see 3 earlier messages.",
        EN["media.fetch_failed"].format(name="missing.pdf"),
    ]
    [heard] = llm.transcriptions
    assert (heard.file_name, heard.audio) == ("memo.ogg", voice_note("call the plumber"))


async def test_image_and_voice_are_written_to_the_media_folder(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    out, _ = await run_console(
        llm, tmp_path, ["/image a red bicycle", "/speak hi there"], MEDIA_OUT_DIR="made"
    )
    assert out.splitlines() == ["🎨 a red bicycle", "made/image-0001.png", "made/voice-0001.ogg"]
    assert (tmp_path / "made/image-0001.png").read_bytes() == png()
    assert ogg_comment((tmp_path / "made/voice-0001.ogg").read_bytes()) == "hi there"


async def test_attach_a_photo(llm: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(photo(64, 48))
    out, _ = await run_console(
        llm, tmp_path, ["/attach photo.png what colour is this?", "and now?"]
    )
    assert out.splitlines() == [
        "You said: what colour is this?. I can see 1 earlier messages.",
        "You said: and now?. I can see 3 earlier messages.",
    ]
    first, second = llm.chat_requests
    user = first.body["messages"][-1]
    assert user["content"][1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert second.body["messages"][1] == user
    with sqlite3.connect(tmp_path / "bot.db") as connection:
        stored = connection.execute("SELECT tokens FROM messages ORDER BY id").fetchone()[0]
    assert stored == count_prompt_tokens([user], "gpt-4o-mini") - 3  # the fake's own count


async def test_attach_a_photo_with_images_off(llm: FakeOpenAI, tmp_path: Path) -> None:
    (tmp_path / "photo.png").write_bytes(photo(64, 48))
    out, _ = await run_console(
        llm, tmp_path, ["/attach photo.png what is it?"], IMAGES_ENABLED="false"
    )
    assert out.splitlines() == [EN["vision.off"]]
    assert llm.chat_requests == []

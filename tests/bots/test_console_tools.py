"""The tool loop through the console: the confirmation answered by typing "yes" (in-process, a
tool defined here), and drawing through the real `python -m bots console` process."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bots.console import run_console
from config.settings import Settings
from core.bootstrap import bootstrap
from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall
from tests.bots.test_console import run_console as run_console_process
from tests.tools.scripted import ScriptedSource, ScriptedTool, answering


def look_up_then_answer(body: dict[str, Any]) -> FakeReply:
    if body["messages"][-1]["role"] == "tool":
        return FakeReply("Found: " + body["messages"][-1]["content"])
    return FakeReply("", tool_calls=(FakeToolCall("lookup", '{"q": "tides"}'),))


async def test_a_confirmation_answered_by_typing_yes(
    make_settings: Callable[..., Settings],
    llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    lookup = ScriptedTool("lookup", answering("high at {q}"), needs_confirmation=True)
    llm.responder = look_up_then_answer
    monkeypatch.setattr("sys.stdin", io.StringIO("when are the tides?\nyes\n"))
    settings = make_settings(media_out_dir=tmp_path / "media")
    async with bootstrap(settings, tool_sources=[ScriptedSource([lookup])]) as app:
        await asyncio.wait_for(run_console(app.service, settings, asyncio.Event()), 30)
    assert capsys.readouterr().out.splitlines() == [
        'Run `lookup` with {"q": "tides"}? [Yes / No]',
        "OK, running it.",
        "Found: high at tides",
    ]
    assert lookup.calls == [{"q": "tides"}]


async def test_draw_me_a_cat_in_the_console(llm: FakeOpenAI, tmp_path: Path) -> None:
    llm.responder = lambda body: (
        FakeReply("There you go.")
        if body["messages"][-1]["role"] == "tool"
        else FakeReply("", tool_calls=(FakeToolCall("draw_image", '{"prompt": "a cat"}'),))
    )
    out, _ = await run_console_process(llm, tmp_path, ["draw me a cat"])
    lines = out.splitlines()
    assert lines[0] == "🎨 a cat"
    assert (tmp_path / lines[1]).read_bytes().startswith(b"\x89PNG")
    assert lines[2:] == ["There you go."]
    assert [b["prompt"] for b in llm.image_requests] == ["a cat"]

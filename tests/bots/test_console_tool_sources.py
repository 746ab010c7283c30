"""The tool sources the settings name, through the real `python -m bots console` process: an
MCP server of MCP_CONFIG (a stdio subprocess written with the `mcp` SDK) listed by /tools and
called in a turn, and a web page on a private address refused by read_web_page."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.openai_tools import FakeToolCall
from tests.bots.test_console import ROOT, run_console


def calling(name: str, arguments: dict[str, Any]) -> Any:
    """A model that calls `name` once, then answers with what the tool said."""

    def respond(body: dict[str, Any]) -> FakeReply:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return FakeReply(f"The tool said: {last['content']}")
        return FakeReply("", tool_calls=(FakeToolCall(name, json.dumps(arguments)),))

    return respond


async def test_an_mcp_server_of_mcp_config_is_listed_and_used(
    llm: FakeOpenAI, tmp_path: Path
) -> None:
    config = tmp_path / "mcp.json"
    config.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "calc": {
                        "command": sys.executable,
                        "args": ["-m", "fakes.mcp_server"],
                        "cwd": str(ROOT),  # a stdio server gets none of the bot's environment
                    }
                }
            }
        )
    )
    llm.responder = calling("calc__add", {"a": 2, "b": 3})
    out, err = await run_console(
        llm, tmp_path, ["/tools", "what is 2 + 3?"], MCP_CONFIG=str(config)
    )
    lines = out.splitlines()
    assert "calc:" in lines, out + err
    assert any(line.startswith("✅ calc__add:") for line in lines)
    assert lines[-1] == "The tool said: 5"
    offered = [tool["function"]["name"] for tool in llm.chat_requests[0].body["tools"]]
    assert "calc__add" in offered
    assert llm.chat_requests[-1].body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": llm.chat_requests[-1].body["messages"][-2]["tool_calls"][0]["id"],
        "content": "5",
    }


async def test_a_page_on_a_private_address_is_refused(llm: FakeOpenAI, tmp_path: Path) -> None:
    llm.responder = calling("read_web_page", {"url": "http://169.254.169.254/latest/meta-data"})
    out, _ = await run_console(llm, tmp_path, ["read http://169.254.169.254/latest/meta-data"])
    said = out.splitlines()[-1]
    assert said.startswith("The tool said: ")
    assert "169.254.169.254 is a private, local or reserved address" in said

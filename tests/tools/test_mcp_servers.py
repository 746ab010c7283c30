"""MCP servers through the real SDK: the fake server (written with the `mcp` SDK) as a stdio
subprocess and over Streamable HTTP; calls, timeouts, failures, a server that does not start
or dies, and no secret in any log line or result."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bots.logging_setup import RedactSecrets, secrets_of
from config.mcp_config import McpConfig, parse_mcp_config
from config.settings import load_settings
from core.tools.mcp_servers import McpServer, McpServers
from core.tools.mcp_tools import McpTool
from tests.tools.mcp_helpers import FAKE_SERVER, FAST, alive, context, free_port, http_fake, until

OWNER = context(is_private=True, is_owner=True)
ENV_SECRET = "env-secret-value-3141"
HEADER_SECRET = "header-secret-2718"


def config(tmp_path: Path, servers: Mapping[str, Any]) -> McpConfig:
    path = tmp_path / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}))
    return parse_mcp_config(str(path))


def stdio(**settings: Any) -> dict[str, Any]:
    return {"command": FAKE_SERVER[0], "args": FAKE_SERVER[1:], **settings}


def tools_of(servers: McpServers) -> dict[str, McpTool]:
    return {tool.spec.name: tool for source in servers.sources() for tool in source.tools()}


def by_name(servers: McpServers, name: str) -> McpServer:
    return next(source for source in servers.sources() if source.name == name)


async def test_a_stdio_server_offers_its_tools_and_answers(tmp_path: Path) -> None:
    async with McpServers(config(tmp_path, {"fake": stdio()}), FAST) as servers:
        tools = tools_of(servers)
        assert sorted(tools) == [
            "fake__add",
            "fake__dotted_name_tool",  # "dotted.name tool" on the server
            "fake__echo_env",
            "fake__env_present",
            "fake__fail",
            "fake__grow",
            "fake__lookup_order",
            "fake__picture",
            "fake__pid",
            "fake__slow",
        ]
        add = tools["fake__add"]
        assert add.spec.description == "Add two integers."
        assert add.spec.parameters["required"] == ["a", "b"]
        assert (add.spec.source, add.spec.acts_outside, add.spec.timeout_s) == ("fake", True, 30)
        assert add.progress({"a": 1}) == "🔧 fake: add"

        output = await add.run({"a": 2, "b": 40}, OWNER)
        assert (output.text, output.is_error) == ("42", False)
        order = await tools["fake__lookup_order"].run({"order_id": "A-1"}, OWNER)
        assert order.text == "shipped on Monday"
        dotted = await tools["fake__dotted_name_tool"].run({}, OWNER)
        assert dotted.text == "dotted ok"  # called by its own name on the server
        picture = await tools["fake__picture"].run({}, OWNER)
        assert picture.text == "a red dot\n[image: image/png, 67 bytes, not shown]"
        # The loop runs a round's calls at once: one session carries them side by side.
        slow, quick = await asyncio.gather(
            tools["fake__slow"].run({"seconds": 0.2}, OWNER),
            tools["fake__add"].run({"a": 1, "b": 1}, OWNER),
        )
        assert (slow.text, quick.text) == ("waited 0.2s", "2")


async def test_new_tools_a_server_announces_are_offered(tmp_path: Path) -> None:
    no_polling = dataclasses.replace(FAST, health_every_s=3600)  # only the change stream
    async with McpServers(config(tmp_path, {"fake": stdio()}), no_polling) as servers:
        assert "fake__late" not in tools_of(servers)
        assert (await tools_of(servers)["fake__grow"].run({}, OWNER)).text == "grown"
        await until(lambda: "fake__late" in tools_of(servers))
        assert (await tools_of(servers)["fake__late"].run({}, OWNER)).text == "late ok"


async def test_a_failing_tool_and_bad_arguments_are_error_results(tmp_path: Path) -> None:
    async with McpServers(config(tmp_path, {"fake": stdio()}), FAST) as servers:
        tools = tools_of(servers)
        failed = await tools["fake__fail"].run({"reason": "disk full"}, OWNER)
        assert failed.is_error and "the tool broke: disk full" in failed.text
        wrong = await tools["fake__add"].run({"a": "many"}, OWNER)
        assert wrong.is_error
        # The session is still good afterwards.
        assert (await tools["fake__add"].run({"a": 1, "b": 1}, OWNER)).text == "2"


async def test_a_slow_tool_hits_the_servers_timeout(tmp_path: Path) -> None:
    servers_config = config(tmp_path, {"fake": stdio(timeout=0.3)})
    async with McpServers(servers_config, FAST) as servers:
        tools = tools_of(servers)
        assert tools["fake__slow"].spec.timeout_s == 0.3
        output = await tools["fake__slow"].run({"seconds": 30}, OWNER)
        assert output.is_error and output.text == "The tool did not answer within 0.3 s."
        assert (await tools["fake__slow"].run({"seconds": 0}, OWNER)).text == "waited 0.0s"


async def test_env_reaches_a_stdio_server_and_never_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-bots-own-key")
    servers_config = config(
        tmp_path,
        {
            "fake": stdio(env={"FAKE_SECRET": ENV_SECRET}),
            "broken": {"command": str(tmp_path / "missing"), "env": {"T": ENV_SECRET}},
        },
    )
    async with McpServers(servers_config, FAST) as servers:
        tools = tools_of(servers)
        assert (await tools["fake__env_present"].run({"name": "FAKE_SECRET"}, OWNER)).text == "set"
        assert (await tools["fake__env_present"].run({"name": "OTHER"}, OWNER)).text == "not set"
        # A server gets its own env and PATH, HOME and the like; never the bot's keys.
        bots_key = await tools["fake__env_present"].run({"name": "OPENAI_API_KEY"}, OWNER)
        assert bots_key.text == "not set"
        # A server that prints its own credentials does not get them into the chat.
        echoed = await tools["fake__echo_env"].run({"name": "FAKE_SECRET"}, OWNER)
        assert echoed.text == "***"
        await until(lambda: "broken" in caplog.text)
    assert ENV_SECRET not in caplog.text


async def test_a_server_that_does_not_start_is_logged_in_one_line_and_retried_until_fixed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="core.tools.mcp")
    script = tmp_path / "server.sh"  # not there yet: the owner has not installed it
    servers_config = config(tmp_path, {"later": {"command": str(script)}, "fake": stdio()})
    async with McpServers(servers_config, FAST) as servers:
        later = by_name(servers, "later")
        assert not later.tools()
        # The other server works meanwhile.
        assert (await tools_of(servers)["fake__add"].run({"a": 1, "b": 2}, OWNER)).text == "3"
        await until(lambda: sum("MCP server later" in r.getMessage() for r in caplog.records) > 2)
        failures = [r for r in caplog.records if "later" in r.getMessage()]
        # Retried with backoff, but logged once: the same failure again is at DEBUG.
        assert [record.levelno for record in failures][:3] == [
            logging.WARNING,
            logging.DEBUG,
            logging.DEBUG,
        ]
        assert not any(record.exc_info for record in failures)  # no traceback, one line
        first = failures[0].getMessage()
        assert first.startswith("MCP server later: FileNotFoundError: ") and "retrying in" in first
        assert "\n" not in first and str(script) in first

        script.write_text(f"#!/bin/sh\nexec {' '.join(FAKE_SERVER)}\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
        await until(lambda: bool(later.tools()))
        assert later.connections == 1
        assert {tool.spec.name for tool in later.tools()} >= {"later__add", "later__slow"}
        add = next(tool for tool in later.tools() if tool.spec.name == "later__add")
        assert (await add.run({"a": 5, "b": 5}, OWNER)).text == "10"
    assert "MCP server later: connected, 10 tools" in caplog.text


async def test_a_server_killed_mid_session_comes_back_and_closing_leaves_no_process(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.tools.mcp")
    async with McpServers(config(tmp_path, {"fake": stdio()}), FAST) as servers:
        fake = by_name(servers, "fake")
        first_pid = int((await tools_of(servers)["fake__pid"].run({}, OWNER)).text)
        os.kill(first_pid, signal.SIGKILL)
        await until(lambda: fake.connections == 2 and bool(fake.tools()))
        second_pid = int((await tools_of(servers)["fake__pid"].run({}, OWNER)).text)
        assert second_pid != first_pid
        lost = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert lost and lost[0].startswith("MCP server fake: ") and "retrying" in lost[0]
    assert not alive(first_pid) and not alive(second_pid)  # reaped, not zombies


async def test_a_call_to_a_dead_server_is_a_readable_error(tmp_path: Path) -> None:
    never_again = dataclasses.replace(FAST, retry_first_s=3600, retry_max_s=3600)  # stays down
    async with McpServers(config(tmp_path, {"fake": stdio()}), never_again) as servers:
        tools = tools_of(servers)
        pid = int((await tools["fake__pid"].run({}, OWNER)).text)
        os.kill(pid, signal.SIGKILL)
        output = await tools["fake__add"].run({"a": 1, "b": 2}, OWNER)
        assert output.is_error
        assert output.text in (
            "The connection to the MCP server fake was lost; try again later.",
            "The MCP server fake is not connected.",
        )


class Lines(logging.Handler):
    """Our own log lines as written, before the bot's redaction filter sees them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_an_http_server_gets_its_headers_and_no_secret_reaches_a_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    servers_config = config(
        tmp_path,
        {
            "web": {"url": url, "headers": {"Authorization": f"Bearer {HEADER_SECRET}"}},
            "wrong": {
                "url": url + "?key=url-secret",
                "headers": {"Authorization": "Bearer nope-nope"},
            },
        },
    )
    # The bot's logging: its redaction filter knows the MCP secrets (libraries log URLs).
    settings = load_settings(_env_file=None, mcp_config=str(servers_config.path))
    caplog.handler.addFilter(RedactSecrets(secrets_of(settings)))
    caplog.set_level(logging.DEBUG)
    ours = Lines()
    logging.getLogger("core.tools.mcp").addHandler(ours)
    try:
        with http_fake(port, token=HEADER_SECRET):
            async with McpServers(settings.mcp_config, FAST) as servers:
                web = tools_of(servers)["web__lookup_order"]
                assert (await web.run({"order_id": "B-2"}, OWNER)).text == "waiting for payment"
                failed = await tools_of(servers)["web__fail"].run({}, OWNER)
                assert failed.is_error and "out of order" in failed.text
                assert not by_name(servers, "wrong").tools()  # 401: the token is wrong
                await until(lambda: any("MCP server wrong: " in line for line in ours.lines))
    finally:
        logging.getLogger("core.tools.mcp").removeHandler(ours)
    assert "HTTP Request: POST" in caplog.text  # the library did log the URLs
    for secret in (HEADER_SECRET, "nope-nope", "url-secret"):
        assert secret not in caplog.text
        assert not any(secret in line for line in ours.lines)


async def test_an_http_server_restarted_is_reconnected(tmp_path: Path) -> None:
    port = free_port()
    servers_config = config(tmp_path, {"web": {"url": f"http://127.0.0.1:{port}/mcp"}})
    with contextlib.ExitStack() as fakes:  # the servers stop after the client has closed
        first = fakes.enter_context(http_fake(port))
        async with McpServers(servers_config, FAST) as servers:
            web = by_name(servers, "web")
            assert web.connections == 1 and web.tools()
            first.kill()  # it crashed
            first.wait(timeout=10)
            await until(lambda: not web.tools())  # the next listing finds it gone
            fakes.enter_context(http_fake(port))
            await until(lambda: web.connections == 2 and bool(web.tools()))
            add = tools_of(servers)["web__add"]
            assert (await add.run({"a": 20, "b": 22}, OWNER)).text == "42"

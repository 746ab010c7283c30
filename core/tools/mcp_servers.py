"""The MCP servers in MCP_CONFIG, kept connected for the bot's lifetime with the official `mcp`
SDK, each a ToolSource:

    async with McpServers(settings.mcp_config) as servers:
        sources = servers.sources()  # one per server; tools() is empty while it is down

A server that does not start, or drops, is logged in one line and retried in the background with
backoff while the others work; when it comes back its tools are offered again. A session's
lifetime is one `async with Client(...)` inside the server's own task, so closing the bot
closes the sessions and stops the stdio subprocesses the SDK's way (stdin closed, then
SIGTERM, then SIGKILL to the process group), leaving no zombie behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import math
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client._transport import TransportStreams
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from config.mcp_config import McpConfig, McpServerConfig
from core.tools.base import DEFAULT_OUTPUT_CHARS, Tool, ToolCallContext, ToolOutput, ToolSource
from core.tools.mcp_tools import McpTool, qualified_names, result_output

log = logging.getLogger("core.tools.mcp")
# The SDK imports jsonschema at the first tool call, blocking the loop ~0.1 s: do it now.
importlib.import_module("jsonschema")

CLIENT_INFO = types.Implementation(name="gpt-chat-bot", version="0.1.0")
REASON_CHARS = 160
URL_TAIL = re.compile(r"(https?://[^\s?#'\"]*)[?#][^\s'\"]*")  # a query may carry a token
URL_USER = re.compile(r"//[^/@\s'\"]+@")


@dataclass(frozen=True, slots=True)
class McpTiming:
    """How patient the client is; tests make these small instead of sleeping through them."""

    retry_first_s: float = 1.0  # the first retry's delay, doubled per failure...
    retry_max_s: float = 60.0  # ...up to this
    connect_timeout_s: float = 30.0  # start, handshake and first listing of one server
    start_wait_s: float = 10.0  # the bot's start waits this long for the servers, then goes on
    health_every_s: float = 15.0  # a listing this often notices a server that died while idle
    list_timeout_s: float = 10.0  # for that listing

    def retry_delay(self, failures: int) -> float:
        return min(self.retry_max_s, self.retry_first_s * 2.0 ** max(0, failures - 1))


class McpServer:
    """One configured server: its connection, kept up by `keep_connected`, and its tools."""

    def __init__(self, name: str, prefix: str, config: McpServerConfig, timing: McpTiming) -> None:
        self.name = name
        self.prefix = prefix
        self.config = config
        self._timing = timing
        self._client: Client | None = None
        self._tools: tuple[McpTool, ...] = ()
        # asyncio's, not anyio's: the bot builds these before its loop runs.
        self._wake = asyncio.Event()
        self._stop: anyio.CancelScope | None = None
        self._stopped = False
        self._was_up = False  # whether the last session got as far as listing the tools
        self.first_attempt = asyncio.Event()  # set once the first connection attempt ended
        self.connections = 0  # sessions opened so far

    # --- ToolSource ---

    def tools(self) -> Sequence[McpTool]:
        return self._tools

    def allowed_in(self, context: ToolCallContext) -> bool:
        chats = self.config.chats
        if chats == "all":
            return True
        if chats == "private":
            return context.is_private
        if chats == "owners":
            return context.is_private and context.is_owner
        key = context.key
        return str(key) in chats or f"{key.platform}:{key.chat_id}" in chats

    # --- calls ---

    async def call(self, tool_name: str, arguments: dict[str, Any]) -> ToolOutput:
        """Call a tool; every failure becomes an error result the model can pass on."""
        client = self._client
        if client is None:
            return ToolOutput(text=f"The MCP server {self.name} is not connected.", is_error=True)
        timeout = self.config.timeout
        try:
            # The SDK's own timeout cancels the request on the server; the outer one also
            # bounds a transport that stopped answering altogether.
            with anyio.fail_after(timeout + 1):
                result = await client.call_tool(tool_name, arguments, read_timeout_seconds=timeout)
        except TimeoutError:
            return self._timed_out(timeout)
        except MCPError as error:
            if error.code == types.REQUEST_TIMEOUT:
                return self._timed_out(timeout)
            if error.code == types.CONNECTION_CLOSED:
                return self._lost()
            return ToolOutput(text=f"The tool failed: {self.scrub(error.message)}", is_error=True)
        except ValidationError:
            return ToolOutput(text="The tool answered something unreadable.", is_error=True)
        except (OSError, anyio.ClosedResourceError, anyio.BrokenResourceError, httpx2.HTTPError):
            return self._lost()
        except Exception as error:  # e.g. a server asking the user for input the bot cannot give
            log.warning("MCP server %s: %s failed: %s", self.name, tool_name, self._reason(error))
            return ToolOutput(text="The tool failed.", is_error=True)
        output = result_output(result, limit=4 * DEFAULT_OUTPUT_CHARS)
        # A server may echo its own credentials; they are ours to keep out of the chat.
        text = output.text
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        return dataclasses.replace(output, text=text) if text != output.text else output

    def _timed_out(self, timeout: float) -> ToolOutput:
        return ToolOutput(text=f"The tool did not answer within {timeout:g} s.", is_error=True)

    def _lost(self) -> ToolOutput:
        self._wake.set()  # check the connection now rather than at the next listing
        return ToolOutput(
            text=f"The connection to the MCP server {self.name} was lost; try again later.",
            is_error=True,
        )

    # --- the connection's lifetime ---

    def stop(self) -> None:
        self._stopped = True
        if self._stop is not None:
            self._stop.cancel()

    async def keep_connected(self) -> None:
        """Connect, serve until the connection is lost, wait, connect again; until stopped."""
        failures = 0
        last_reason = ""
        self._stop = anyio.CancelScope()
        if self._stopped:
            self._stop.cancel()
        with self._stop:
            while True:
                reason = await self._one_session()
                self.first_attempt.set()
                failures = 1 if self._was_up else failures + 1
                delay = self._timing.retry_delay(failures)
                # The same failure again (a server down for the night) is not news.
                level = logging.DEBUG if reason == last_reason and failures > 1 else logging.WARNING
                log.log(level, "MCP server %s: %s; retrying in %g s", self.name, reason, delay)
                last_reason = reason
                await anyio.sleep(delay)

    async def _one_session(self) -> str:
        """One session from connect to loss; why it ended, in a short line with no secret."""
        self._was_up = False
        try:
            with anyio.CancelScope() as connecting:
                connecting.deadline = anyio.current_time() + self._timing.connect_timeout_s
                async with Client(
                    self._transport(),
                    cache=None,  # a list-changed notice must fetch the new listing
                    message_handler=self._on_message,
                    client_info=CLIENT_INFO,
                ) as client:
                    await self._list_tools(client)
                    connecting.deadline = math.inf
                    self._client = client
                    self._was_up = True
                    self.connections += 1
                    self.first_attempt.set()
                    log.info("MCP server %s: connected, %d tools", self.name, len(self._tools))
                    async with anyio.create_task_group() as session_tasks:
                        session_tasks.start_soon(self._listen_for_changes, client)
                        await self._watch(client)
            return f"no answer within {self._timing.connect_timeout_s:g} s"
        except Exception as error:
            return self._reason(error)
        finally:
            self._client = None
            self._tools = ()

    def _transport(self) -> Any:
        config = self.config
        if config.url is not None:
            return self._http_transport(config.url)
        assert config.command is not None
        return StdioServerParameters(
            command=config.command,
            args=list(config.args),
            env={name: value.get_secret_value() for name, value in config.env.items()},
            cwd=config.cwd,
        )

    @contextlib.asynccontextmanager
    async def _http_transport(self, url: str) -> AsyncIterator[TransportStreams]:
        headers = {name: value.get_secret_value() for name, value in self.config.headers.items()}
        async with (
            create_mcp_http_client(headers=headers) as http,
            streamable_http_client(url, http_client=http) as streams,
        ):
            yield streams

    async def _list_tools(self, client: Client) -> None:
        listed: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(100):  # a server that pages forever does not hang the bot
            page = await client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        names = qualified_names(self.prefix, [tool.name for tool in listed])
        self._tools = tuple(
            McpTool(self.name, self.config, tool, name, self.call)
            for tool, name in zip(listed, names, strict=True)
        )

    async def _watch(self, client: Client) -> None:
        """Until the connection fails: list the tools now and then, and when the server says
        they changed. The listing doubles as the health check (`ping` is gone from the
        2026 protocol) and finds changes on servers that cannot notify."""
        while True:
            with anyio.move_on_after(self._timing.health_every_s):
                await self._wake.wait()
            self._wake.clear()
            before = [tool.spec.name for tool in self._tools]
            with anyio.fail_after(self._timing.list_timeout_s):
                await self._list_tools(client)
            if [tool.spec.name for tool in self._tools] != before:
                log.info("MCP server %s: tools changed, %d now", self.name, len(self._tools))

    async def _listen_for_changes(self, client: Client) -> None:
        """A 2026 server tells of new tools on a `subscriptions/listen` stream (older ones
        send a notification, which `_on_message` gets). Without either, the periodic
        listing still finds them."""
        try:
            async with client.listen(tools_list_changed=True) as changes:
                async for _ in changes:
                    self._wake.set()
        except Exception as error:  # not offered, or the connection ended: _watch sees to it
            log.debug("MCP server %s: no change stream (%s)", self.name, type(error).__name__)

    async def _on_message(self, message: Any) -> None:
        # A new listing, or a transport fault: either way, list the tools again now.
        if isinstance(message, types.ToolListChangedNotification | Exception):
            self._wake.set()

    def _reason(self, error: BaseException) -> str:
        while isinstance(error, BaseExceptionGroup) and error.exceptions:
            error = error.exceptions[0]
        if isinstance(error, MCPError):
            text = error.message
        elif isinstance(error, TimeoutError):
            text = "no answer in time"
        else:
            text = str(error) or "failed"
        return f"{type(error).__name__}: {self.scrub(text)}"

    def scrub(self, text: str) -> str:
        """`text` on one short line without this server's secrets or a URL's query."""
        for secret in self.config.secrets():
            text = text.replace(secret, "***")
        text = URL_USER.sub("//***@", URL_TAIL.sub(r"\1?…", text))
        text = " ".join(text.split())
        return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


if TYPE_CHECKING:  # mypy checks that both keep the contract of core/tools/base.py

    def _keeps_the_contract(server: McpServer, tool: McpTool) -> tuple[ToolSource, Tool]:
        return server, tool


class McpServers:
    """Every server of MCP_CONFIG, each kept connected by a task of its own."""

    def __init__(self, config: McpConfig, timing: McpTiming | None = None) -> None:
        self._timing = timing or McpTiming()
        self._servers = [
            McpServer(name, config.prefixes[name], entry, self._timing)
            for name, entry in config.servers.items()
        ]
        self._tasks: list[asyncio.Task[None]] = []

    def sources(self) -> list[McpServer]:
        return list(self._servers)

    async def __aenter__(self) -> McpServers:
        self._tasks = [
            asyncio.create_task(server.keep_connected(), name=f"mcp:{server.name}")
            for server in self._servers
        ]
        # Start with the servers that answer at once; a slow one joins when it is up.
        waits = [asyncio.ensure_future(server.first_attempt.wait()) for server in self._servers]
        if waits:
            await asyncio.wait(waits, timeout=self._timing.start_wait_s)
            for wait in waits:
                wait.cancel()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for server in self._servers:
            server.stop()  # anyio's own cancellation, so the SDK's shielded shutdown runs
        if self._tasks:
            # The SDK's shutdown is bounded (stdin close 2 s, SIGTERM 2 s, SIGKILL 2 s).
            _done, pending = await asyncio.wait(self._tasks, timeout=10)
            for task in pending:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

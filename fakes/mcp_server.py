"""A small MCP server written with the official `mcp` SDK, for the MCP client's tests and for
trying MCP_CONFIG without a real server.

    python -m fakes.mcp_server                       # stdio (what an MCP client spawns)
    python -m fakes.mcp_server --http --port 8765    # Streamable HTTP at http://127.0.0.1:8765/mcp

Over HTTP, when FAKE_MCP_TOKEN is set, every request must carry `Authorization: Bearer <it>`
(to test that the client sends the configured headers); others get 401.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.types import Image

TOKEN_ENV = "FAKE_MCP_TOKEN"
ORDERS = {"A-1": "shipped on Monday", "B-2": "waiting for payment"}
# The smallest valid PNG: one transparent pixel.
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def build_server() -> MCPServer[Any]:
    """The fake's tools: ordinary ones, a slow one, a failing one, one that tells whether an
    environment variable reached it (never its value), and one answering a picture."""
    server: MCPServer[Any] = MCPServer("fake-mcp", log_level="WARNING")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> str:
        return str(a + b)

    @server.tool(description="Look up an order's status by its id, e.g. A-1.")
    def lookup_order(order_id: str) -> str:
        return ORDERS.get(order_id, f"no order {order_id}")

    @server.tool(description="Wait this many seconds, then answer.")
    async def slow(seconds: float) -> str:
        await asyncio.sleep(seconds)
        return f"waited {seconds}s"

    @server.tool(description="Always fails.")
    def fail(reason: str = "out of order") -> str:
        raise ToolError(f"the tool broke: {reason}")

    @server.tool(description="The server's process id (tests kill it to test reconnecting).")
    def pid() -> str:
        return str(os.getpid())

    @server.tool(description="Whether an environment variable is set (never its value).")
    def env_present(name: str) -> str:
        return "set" if os.environ.get(name) else "not set"

    @server.tool(description="Print an environment variable's value (to test redaction).")
    def echo_env(name: str) -> str:
        return os.environ.get(name, "")

    @server.tool(description="Add a tool named `late` and tell the client its tools changed.")
    async def grow(ctx: Context[Any]) -> str:
        server.add_tool(lambda: "late ok", name="late", description="Added while running.")
        await ctx.notify_tools_changed()  # to 2026 clients listening for changes
        with contextlib.suppress(Exception):  # to older clients, on the session
            await ctx.request_context.session.send_tool_list_changed()
        return "grown"

    @server.tool(description="A picture and a caption.", structured_output=False)
    def picture() -> list[Any]:
        return ["a red dot", Image(data=PIXEL_PNG, format="png")]

    @server.tool(name="dotted.name tool", description="A tool whose name is not OpenAI-safe.")
    def dotted() -> str:
        return "dotted ok"

    return server


def _require_token(app: Any, token: str) -> Any:
    """ASGI middleware: 401 unless the request carries the expected bearer token."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"authorization") != expected:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"unauthorized"})
            return
        await app(scope, receive, send)

    return guarded


async def serve_http(server: MCPServer[Any], host: str, port: int) -> None:
    import uvicorn

    app: Any = server.streamable_http_app(host=host)
    token = os.environ.get(TOKEN_ENV)
    if token:
        app = _require_token(app, token)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve a fake MCP server.")
    parser.add_argument("--http", action="store_true", help="Streamable HTTP instead of stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    # Quiet on stderr (the bot's own stderr, for a stdio server): the SDK warns about the
    # deliberately odd tool name and logs each request at INFO.
    logging.getLogger("mcp").setLevel(logging.ERROR)
    server = build_server()
    if args.http:
        asyncio.run(serve_http(server, args.host, args.port))
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()

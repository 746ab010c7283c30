"""What the MCP tests share: a call context, a fake MCP server over HTTP in a subprocess, and
waiting for a condition with a generous bound instead of sleeping a fixed time."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from core.boundary import ConversationKey
from core.tools.base import ToolCallContext
from core.tools.mcp_servers import McpTiming

# Small delays so retries and health checks happen within a test; the waits below are long.
FAST = McpTiming(
    retry_first_s=0.05, retry_max_s=0.2, connect_timeout_s=30, health_every_s=0.2, list_timeout_s=10
)
PRIVATE_CHAT = ConversationKey("telegram", "42")
FAKE_SERVER = [sys.executable, "-m", "fakes.mcp_server"]


def context(
    key: ConversationKey = PRIVATE_CHAT,
    *,
    is_private: bool = False,
    is_owner: bool = False,
) -> ToolCallContext:
    return ToolCallContext(
        key=key,
        user_id="42",
        is_private=is_private,
        is_owner=is_owner,
        timezone="UTC",
        now=datetime(2026, 12, 7, tzinfo=UTC),
    )


async def until(condition: Callable[[], bool], within_s: float = 30) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def http_fake(port: int, token: str = "") -> Iterator[subprocess.Popen[bytes]]:
    """The fake MCP server over Streamable HTTP, up until the block ends."""
    env = dict(os.environ, FAKE_MCP_TOKEN=token)
    process = subprocess.Popen(
        [*FAKE_SERVER, "--http", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # uvicorn waits for open streams to end
            process.kill()
            process.wait(timeout=10)


def alive(pid: int) -> bool:
    """Whether a process exists, a zombie counting as existing."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True

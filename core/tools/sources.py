"""The tool sources the settings name and that need opening: the web tools (their HTTP
sessions) and the MCP servers of MCP_CONFIG (their connections), open for the bot's lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from config.settings import Settings
from core.tools.base import ToolSource
from core.tools.web_tools import web_tools


@asynccontextmanager
async def opened_tool_sources(settings: Settings) -> AsyncIterator[list[ToolSource]]:
    """The web tools, then one source per MCP server; closed (sessions, subprocesses) on exit."""
    async with web_tools(settings) as web:
        if not settings.mcp_config.servers:
            yield [web]
            return
        # The MCP SDK (and jsonschema) take about half a second to import: only when used.
        from core.tools.mcp_servers import McpServers

        async with McpServers(settings.mcp_config) as mcp:
            yield [web, *mcp.sources()]

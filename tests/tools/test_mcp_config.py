"""MCP_CONFIG: the mcpServers file other MCP clients read, checked at start in one line per
problem that names the file and the entry and never shows an env or header value; and the
per-server settings as the tool loop sees them (names, chats, confirmation)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest

from config.mcp_config import McpConfig, McpServerConfig, parse_mcp_config, server_prefix
from config.settings import ConfigError, load_settings
from core.boundary import ConversationKey
from core.tools.mcp_servers import McpServer, McpServers, McpTiming
from core.tools.mcp_tools import McpTool, qualified_names, result_output
from tests.tools.mcp_helpers import context

ENV_SECRET = "ghp_env-secret-value-1234"
HEADER_SECRET = "Bearer header-secret-5678"


def write(tmp_path: Path, servers: Any, name: str = "mcp.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"mcpServers": servers}))
    return str(path)


def test_the_claude_desktop_format_is_read_with_our_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        {
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": ENV_SECRET},
                "confirm": ["create_issue"],
                "timeout": 45,
            },
            "docs": {
                "type": "http",
                "url": "https://example.com/mcp",
                "headers": {"Authorization": HEADER_SECRET},
                "chats": "all",
                "acts_outside": False,
            },
            "old": {"command": "old-server", "disabled": True},
        },
    )
    monkeypatch.setenv("MCP_CONFIG", path)
    config = load_settings(_env_file=None).mcp_config
    assert list(config.servers) == ["github", "docs"]  # a disabled entry does not run
    github, docs = config.servers["github"], config.servers["docs"]
    assert (github.command, github.args, github.timeout, github.chats) == (
        "npx",
        ("-y", "@modelcontextprotocol/server-github"),
        45,
        "owners",  # the default: an MCP server may act on the owner's accounts
    )
    assert github.env["GITHUB_PERSONAL_ACCESS_TOKEN"].get_secret_value() == ENV_SECRET
    assert (docs.url, docs.chats, docs.acts_outside, docs.is_http) == (
        "https://example.com/mcp",
        "all",
        False,
        True,
    )
    assert ENV_SECRET not in repr(config) and HEADER_SECRET not in repr(config)


def test_no_file_means_no_servers() -> None:
    assert load_settings(_env_file=None).mcp_config.servers == {}


@pytest.mark.parametrize(
    ("servers", "expected"),
    [
        ({"gh": {"args": ["x"]}}, "mcpServers.gh: give either command"),
        ({"gh": {"command": "x", "url": "https://a"}}, "mcpServers.gh: give either command"),
        ({"gh": {"url": "ftp://a"}}, "mcpServers.gh: url must start with http"),
        ({"gh": {"url": "https://a", "type": "sse"}}, "SSE transport is not supported"),
        ({"gh": {"command": "x", "chats": "everyone"}}, "mcpServers.gh: chats: Input should be"),
        ({"gh": {"command": "x", "chats": []}}, "chats: an empty list"),
        ({"gh": {"command": "x", "chats": ["123"]}}, "chats: '123' is not a chat such as"),
        ({"gh": {"command": "x", "timeout": 0}}, "mcpServers.gh: timeout: Input should be"),
        ({"gh": {"command": "x", "confrim": True}}, "mcpServers.gh: confrim: Extra inputs"),
        ({"gh": {"command": "x", "env": {"A B": ENV_SECRET}}}, "'A B' is not an environment"),
        ({"gh": {"command": "x", "env": {"TOKEN": 12345678}}}, "mcpServers.gh: env.TOKEN: Input"),
        ({"gh": {"url": "https://a", "headers": {"X": ["v"]}}}, "mcpServers.gh: headers.X: Input"),
        ({"gh": {"command": "x", "headers": {"A": HEADER_SECRET}}}, "headers go with url"),
        ({"a.b": {"command": "x"}, "a b": {"command": "y"}}, "would be named like those of 'a.b'"),
        ({"...": {"command": "x"}}, "'...' needs a letter or digit"),
        ([], 'must be {"mcpServers"'),
    ],
)
def test_a_bad_entry_stops_the_start_in_one_line_naming_file_and_entry(
    tmp_path: Path, servers: Any, expected: str
) -> None:
    path = write(tmp_path, servers)
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, mcp_config=path)
    message = str(raised.value)
    assert message.startswith(f"MCP_CONFIG: {path}"), message
    assert expected in message and "\n" not in message
    assert ENV_SECRET not in message and HEADER_SECRET not in message
    assert "12345678" not in message and "['v']" not in message


def test_a_broken_file_is_named_without_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {"gh": {"command": "x", "env": {"T": "' + ENV_SECRET + '"}')
    with pytest.raises(ConfigError) as raised:
        load_settings(_env_file=None, mcp_config=str(path))
    assert str(raised.value).startswith(f"MCP_CONFIG: {path} is not valid JSON")
    assert ENV_SECRET not in str(raised.value)
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(_env_file=None, mcp_config=str(tmp_path / "missing.json"))


def test_qualified_names_are_valid_for_openai_unique_and_stable() -> None:
    long = "x" * 80
    names = qualified_names(
        "github", ["create_issue", "get.file contents", long, "get_file_contents"]
    )
    assert names[:2] == ["github__create_issue", "github__get_file_contents"]
    assert len(names[2]) == 64 and names[2].startswith("github__xxx")
    assert names[3].startswith("github__get_file_contents_") and names[3] != names[1]
    assert len(set(names)) == 4
    assert all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", name) for name in names)
    assert qualified_names("github", ["create_issue", "get.file contents", long]) == names[:3]
    # No "_" in a server's part, so "a_b" + "c" and "a" + "b_c" cannot meet.
    assert server_prefix("My Server_2") == "My-Server-2"


def server_with(config: McpServerConfig, tool_names: list[str]) -> tuple[McpServer, list[McpTool]]:
    server = McpServer("gh", "gh", config, McpTiming())
    listed = [types.Tool(name=name, input_schema={"type": "object"}) for name in tool_names]
    names = qualified_names("gh", tool_names)
    return server, [
        McpTool(server.name, config, tool, name, server.call)
        for tool, name in zip(listed, names, strict=True)
    ]


PRIVATE_OWNER = context(is_private=True, is_owner=True)
PRIVATE_USER = context(is_private=True, is_owner=False)
GROUP_OWNER = context(key=ConversationKey("telegram", "-100", "7"), is_owner=True)
DISCORD = context(key=ConversationKey("discord", "555"), is_owner=False)


@pytest.mark.parametrize(
    ("chats", "allowed"),
    [
        ("owners", [True, False, False, False]),
        ("private", [True, True, False, False]),
        ("all", [True, True, True, True]),
        (["telegram:-100"], [False, False, True, False]),  # a chat covers its topics
        (["telegram:-100/8", "discord:555"], [False, False, False, True]),
    ],
)
def test_chats_decides_where_a_server_may_be_used(chats: Any, allowed: list[bool]) -> None:
    server, _ = server_with(McpServerConfig.model_validate({"command": "x", "chats": chats}), [])
    contexts = [PRIVATE_OWNER, PRIVATE_USER, GROUP_OWNER, DISCORD]
    assert [server.allowed_in(each) for each in contexts] == allowed


def test_confirm_and_the_other_settings_reach_each_tools_spec() -> None:
    config = McpServerConfig.model_validate(
        {"command": "x", "confirm": ["delete_repo", "gh__merge"], "timeout": 7}
    )
    _, tools = server_with(config, ["delete_repo", "merge", "list_repos"])
    assert [tool.spec.needs_confirmation for tool in tools] == [True, True, False]
    assert {(tool.spec.timeout_s, tool.spec.acts_outside, tool.spec.source) for tool in tools} == {
        (7, True, "gh")
    }
    _, everything = server_with(
        McpServerConfig.model_validate({"command": "x", "confirm": True}), ["a", "b"]
    )
    assert all(tool.spec.needs_confirmation for tool in everything)
    _, nothing = server_with(McpServerConfig.model_validate({"command": "x"}), ["a"])
    assert not nothing[0].spec.needs_confirmation


async def test_a_call_while_disconnected_is_a_readable_error() -> None:
    _, tools = server_with(McpServerConfig.model_validate({"command": "x"}), ["a"])
    output = await tools[0].run({}, PRIVATE_OWNER)
    assert output.is_error and output.text == "The MCP server gh is not connected."
    assert parse_mcp_config("").servers == {}


def test_a_results_parts_become_text_for_the_model() -> None:
    result = types.CallToolResult(
        content=[
            types.TextContent(type="text", text="first"),
            types.ImageContent(type="image", data="aGVsbG8=", mime_type="image/png"),
            types.AudioContent(type="audio", data="aGk=", mime_type="audio/wav"),
            types.ResourceLink(type="resource_link", name="r", uri="file:///a.txt"),
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(uri="file:///b.txt", text="inside"),
            ),
            types.EmbeddedResource(
                type="resource",
                resource=types.BlobResourceContents(uri="file:///c.bin", blob="AAAA"),
            ),
        ],
        is_error=True,
    )
    output = result_output(result, limit=1000)
    assert output.is_error
    assert output.text.split("\n") == [
        "first",
        "[image: image/png, 5 bytes, not shown]",
        "[audio: audio/wav, 2 bytes, not played]",
        "[resource: file:///a.txt]",
        "[resource: file:///b.txt]",
        "inside",
        "[resource: file:///c.bin, binary, not shown]",
    ]
    structured = types.CallToolResult(content=[], structured_content={"temp": 21})
    assert result_output(structured, limit=1000).text == '{"temp": 21}'
    assert result_output(types.CallToolResult(content=[]), limit=1000).text == "(no output)"
    huge = types.CallToolResult(content=[types.TextContent(type="text", text="x" * 10_000)] * 500)
    assert len(result_output(huge, limit=64_000).text) == 64_000  # not 5 MB copied whole


def test_a_log_line_is_scrubbed_of_secrets_and_url_queries() -> None:
    url = "https://user:pa55word@mcp.example.com/mcp?token=abc123xyz"
    config = McpServerConfig.model_validate({"url": url, "headers": {"X-Key": HEADER_SECRET}})
    server = McpServer("docs", "docs", config, McpTiming())
    line = server.scrub(f"failed for {url} with {HEADER_SECRET}\nand more")
    assert line == "failed for https://***@mcp.example.com/mcp?… with *** and more"
    assert len(server.scrub("x" * 500)) == 160


async def test_no_servers_open_and_close_at_once() -> None:
    async with McpServers(McpConfig()) as servers:
        assert servers.sources() == []

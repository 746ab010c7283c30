"""MCP servers the owner plugs in: the JSON file MCP_CONFIG names, in the `mcpServers` format
other MCP clients read (Claude Desktop, Cursor), plus a few settings of ours per entry.

    {"mcpServers": {
        "github": {"command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
                   "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "..."},
                   "chats": "owners", "timeout": 30, "confirm": ["create_issue"]},
        "docs":   {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ..."},
                   "chats": "all", "acts_outside": false}}}

`env` and `headers` values are secrets: held as SecretStr, never shown in an error or a log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from config.providers import ENV_NAME, HEADER_NAME

# What `chats` may say besides a list of conversations ("telegram:123", "discord:456").
CHAT_SCOPES = ("owners", "private", "all")
DEFAULT_MCP_TIMEOUT_S = 30.0
# A server's name as the model sees it, before "__tool": no "_", so the first "__" of a
# qualified name always ends the server's part and two servers can never share a name.
PREFIX_CHARS = re.compile(r"[^A-Za-z0-9-]+")
PREFIX_MAX = 20
# The transports other clients' files name; "sse" is the old HTTP transport, not offered here.
STDIO_TYPES = ("stdio",)
HTTP_TYPES = ("http", "streamable-http", "streamableHttp", "streamable_http")


class McpServerConfig(BaseModel):
    """One entry of `mcpServers`: a stdio command or a Streamable HTTP URL, and our settings."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    type: str | None = None  # other clients' optional hint: "stdio" or "http"
    command: str | None = Field(None, min_length=1)
    args: tuple[str, ...] = ()
    env: dict[str, SecretStr] = Field(default_factory=dict)
    cwd: str | None = None
    url: str | None = None
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    # Ours: who may use it, how long a call may take, which calls need a Yes.
    chats: Literal["owners", "private", "all"] | tuple[str, ...] = "owners"
    timeout: float = Field(DEFAULT_MCP_TIMEOUT_S, gt=0, le=3600)
    confirm: bool | tuple[str, ...] = False
    acts_outside: bool = True
    disabled: bool = False  # Cursor's and Cline's switch: the entry stays, the server does not run

    @model_validator(mode="after")
    def _one_transport(self) -> McpServerConfig:
        if self.type == "sse":
            raise ValueError("the SSE transport is not supported: give a Streamable HTTP url")
        if self.type is not None and self.type not in STDIO_TYPES + HTTP_TYPES:
            raise ValueError(f"type must be 'stdio' or 'http', not '{self.type[:20]}'")
        if (self.command is None) == (self.url is None):
            raise ValueError("give either command (a stdio server) or url (a Streamable HTTP one)")
        if self.url is not None:
            if not self.url.startswith(("http://", "https://")):
                raise ValueError("url must start with http:// or https://")
            if self.args or self.env or self.cwd:
                raise ValueError("args, env and cwd go with command, not with url")
        if self.command is not None and self.headers:
            raise ValueError("headers go with url, not with command")
        for name in self.env:
            if not ENV_NAME.fullmatch(name):
                raise ValueError(f"env: '{name[:40]}' is not an environment variable name")
        for name in self.headers:
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"headers: '{name[:40]}' is not a header name")
        if isinstance(self.chats, tuple) and not self.chats:
            raise ValueError("chats: an empty list lets no chat use it; remove the server instead")
        for chat in self.chats if isinstance(self.chats, tuple) else ():
            platform, _, chat_id = chat.partition(":")
            if not platform or not chat_id:
                raise ValueError(f"chats: '{chat[:40]}' is not a chat such as telegram:123")
        return self

    @property
    def is_http(self) -> bool:
        return self.url is not None

    def needs_confirmation(self, tool_name: str, qualified_name: str) -> bool:
        if isinstance(self.confirm, bool):
            return self.confirm
        return tool_name in self.confirm or qualified_name in self.confirm

    def secrets(self) -> tuple[str, ...]:
        """Every secret value of this entry, to scrub from anything logged: env and header
        values (and a header's credentials without "Bearer "), and what a URL may carry (a
        password, query values such as ?key=...)."""
        values = [value.get_secret_value() for value in self.env.values()]
        for header in self.headers.values():
            values += [header.get_secret_value(), header.get_secret_value().split(" ")[-1]]
        if self.url is not None:
            parts = urlsplit(self.url)
            values.append(parts.password or "")
            values += [value for _, value in parse_qsl(parts.query)]
        return tuple(value for value in values if len(value) >= 4)


@dataclass(frozen=True, slots=True)
class McpConfig:
    """The parsed MCP_CONFIG: servers by their name in the file (disabled ones left out)."""

    path: Path | None = None
    servers: Mapping[str, McpServerConfig] = field(default_factory=dict)
    prefixes: Mapping[str, str] = field(default_factory=dict)  # server name -> name for the model


def server_prefix(name: str) -> str:
    """A server's name as the model sees it: letters, digits and "-" only, at most 20."""
    return PREFIX_CHARS.sub("-", name).strip("-")[:PREFIX_MAX].strip("-")


def parse_mcp_config(value: Any) -> McpConfig:
    """MCP_CONFIG as given: the path of a JSON file ("" for none). ValueError with one line
    naming the file and the entry, never a value from `env` or `headers`."""
    if isinstance(value, McpConfig):
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        return McpConfig()
    if not isinstance(value, str | Path):
        raise ValueError("must be the path of a JSON file")
    path = Path(value).expanduser() if isinstance(value, Path) else Path(value.strip()).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read {path} ({error.strerror})") from None
    except json.JSONDecodeError as error:
        # The message names the place only: the text around it may be a secret.
        raise ValueError(f"{path} is not valid JSON ({error.msg}, line {error.lineno})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    if not isinstance(data, dict) or not isinstance(data.get("mcpServers"), dict):
        raise ValueError(f'{path}: must be {{"mcpServers": {{"NAME": {{...}}, ...}}}}')
    servers: dict[str, McpServerConfig] = {}
    prefixes: dict[str, str] = {}
    for name, entry in data["mcpServers"].items():
        prefix = server_prefix(name)
        if not prefix:
            raise ValueError(f"{path}: '{name[:32]}' needs a letter or digit in its name")
        try:
            config = McpServerConfig.model_validate(entry)
        except ValidationError as error:
            raise ValueError(f"{path}: mcpServers.{name[:32]}: {_first_problem(error)}") from None
        if config.disabled:
            continue
        taken = next((other for other, used in prefixes.items() if used == prefix), None)
        if taken is not None:
            raise ValueError(
                f"{path}: mcpServers.{name[:32]}: its tools would be named like those of "
                f"'{taken[:32]}' ({prefix}__...); rename one of them"
            )
        servers[name] = config
        prefixes[name] = prefix
    return McpConfig(path=path, servers=servers, prefixes=prefixes)


def _first_problem(error: ValidationError) -> str:
    first = error.errors()[0]
    # Union members appear in the location as "literal[...]" or "tuple[str, ...]": not for people.
    location = [str(part) for part in first["loc"] if "[" not in str(part)]
    if location[:1] in (["env"], ["headers"]) and len(location) > 1:
        location = location[:2]  # the variable or header's name, never what pydantic saw in it
    where = ".".join(location)
    reason = first["msg"].removeprefix("Value error, ")
    return f"{where}: {reason}" if where else reason

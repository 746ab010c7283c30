"""Model providers side by side: what the owner declares in PROVIDERS (a TOML file, or the same
as JSON in the variable itself), checked at start.

Each provider has a name, an OpenAI-compatible base URL, the NAME of the environment variable
that holds its key (never the key itself), optional default headers, timeout and retries, and
the model names or patterns it serves. The default provider, `openai`, is not declared here: it
is OPENAI_API_KEY / OPENAI_BASE_URL / OPENAI_TIMEOUT_S / OPENAI_MAX_RETRIES, as before.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_PROVIDER = "openai"
PROVIDER_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# A model name or an fnmatch pattern of them ("llama*", "meta-llama/*").
MODEL_PATTERN = re.compile(r"[\w.:/@+*?\[\]!-]{1,128}")
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")  # an HTTP token


class ProviderConfig(BaseModel):
    """One declared provider, as written in PROVIDERS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    api_key_env: str = ""  # "" for servers that need no key (a local Ollama)
    headers: dict[str, str] = Field(default_factory=dict)
    timeout_s: float | None = Field(None, gt=0)  # None: OPENAI_TIMEOUT_S
    max_retries: int | None = Field(None, ge=0, le=10)  # None: OPENAI_MAX_RETRIES
    models: tuple[str, ...] = ()  # names or patterns routed to this provider

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if value and not ENV_NAME.fullmatch(value):
            # Most likely the key itself was pasted here: say so without repeating it.
            raise ValueError("must be the NAME of an environment variable (never the key)")
        return value

    @field_validator("headers")
    @classmethod
    def _header_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not HEADER_NAME.fullmatch(name):
                raise ValueError(f"'{name[:40]}' is not a header name")
            if name.lower() == "authorization":
                raise ValueError("Authorization comes from api_key_env, not from headers")
        return value

    @field_validator("models")
    @classmethod
    def _patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not MODEL_PATTERN.fullmatch(pattern):
                raise ValueError(f"'{pattern[:40]}' is not a model name or pattern")
        return value


def parse_providers(value: Any) -> dict[str, ProviderConfig]:
    """PROVIDERS as given: a path to a TOML file with `[providers.NAME]` tables, or JSON
    (`{"NAME": {...}}`); "" for none. ValueError with one line saying what is wrong."""
    if isinstance(value, Mapping):
        data: Any = value
    elif not isinstance(value, str) or not value.strip():
        return {}
    elif value.lstrip().startswith("{"):
        try:
            data = json.loads(value)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON ({error.msg}, column {error.colno})") from None
    else:
        path = Path(value.strip()).expanduser()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8")).get("providers", {})
        except OSError as error:
            raise ValueError(f"cannot read {path} ({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not valid TOML ({error})") from None
    if not isinstance(data, Mapping):
        raise ValueError("must map provider names to their settings")
    providers: dict[str, ProviderConfig] = {}
    for name, entry in data.items():
        if not isinstance(name, str) or not PROVIDER_NAME.fullmatch(name):
            raise ValueError(f"'{str(name)[:32]}' is not a provider name (a-z, 0-9, _ and -)")
        if name == DEFAULT_PROVIDER:
            raise ValueError(
                f"'{DEFAULT_PROVIDER}' is the default provider: set it with OPENAI_API_KEY and "
                "OPENAI_BASE_URL instead"
            )
        try:
            providers[name] = ProviderConfig.model_validate(entry)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "settings"
            reason = first["msg"].removeprefix("Value error, ")
            raise ValueError(f"{name}.{where}: {reason}") from None
    return providers


def provider_api_key(config: ProviderConfig, env_file: Path | None = Path(".env")) -> str:
    """The provider's key, from the environment or the `.env` file; "" when not set."""
    if not config.api_key_env:
        return ""
    value = os.environ.get(config.api_key_env)
    if value is None and env_file is not None and env_file.is_file():
        value = dotenv_values(env_file).get(config.api_key_env)
    return value or ""

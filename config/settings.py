"""Settings from environment variables and an optional `.env` file.

Every variable is documented in `.env.example` and in the README's configuration table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.mcp_config import McpConfig, parse_mcp_config
from config.providers import ProviderConfig, parse_providers

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///gptbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# libpq's sslmode values, which hosted PostgreSQL URLs carry (Neon, Supabase, Render...).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

IdList = Annotated[frozenset[str], NoDecode]
MIN_CONSOLE_TOKEN = 16
SCRYPT_HASH = re.compile(r"scrypt:\d+:\d+:\d+:[A-Za-z0-9+/]+=*:[A-Za-z0-9+/]+=*")
# A model name as providers spell them; nothing else is stored or sent as a model.
MODEL_NAME = re.compile(r"[\w.:/@+-]{1,128}")


class ConfigError(Exception):
    """Bad configuration: one line per problem, each naming the variable and what to do."""

    prefix = "configuration error"
    exit_code = 2

    def __init__(self, *problems: str) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class StartupError(ConfigError):
    """The settings are valid but what they point at cannot be used (the database is down or
    refuses the login); one line per problem, naming the variable to check."""

    prefix = "cannot start"
    exit_code = 1


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    openai_api_key: SecretStr = SecretStr("")
    openai_base_url: str | None = None
    openai_timeout_s: float = Field(60.0, gt=0)
    openai_max_retries: int = Field(2, ge=0, le=10)
    # Other providers side by side with the default one (config/providers.py): a TOML file's
    # path, or the same as JSON.
    providers: Annotated[dict[str, ProviderConfig], NoDecode] = Field(default_factory=dict)
    # Some OpenAI-compatible servers reject unknown fields; let the owner switch it off.
    send_user_identifier: bool = True
    user_identifier_salt: SecretStr = SecretStr("")

    database_url: str = DEFAULT_DATABASE_URL
    # How long a storage call keeps retrying a locked or unreachable database before giving up.
    database_retry_s: float = Field(30.0, ge=0)
    retention_days: int = Field(0, ge=0)  # delete stored messages older than this; 0 keeps all
    # PostgreSQL connections per process: kept open, and opened beyond them under load (then
    # closed). Size N processes x (pool + overflow + 1 lock session) to the plan's limit.
    database_pool_size: int = Field(10, ge=1)
    database_max_overflow: int = Field(10, ge=0)
    # Several processes on PostgreSQL: how often each looks for received updates that no process
    # is handling (one that died), and takes them over.
    inbox_sweep_s: float = Field(2.0, gt=0)

    default_model: str = "gpt-4o-mini"
    # Models that non-owners may pick with /model: names, or * for any; empty = the priced catalog
    # plus what a custom server (OPENAI_BASE_URL) lists while no USD budget is on.
    allowed_models: IdList = frozenset()
    # Price (USD per 1M input or output tokens) of models the catalog has no price for; 0 = none,
    # and then such a model may not be picked by non-owners while a USD budget is on.
    unpriced_model_usd_per_1m: float = Field(0.0, ge=0)
    default_persona: str = ""  # empty: the catalog's own default
    max_personas_per_space: int = Field(50, ge=1)  # saved personas per chat or server
    max_persona_prompt_chars: int = Field(8000, ge=100)  # longest prompt /newpersona accepts
    model_context_window: int = Field(8192, ge=256)
    # The visible reply's cap for chats that set no max_tokens (capped at the model's maximum).
    default_reply_tokens: int = Field(2048, ge=16)
    # Room for a reasoning model's thinking, on top of the visible reply's cap; 0 = each model's
    # own allowance from config/models.toml.
    reasoning_tokens: int = Field(0, ge=0)
    # Seconds without a word of answer before "thinking…" is shown where the answer will come.
    thinking_preview_after_s: float = Field(3.0, ge=0)
    default_context_tokens: int = Field(8000, ge=64)
    # When the window overflows it is cut back to this share of the budget, so the prompt prefix
    # stays identical for many turns and the provider's prompt cache keeps hitting.
    window_low_watermark: float = Field(0.65, gt=0.1, le=1.0)

    telegram_bot_token: SecretStr = SecretStr("")
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr = SecretStr("")
    port: int = Field(8080, ge=1, le=65535)
    telegram_edit_interval_s: float = Field(1.0, ge=0.05)
    telegram_typing_interval_s: float = Field(4.0, gt=0)
    telegram_use_drafts: bool = True
    telegram_poll_timeout_s: float = Field(30.0, ge=0)
    # New messages per second for the whole bot (Telegram's ~30/s); 0 = no bot-wide cap.
    telegram_max_messages_per_s: int = Field(30, ge=0)

    discord_bot_token: SecretStr = SecretStr("")
    discord_guild_id: int | None = None
    discord_shard_count: int | None = Field(None, ge=1)
    discord_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    discord_manager_role: str = ""
    discord_edit_interval_s: float = Field(1.0, ge=0.2)
    discord_command_sync_file: Path = Path(".discord-commands.json")

    # How long replies in flight may run after SIGTERM before the process exits.
    shutdown_grace_s: float = Field(20.0, ge=0)

    allowed_users: IdList = frozenset()
    allowed_chats: IdList = frozenset()
    admin_users: IdList = frozenset()
    denied_users: IdList = frozenset()
    denied_chats: IdList = frozenset()

    # Abuse limits; 0 switches one off. Owners (ADMIN_USERS) are never limited.
    rate_limit_user_per_min: int = Field(0, ge=0)
    rate_limit_chat_per_min: int = Field(0, ge=0)
    rate_limit_user_commands_per_min: int = Field(20, ge=0)  # commands per user, apart from turns
    budget_user_daily_usd: float = Field(0.0, ge=0)
    budget_user_monthly_usd: float = Field(0.0, ge=0)
    budget_chat_daily_usd: float = Field(0.0, ge=0)
    budget_chat_monthly_usd: float = Field(0.0, ge=0)
    budget_user_daily_tokens: int = Field(0, ge=0)
    budget_user_monthly_tokens: int = Field(0, ge=0)
    budget_chat_daily_tokens: int = Field(0, ge=0)
    budget_chat_monthly_tokens: int = Field(0, ge=0)

    # Files and voice notes users send (issue 13): each can be turned off, each has a size cap.
    files_enabled: bool = True
    voice_enabled: bool = True
    transcription_model: str = "gpt-4o-mini-transcribe"
    max_file_mb: float = Field(10.0, gt=0, le=100)
    max_voice_mb: float = Field(25.0, gt=0, le=25)  # the transcription endpoint takes 25 MB
    max_voice_minutes: float = Field(10.0, ge=0)  # 0 = no limit
    # Images and speech the bot makes (issue 13 items 4, 5): chats pick within the catalog.
    image_generation_enabled: bool = True
    image_model: str = "gpt-image-1"
    image_size: str = ""  # "" = the model's default in config/models.toml
    image_quality: str = ""
    speech_enabled: bool = True
    tts_model: str = "gpt-4o-mini-tts"
    tts_voice: str = "alloy"
    # Function calling (issue 14): tools the model may call, per chat through /tools.
    tools_enabled: bool = True
    tools_max_rounds: int = Field(4, ge=1, le=32)
    tools_max_seconds: float = Field(60.0, gt=0)
    tools_confirm_timeout_s: float = Field(120.0, gt=0)
    media_out_dir: Path = Path("media-out")  # the console writes images and voice here
    images_enabled: bool = True  # photos go to models that read images
    max_image_mb: float = Field(20.0, gt=0, le=50)
    # Reminders (issue 14 item 2): set by the model's tool, delivered by the adapters.
    reminders_enabled: bool = True
    reminders_max_pending: int = Field(20, ge=1, le=1000)  # pending reminders per conversation

    # Web tools (issue 14): search through the owner's backend, and reading pages.
    searxng_url: str | None = None  # a self-hosted SearXNG with `json` in search.formats
    tavily_api_key: SecretStr = SecretStr("")
    tavily_base_url: str = "https://api.tavily.com"
    brave_api_key: SecretStr = SecretStr("")
    brave_base_url: str = "https://api.search.brave.com"
    # auto: the first configured of SearXNG, Tavily, Brave; none configured = no search tool.
    # Declared after the URLs and keys: its validator reads them.
    web_search_backend: Literal["auto", "searxng", "tavily", "brave", "off"] = "auto"
    web_search_results: int = Field(5, ge=1, le=10)
    web_search_timeout_s: float = Field(10.0, gt=0, le=120)
    web_page_tool: bool = True  # read_web_page needs no key: on unless turned off
    web_fetch_max_kb: int = Field(2048, ge=16, le=51200)  # bytes read of a page, streamed
    web_fetch_timeout_s: float = Field(15.0, gt=0, le=120)  # the whole fetch, redirects included
    web_fetch_max_chars: int = Field(12_000, ge=500, le=100_000)  # text handed to the model
    # Test-only: lets the page reader reach loopback (the tests' local site). Every other
    # private, link-local or reserved address stays refused.
    web_fetch_allow_loopback: bool = False

    # MCP servers whose tools the model may call (config/mcp_config.py): the path of a JSON file
    # in the `mcpServers` format of Claude Desktop and Cursor; "" = none.
    mcp_config: Annotated[McpConfig, NoDecode] = Field(default_factory=McpConfig)

    # The owner's web console (bots/web_console), served on PORT: off unless a secret is set.
    web_console_token: SecretStr = SecretStr("")
    # Or (and) a password, kept as its scrypt hash: `python -m bots console-password` makes it.
    web_console_password_hash: SecretStr = SecretStr("")
    # Proxies whose X-Forwarded-Proto / X-Forwarded-For are believed (ids: IP addresses, or * for
    # a PaaS router in front of every request); the session cookie is Secure behind HTTPS.
    web_console_trusted_proxies: IdList = frozenset()
    web_console_transcripts: bool = True  # false: the console shows no message of any chat
    web_console_session_hours: float = Field(12.0, gt=0, le=24 * 30)

    log_level: str = "INFO"
    tiktoken_cache_dir: Path | None = None

    @field_validator(
        "allowed_users",
        "allowed_chats",
        "admin_users",
        "denied_users",
        "denied_chats",
        "allowed_models",
        "web_console_trusted_proxies",
        mode="before",
    )
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("web_console_token")
    @classmethod
    def _long_console_token(cls, value: SecretStr) -> SecretStr:
        # The console shows every chat: a guessable secret would give them all away.
        if value.get_secret_value() and len(value.get_secret_value()) < MIN_CONSOLE_TOKEN:
            raise ValueError(
                f"must be at least {MIN_CONSOLE_TOKEN} characters (e.g. from "
                "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`)"
            )
        return value

    @field_validator("web_console_password_hash")
    @classmethod
    def _scrypt_hash(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value() and not SCRYPT_HASH.fullmatch(value.get_secret_value()):
            raise ValueError("is not a hash from `python -m bots console-password`")
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, value: Any) -> Any:
        return parse_providers(value)

    @field_validator("mcp_config", mode="before")
    @classmethod
    def _mcp_config(cls, value: Any) -> Any:
        return parse_mcp_config(value)

    @field_validator("allowed_models")
    @classmethod
    def _model_names(cls, value: frozenset[str]) -> frozenset[str]:
        for name in value:
            if name != "*" and not MODEL_NAME.fullmatch(name):
                raise ValueError(f"'{name[:40]}' is not a model name")
        return value

    @field_validator("default_model", "transcription_model", "image_model", "tts_model")
    @classmethod
    def _model_name(cls, value: str) -> str:
        if not MODEL_NAME.fullmatch(value):
            raise ValueError("must be a model name (letters, digits, . : / @ + - _; at most 128)")
        return value

    @field_validator("allowed_users", "allowed_chats")
    @classmethod
    def _star_is_everyone(cls, value: frozenset[str]) -> frozenset[str]:
        # `*` reads as "everyone" (an empty list means the same); as an id it would match no one.
        return frozenset() if "*" in value else value

    @field_validator("admin_users")
    @classmethod
    def _no_star_owner(cls, value: frozenset[str]) -> frozenset[str]:
        if "*" in value:
            raise ValueError("list the owners' ids; '*' would make everyone an owner")
        return value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _split_shards(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            return tuple(int(part) for part in parts) if parts else None
        return value

    @field_validator("discord_guild_id", "discord_shard_count", "tiktoken_cache_dir", mode="before")
    @classmethod
    def _empty_int_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        upper = value.upper()
        if upper not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return upper

    @field_validator(
        "openai_base_url", "telegram_base_url", "telegram_webhook_url", "searxng_url", mode="before"
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator(
        "openai_base_url",
        "telegram_base_url",
        "telegram_webhook_url",
        "searxng_url",
        "tavily_base_url",
        "brave_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("web_search_backend", mode="before")
    @classmethod
    def _backend_lower(cls, value: Any) -> Any:
        return (value or "auto").strip().lower() if isinstance(value, str) else value

    @field_validator("web_search_backend")
    @classmethod
    def _backend_configured(cls, value: str, info: ValidationInfo) -> str:
        needs = {"searxng": "searxng_url", "tavily": "tavily_api_key", "brave": "brave_api_key"}
        field = needs.get(value)
        if field is None:
            return value
        setting = info.data.get(field)
        if isinstance(setting, SecretStr):
            setting = setting.get_secret_value()
        if not setting:
            raise ValueError(f"{value} needs {field.upper()} (or set it to auto or off)")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)


def normalize_database_url(url: str) -> str:
    """Accept PaaS-style URLs (postgres://, postgresql://, sqlite://) and pick the async driver."""
    url = url.strip()
    if not url:
        return DEFAULT_DATABASE_URL
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("must look like postgresql://user:pass@host/db or sqlite:///file.db")
    base = scheme.split("+", 1)[0].lower()
    if base in ("postgres", "postgresql"):
        sslmode = parse_qs(urlsplit(url).query).get("sslmode", [""])[-1]
        if sslmode and sslmode not in SSL_MODES:
            raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}")
        return f"postgresql+asyncpg://{rest}"
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    raise ValueError(f"unsupported database '{scheme}' (use PostgreSQL or SQLite)")


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, or a ConfigError naming every bad variable, one line each
    (never a value: it may be a secret)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems: dict[str, str] = {}  # the first reason per variable (a union type gives more)
        for each in error.errors():
            variable = str(each["loc"][0]).upper() if each["loc"] else "configuration"
            problems.setdefault(variable, each["msg"].removeprefix("Value error, "))
        raise ConfigError(*(f"{name}: {reason}" for name, reason in problems.items())) from None

"""Settings from environment variables and an optional `.env` file.

Every variable is documented in `.env.example` and in the README's configuration table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from config.providers import ProviderConfig, parse_providers

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///gptbot.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# libpq's sslmode values, which hosted PostgreSQL URLs carry (Neon, Supabase, Render...).
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

IdList = Annotated[frozenset[str], NoDecode]
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
    media_out_dir: Path = Path("media-out")  # the console writes images and voice here
    images_enabled: bool = True  # photos go to models that read images
    max_image_mb: float = Field(20.0, gt=0, le=50)

    log_level: str = "INFO"
    tiktoken_cache_dir: Path | None = None

    @field_validator(
        "allowed_users",
        "allowed_chats",
        "admin_users",
        "denied_users",
        "denied_chats",
        "allowed_models",
        mode="before",
    )
    @classmethod
    def _split_ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, value: Any) -> Any:
        return parse_providers(value)

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

    @field_validator("openai_base_url", "telegram_base_url", "telegram_webhook_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return value or None

    @field_validator("openai_base_url", "telegram_base_url", "telegram_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
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

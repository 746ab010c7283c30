"""Wiring: the one place that opens the database, the model client and the service from settings."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import openai

from config.providers import DEFAULT_PROVIDER, provider_api_key
from config.settings import ConfigError, Settings, StartupError
from core.cluster.shared import Cluster
from core.commands.context import CommandTools
from core.commands.runner import CommandRunner
from core.media.image_generation import OpenAIImageGenerator
from core.media.out_params import MediaOutConfig, MediaOutOptions
from core.media.speech import OpenAISynthesizer
from core.media.transcription import OpenAITranscriber, TranscriptionPrices
from core.model.catalog import ModelCatalog
from core.model.choice import ModelChoice
from core.model.client import ChatModel, OpenAIChatModel
from core.model.http_pools import model_http_client
from core.model.providers import Provider, ProviderChatModels
from core.model.routes import ProviderRoutes
from core.model.server_models import OpenAIModelList
from core.model.token_ratios import TokenRatios
from core.personas import PersonaBook, PersonaCatalog
from core.policy.access import AccessPolicy
from core.policy.limits import AbuseLimits, LimitConfig
from core.policy.retention import prune_forever, prune_once
from core.storage.engine import AsyncServer, Database, open_database
from core.storage.first_connect import DatabaseUnusable, migrate_when_reachable
from core.storage.rate_counters import RateCounterStore
from core.storage.stores import Storage
from core.tokens import (
    SHIPPED_ENCODINGS,
    default_cache_dir,
    encoding,
    install_offline_encodings,
)
from core.turn.admission import Admission
from core.turn.attachments import MB, AttachmentReader, MediaConfig
from core.turn.media_out import MediaOut
from core.turn.service import ChatService, ServiceConfig

log = logging.getLogger("core")


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings
    service: ChatService  # what adapters get, as a ChatPort
    storage: Storage  # for tests and benchmarks; adapters never see it
    # Locks and the inbox several processes share (PostgreSQL only; None on SQLite).
    cluster: Cluster | None = None


@asynccontextmanager
async def bootstrap(settings: Settings, model: ChatModel | None = None) -> AsyncIterator[App]:
    """Build everything, run migrations, and close it all on exit. What the settings point at
    and cannot be used is a ConfigError (or StartupError) naming every such variable."""
    persona_catalog, database = _open_what_settings_name(settings)
    models = ModelCatalog.load(
        settings.model_context_window,
        settings.default_model,
        settings.unpriced_model_usd_per_1m,
        ProviderRoutes.of(settings.providers),
    )
    _warn_of_undeclared_providers(models)
    providers: dict[str, Provider] = {}
    pruning: asyncio.Task[None] | None = None
    cluster: Cluster | None = None
    try:
        try:
            await migrate_when_reachable(database, settings.database_url, settings.database_retry_s)
        except DatabaseUnusable as error:
            raise StartupError(f"DATABASE_URL: {error}") from None
        providers = open_providers(settings)
        if model is None:
            model = ProviderChatModels(
                {
                    name: OpenAIChatModel(
                        provider.client, settings.send_user_identifier, provider.listing
                    )
                    for name, provider in providers.items()
                }
            )
        salt = _identifier_salt(settings)
        storage = Storage.open(database, settings.database_retry_s, identifier_salt=salt)
        personas = PersonaBook(
            persona_catalog,
            storage.personas,
            max_per_space=settings.max_personas_per_space,
            max_prompt_chars=settings.max_persona_prompt_chars,
        )
        limit_config = _limit_config(settings)
        # Several processes on PostgreSQL count rate limits in the database, one allowance each.
        shared_rates = (
            RateCounterStore(database, settings.database_retry_s)
            if isinstance(database, AsyncServer)
            else None
        )
        limits = AbuseLimits(storage.usage, limit_config, shared=shared_rates)
        choice = ModelChoice(models, settings.allowed_models, limit_config.usd_on(), providers)
        token_ratios = TokenRatios(await storage.token_ratios.all_ratios())
        media_options = _media_out_options(settings)
        service = ChatService(
            storage=storage,
            model=model,
            models=models,
            personas=personas,
            admission=Admission(_access_policy(settings), limits),
            config=ServiceConfig(
                default_context_tokens=settings.default_context_tokens,
                window_low_watermark=settings.window_low_watermark,
                identifier_salt=salt,
                default_reply_tokens=settings.default_reply_tokens,
                reasoning_tokens=settings.reasoning_tokens,
                thinking_after_s=settings.thinking_preview_after_s,
            ),
            commands=CommandRunner(
                CommandTools(
                    storage=storage,
                    personas=personas,
                    models=models,
                    limits=limits,
                    default_context_tokens=settings.default_context_tokens,
                    model_choice=choice,
                    token_ratios=token_ratios,
                    media_out=media_options,
                )
            ),
            token_ratios=token_ratios,
            attachments=_attachment_reader(
                settings, providers[DEFAULT_PROVIDER].client, models, choice
            ),
            media_out=_media_out(
                media_options, providers[DEFAULT_PROVIDER].client, storage, limits
            ),
        )
        if settings.retention_days:
            await prune_once(storage.erasure, settings.retention_days)
            pruning = asyncio.create_task(prune_forever(storage.erasure, settings.retention_days))
        if isinstance(database, AsyncServer):
            cluster = Cluster.open(database, settings.database_retry_s, settings.inbox_sweep_s)
        yield App(settings=settings, service=service, storage=storage, cluster=cluster)
    finally:
        database.close()  # first: nothing still running may write once the bot has stopped
        if cluster is not None:
            with contextlib.suppress(Exception):
                await cluster.close()
        if pruning is not None:
            pruning.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pruning
        for provider in providers.values():
            await provider.client.close()
        await database.dispose()


# issue 11 item 15: start-up failures are one line per setting, all reported at once.
def _open_what_settings_name(settings: Settings) -> tuple[PersonaCatalog, Database]:
    """The persona catalog, the BPE files and the database file, each checked; every problem
    is collected so that one start reports them all."""
    problems: list[str] = []
    try:
        install_offline_encodings(settings.tiktoken_cache_dir)
        for name in SHIPPED_ENCODINGS:
            encoding(name)  # load now, not on the first user's turn
    except OSError as error:
        folder = settings.tiktoken_cache_dir or default_cache_dir()
        problems.append(
            f"TIKTOKEN_CACHE_DIR: cannot write to {folder} ({error.strerror}): point it at a "
            "writable folder"
        )
    persona_catalog: PersonaCatalog | None = None
    try:
        persona_catalog = PersonaCatalog.load(settings.default_persona)
    except ValueError:
        names = PersonaCatalog.load().names()
        known = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
        problems.append(
            f"DEFAULT_PERSONA: {settings.default_persona!r} is not in config/personas.toml "
            f"(one of: {known}; or leave it empty)"
        )
    database: Database | None = None
    try:
        # SQLite waits out another writer itself; that wait is its share of the retry time.
        database = open_database(
            settings.database_url,
            busy_timeout_s=settings.database_retry_s,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
        )
    except OSError as error:
        problems.append(
            f"DATABASE_URL: cannot create the SQLite file's folder {error.filename} "
            f"({error.strerror}): choose a writable path"
        )
    if problems or persona_catalog is None or database is None:
        raise ConfigError(*problems)
    return persona_catalog, database


def model_client(settings: Settings) -> openai.AsyncOpenAI:
    """The default provider's `openai` client (the benchmark's "client alone" run builds the
    same one)."""
    return openai.AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value() or "not-set",
        base_url=settings.openai_base_url,
        timeout=settings.openai_timeout_s,
        max_retries=settings.openai_max_retries,
        http_client=model_http_client(),
    )


def open_providers(settings: Settings) -> dict[str, Provider]:
    """The default provider and every one PROVIDERS declares, each with its own client: its
    own connection pools, timeout and retries, so one slow provider holds none of another's."""
    client = model_client(settings)
    providers = {
        DEFAULT_PROVIDER: Provider(
            DEFAULT_PROVIDER,
            client,
            OpenAIModelList(client),
            is_openai=settings.openai_base_url is None,
        )
    }
    for name, config in settings.providers.items():
        client = openai.AsyncOpenAI(
            api_key=provider_api_key(config) or "not-set",
            base_url=config.base_url,
            timeout=config.timeout_s or settings.openai_timeout_s,
            max_retries=(
                settings.openai_max_retries if config.max_retries is None else config.max_retries
            ),
            default_headers=config.headers or None,
            http_client=model_http_client(),
        )
        listing = OpenAIModelList(client, setting=f"PROVIDERS ({name}.base_url)")
        providers[name] = Provider(name, client, listing)
    return providers


def _warn_of_undeclared_providers(models: ModelCatalog) -> None:
    for name in sorted(models.providers_named() - models.routes.declared):
        log.warning(
            "config/models.toml names provider %s, which PROVIDERS does not declare: its "
            "models go to the default provider",
            name,
        )


def _access_policy(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        settings.allowed_users,
        settings.allowed_chats,
        settings.admin_users,
        denied_users=settings.denied_users,
        denied_chats=settings.denied_chats,
    )


def _limit_config(settings: Settings) -> LimitConfig:
    return LimitConfig(
        user_per_min=settings.rate_limit_user_per_min,
        chat_per_min=settings.rate_limit_chat_per_min,
        user_commands_per_min=settings.rate_limit_user_commands_per_min,
        user_daily_usd=settings.budget_user_daily_usd,
        user_monthly_usd=settings.budget_user_monthly_usd,
        chat_daily_usd=settings.budget_chat_daily_usd,
        chat_monthly_usd=settings.budget_chat_monthly_usd,
        user_daily_tokens=settings.budget_user_daily_tokens,
        user_monthly_tokens=settings.budget_user_monthly_tokens,
        chat_daily_tokens=settings.budget_chat_daily_tokens,
        chat_monthly_tokens=settings.budget_chat_monthly_tokens,
    )


def _attachment_reader(
    settings: Settings, client: openai.AsyncOpenAI, models: ModelCatalog, choice: ModelChoice
) -> AttachmentReader:
    config = MediaConfig(
        files_enabled=settings.files_enabled,
        voice_enabled=settings.voice_enabled,
        max_file_bytes=int(settings.max_file_mb * MB),
        max_voice_bytes=int(settings.max_voice_mb * MB),
        max_voice_s=settings.max_voice_minutes * 60,
        transcription_model=settings.transcription_model,
        images_enabled=settings.images_enabled,
        max_image_bytes=int(settings.max_image_mb * MB),
    )
    transcriber = OpenAITranscriber(client, settings.transcription_model)

    async def seeing_models() -> list[str]:
        """The models a chat may pick that read images (offered when its own cannot)."""
        return [name for name in await choice.pickable() if models.get(name).caps.images]

    return AttachmentReader(config, transcriber, TranscriptionPrices.load(), seeing_models)


def _media_out_options(settings: Settings) -> MediaOutOptions:
    return MediaOutOptions(
        MediaOutConfig(
            image_generation_enabled=settings.image_generation_enabled,
            speech_enabled=settings.speech_enabled,
            image_model=settings.image_model,
            image_size=settings.image_size,
            image_quality=settings.image_quality,
            speech_model=settings.tts_model,
            voice=settings.tts_voice,
        )
    )


def _media_out(
    options: MediaOutOptions, client: openai.AsyncOpenAI, storage: Storage, limits: AbuseLimits
) -> MediaOut:
    """/image and /speak on the default provider's client, as transcription is."""
    return MediaOut(
        options, OpenAIImageGenerator(client), OpenAISynthesizer(client), storage, limits
    )


def _identifier_salt(settings: Settings) -> bytes:
    """The salt for end-user hashes: set explicitly, or derived from the bot's own secrets."""
    explicit = settings.user_identifier_salt.get_secret_value()
    if explicit:
        return explicit.encode()
    secrets = settings.openai_api_key.get_secret_value() + settings.database_url
    return hashlib.sha256(("gpt-chat-bot:" + secrets).encode()).digest()

"""Wiring: the one place that opens the database, the model client and the service from settings."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import openai

from config.providers import DEFAULT_PROVIDER, provider_api_key
from config.settings import ConfigError, Settings, StartupError
from core.cluster.shared import Cluster
from core.commands.context import CommandTools
from core.commands.runner import CommandRunner
from core.console.backend import ConsoleBackend
from core.console.workbench import Workbench, build_workbench
from core.model.catalog import ModelCatalog
from core.model.choice import ModelChoice
from core.model.client import ChatModel, OpenAIChatModel
from core.model.http_pools import model_http_client
from core.model.providers import Provider, ProviderChatModels
from core.model.routes import ProviderRoutes
from core.model.server_models import OpenAIModelList
from core.model.token_ratios import TokenRatios
from core.personas import PersonaBook, PersonaCatalog
from core.policy.limits import AbuseLimits
from core.policy.retention import prune_forever, prune_once
from core.reminders.scheduler import Clock, ReminderScheduler, system_clock
from core.settings_parts import (
    access_policy_of,
    attachment_reader_of,
    limit_config_of,
    media_out_of,
    media_out_options_of,
)
from core.storage.console_queries import ConsoleQueries
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
from core.tools.base import ToolSource
from core.tools.builtin import builtin_tools
from core.tools.reminders import ReminderConfig, ReminderTools
from core.tools.sources import opened_tool_sources
from core.tools.toolbox import ToolBox
from core.turn.admission import Admission
from core.turn.outcome_counts import OutcomeCounts
from core.turn.service import ChatService, ServiceConfig
from core.turn.tool_loop import ToolLoopConfig

log = logging.getLogger("core")


@dataclass(frozen=True, slots=True)
class App:
    settings: Settings
    service: ChatService  # what adapters get, as a ChatPort
    storage: Storage  # for tests and benchmarks; adapters never see it
    reminders: ReminderScheduler  # delivers reminders through the adapters that offer a push
    reminder_tools: ReminderTools  # current_time and the reminder tools, for the tool loop
    console: ConsoleBackend  # what the owner's web console gets, as a ConsolePort
    workbench: Workbench  # the web console's Playground, Tokenizer and Personas
    clock: Clock = system_clock  # the time tools and reminders go by (tests move it)
    # Locks and the inbox several processes share (PostgreSQL only; None on SQLite).
    cluster: Cluster | None = None


@asynccontextmanager
async def bootstrap(
    settings: Settings,
    model: ChatModel | None = None,
    tool_sources: Sequence[ToolSource] = (),
    clock: Clock = system_clock,
) -> AsyncIterator[App]:
    """Build everything, run migrations, and close it all on exit. What the settings point at
    and cannot be used is a ConfigError (or StartupError) naming every such variable.
    `tool_sources` offer tools to the model besides the built-in ones (web, MCP: opened by the
    caller); `clock` is what reminders and the time tools go by (tests pass one they move)."""
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
    reminders: ReminderScheduler | None = None
    tools_opened = contextlib.AsyncExitStack()  # web sessions, MCP servers
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
        limit_config = limit_config_of(settings)
        # Several processes on PostgreSQL count rate limits in the database, one allowance each.
        shared_rates = (
            RateCounterStore(database, settings.database_retry_s)
            if isinstance(database, AsyncServer)
            else None
        )
        limits = AbuseLimits(storage.usage, limit_config, shared=shared_rates)
        choice = ModelChoice(models, settings.allowed_models, limit_config.usd_on(), providers)
        token_ratios = TokenRatios(await storage.token_ratios.all_ratios())
        media_options = media_out_options_of(settings)
        media_out = media_out_of(media_options, providers[DEFAULT_PROVIDER].client, storage, limits)
        reminders = ReminderScheduler(storage.reminders, clock)
        timekeeping = reminder_tools(settings, storage, reminders)
        builtin = builtin_tools(media_out, storage, settings.image_generation_enabled)
        opened = await tools_opened.enter_async_context(opened_tool_sources(settings))
        toolbox = ToolBox(
            [builtin, timekeeping, *opened, *tool_sources], enabled=settings.tools_enabled
        )
        service = ChatService(
            storage=storage,
            model=model,
            models=models,
            personas=personas,
            admission=Admission(
                access_policy_of(settings), limits, OutcomeCounts(storage.turn_events)
            ),
            config=ServiceConfig(
                default_context_tokens=settings.default_context_tokens,
                window_low_watermark=settings.window_low_watermark,
                identifier_salt=salt,
                default_reply_tokens=settings.default_reply_tokens,
                reasoning_tokens=settings.reasoning_tokens,
                thinking_after_s=settings.thinking_preview_after_s,
                tool_loop=ToolLoopConfig(
                    max_rounds=settings.tools_max_rounds,
                    max_seconds=settings.tools_max_seconds,
                    confirm_timeout_s=settings.tools_confirm_timeout_s,
                ),
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
                    toolbox=toolbox,
                )
            ),
            token_ratios=token_ratios,
            attachments=attachment_reader_of(
                settings, providers[DEFAULT_PROVIDER].client, models, choice
            ),
            media_out=media_out,
            toolbox=toolbox,
            pushes=reminders,
            clock=clock,
        )
        if settings.retention_days:
            await prune_once(storage.erasure, settings.retention_days)
            pruning = asyncio.create_task(prune_forever(storage.erasure, settings.retention_days))
        workbench = build_workbench(
            settings, model, models, choice, providers, personas, storage, token_ratios
        )
        console = ConsoleBackend(
            service,
            ConsoleQueries(database, settings.database_retry_s),
            models,
            personas,
            limit_config,
            transcripts=settings.web_console_transcripts,
        )
        if isinstance(database, AsyncServer):
            cluster = Cluster.open(database, settings.database_retry_s, settings.inbox_sweep_s)
        reminders.start()
        yield App(
            settings=settings,
            service=service,
            storage=storage,
            reminders=reminders,
            reminder_tools=timekeeping,
            console=console,
            workbench=workbench,
            clock=clock,
            cluster=cluster,
        )
    finally:
        if reminders is not None:
            await reminders.stop()  # a reminder being sent is marked delivered before closing
        await tools_opened.aclose()
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


def reminder_tools(
    settings: Settings, storage: Storage, scheduler: ReminderScheduler
) -> ReminderTools:
    """`current_time`, and the reminder tools unless REMINDERS_ENABLED is off: a reminder set
    wakes the scheduler, so it is sent on time even when it is due in a minute."""
    return ReminderTools(
        storage.reminders,
        enabled=settings.reminders_enabled,
        config=ReminderConfig(max_pending=settings.reminders_max_pending),
        on_added=scheduler.poke,
    )


def _identifier_salt(settings: Settings) -> bytes:
    """The salt for end-user hashes: set explicitly, or derived from the bot's own secrets."""
    explicit = settings.user_identifier_salt.get_secret_value()
    if explicit:
        return explicit.encode()
    secrets = settings.openai_api_key.get_secret_value() + settings.database_url
    return hashlib.sha256(("gpt-chat-bot:" + secrets).encode()).digest()

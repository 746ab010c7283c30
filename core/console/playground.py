"""The Playground's port: a hand-written prompt with a model and its parameters, checked by the
rules `/model` and `/set` apply, counted as the window counts, sent through the chats' own model
client, and priced by the catalog as a turn is."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config.providers import DEFAULT_PROVIDER
from core.boundary import ConversationKey
from core.console.view_code import CodeSnippets, Endpoint, snippets
from core.model.capabilities import OPTIONAL_PARAMS
from core.model.catalog import ModelCatalog, ModelSpec
from core.model.choice import ModelChoice
from core.model.client import (
    ChatModel,
    ModelRequest,
    ModelResult,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    request_body,
    request_path,
)
from core.model.params import (
    DEFAULT_REPLY_TOKENS,
    FLOAT_RANGES,
    MAX_SEED,
    RESPONSE_FORMATS,
    ChatParams,
    InvalidParam,
    parse_param,
)
from core.model.request_params import ignored_params, wants_json
from core.model.token_ratios import TokenRatios
from core.storage.errors import StorageError
from core.storage.records import UsageRecord
from core.storage.stores import Storage
from core.tokens import count_prompt
from core.turn.prompt_plan import JSON_NOTE, reply_caps
from core.turn.recording import usage_record

# What a request takes, in /set's names: the reply's cap and the model's optional parameters
# (a chat's other settings, such as context_tokens or photos, mean nothing to one request).
PLAYGROUND_PARAMS = ("max_tokens", *OPTIONAL_PARAMS)
MESSAGE_ROLES = ("user", "assistant")
MAX_MESSAGES = 100
MODELS_SHOWN = 30
CONSOLE_USER = "console"  # who a Playground request is billed to, in the usage it reports
PLAYGROUND_KEY = ConversationKey("console", "playground")  # where its usage is recorded
log = logging.getLogger("core")


@dataclass(frozen=True, slots=True)
class PlaygroundMessage:
    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True, slots=True)
class PlaygroundForm:
    model: str
    system_prompt: str = ""
    messages: Sequence[PlaygroundMessage] = ()
    params: Mapping[str, str] = field(default_factory=dict)  # /set name -> as /set takes it


@dataclass(frozen=True, slots=True)
class ParamField:
    """One parameter the chosen model takes, for the form."""

    name: str
    kind: str  # "number", "integer", "choice" or "text" (stop, logit_bias: /set's syntax)
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Preset:
    """A model and its parameters, checked as /model and /set check them."""

    spec: ModelSpec
    params: ChatParams
    ignored: tuple[str, ...]  # set, but not taken by this model: not sent (as in a chat)


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    preset: Preset
    request: ModelRequest
    prompt_tokens: int  # as the window counts them (the model's encoding, chat framing)
    estimated_prompt_tokens: int | None  # a model whose tokenizer the bot lacks: its estimate
    path: str  # under the provider's base URL
    body: dict[str, Any]  # exactly what the model client posts


@dataclass(frozen=True, slots=True)
class PlaygroundDone:
    finish_reason: str
    usage: UsageRecord  # tokens and cost_usd, priced by the catalog
    recorded: bool = False  # counted in the usage table (the overview, budgets' totals)


@dataclass(frozen=True, slots=True)
class PlaygroundFailed:
    key: str  # the text saying what failed ("error.rate_limit", ...)


PlaygroundEvent = TextDelta | ReasoningDelta | PlaygroundDone | PlaygroundFailed


def param_fields(spec: ModelSpec) -> list[ParamField]:
    """The parameters `spec` takes, with the bounds /set enforces."""
    caps = spec.caps
    fields: list[ParamField] = []
    for name in PLAYGROUND_PARAMS:
        if not caps.takes(name):
            continue
        if name in FLOAT_RANGES:
            low, high = FLOAT_RANGES[name]
            fields.append(ParamField(name, "number", low, high))
        elif name == "max_tokens":
            fields.append(ParamField(name, "integer", 1, spec.max_output_tokens))
        elif name == "seed":
            fields.append(ParamField(name, "integer", 0, MAX_SEED))
        elif name == "response_format":
            fields.append(ParamField(name, "choice", choices=RESPONSE_FORMATS))
        elif name == "reasoning_effort":
            fields.append(ParamField(name, "choice", choices=caps.reasoning_efforts))
        elif name == "verbosity":
            fields.append(ParamField(name, "choice", choices=caps.verbosities))
        else:
            fields.append(ParamField(name, "text"))
    return fields


class Playground:
    def __init__(
        self,
        model: ChatModel,
        models: ModelCatalog,
        choice: ModelChoice,
        endpoints: Mapping[str, Endpoint],  # by provider name
        *,
        default_reply_tokens: int = DEFAULT_REPLY_TOKENS,
        reasoning_tokens: int = 0,
        token_ratios: TokenRatios | None = None,
        storage: Storage | None = None,  # where its spending is recorded; None: not recorded
    ) -> None:
        self._model = model
        self._storage = storage
        self.models = models
        self._choice = choice
        self._endpoints = dict(endpoints)
        self._default_reply_tokens = default_reply_tokens
        self._reasoning_tokens = reasoning_tokens
        self._token_ratios = token_ratios or TokenRatios()

    @property
    def default_model(self) -> str:
        return self.models.default_model

    def model_names(self) -> list[str]:
        return self.models.names()

    def fields(self, model: str) -> list[ParamField]:
        """The parameters `model` takes, for the form."""
        return param_fields(self.models.get(model))

    async def preset(self, model: str, params: Mapping[str, str]) -> Preset:
        """The model (as /model checks it for an owner) and parameters (one by one, as /set
        parses them); InvalidParam with /model's or /set's own text otherwise."""
        name = model.strip()
        if await self._choice.refusal(name, is_owner=True) is not None:
            known = self.models.names()
            shown = ", ".join(known[:MODELS_SHOWN]) + (", …" if len(known) > MODELS_SHOWN else "")
            raise InvalidParam("model.unknown", name=name[:40], models=shown)
        spec = self.models.get(name)
        parsed = ChatParams()
        for param, raw in params.items():
            if not raw.strip():
                continue  # left empty: the model's default, as "/set NAME default"
            if param.strip().lower() not in PLAYGROUND_PARAMS:
                raise InvalidParam(
                    "set.unknown_param", name=param[:40], allowed=", ".join(PLAYGROUND_PARAMS)
                )
            parsed = parse_param(
                parsed,
                param,
                raw,
                max_output_tokens=spec.max_output_tokens,
                context_window=spec.context_window,
                caps=spec.caps,
            )
        return Preset(spec, parsed, tuple(ignored_params(parsed, spec.caps)))

    async def prepare(self, form: PlaygroundForm) -> PreparedRequest:
        """The request `form` makes, counted; InvalidParam saying what to fix otherwise."""
        preset = await self.preset(form.model, form.params)
        spec, params = preset.spec, preset.params
        if len(form.messages) > MAX_MESSAGES:
            raise InvalidParam("playground.too_many_messages", limit=MAX_MESSAGES)
        for number, message in enumerate(form.messages, start=1):
            if message.role not in MESSAGE_ROLES:
                raise InvalidParam("playground.bad_role", number=number)
            if not message.content.strip():
                raise InvalidParam("playground.empty_message", number=number)
        if not any(message.role == "user" for message in form.messages):
            raise InvalidParam("playground.no_messages")
        system_prompt = form.system_prompt.strip()
        if wants_json(params, spec.caps):  # as a chat's prompt gets it (OpenAI requires it)
            system_prompt = (system_prompt + JSON_NOTE).strip()
        wire: list[dict[str, str]] = []
        if system_prompt:
            wire.append({"role": spec.caps.system_role, "content": system_prompt})
        wire += [{"role": m.role, "content": m.content} for m in form.messages]
        prompt_tokens = count_prompt(wire, spec.encoding)
        estimate = None
        if spec.estimated_tokens:
            estimate = round(prompt_tokens * self._token_ratios.ratio(spec))
        reply_tokens, completion_tokens = reply_caps(
            spec, params, self._default_reply_tokens, self._reasoning_tokens
        )
        max_tokens = max(reply_tokens, completion_tokens)
        planned = prompt_tokens * self._token_ratios.planning_factor(spec)
        if planned + max_tokens > spec.context_window:
            raise InvalidParam(
                "playground.too_long",
                tokens=f"{round(planned):,}",
                reply=f"{max_tokens:,}",
                model=spec.name,
                window=f"{spec.context_window:,}",
            )
        request = ModelRequest(model=spec, messages=wire, params=params, max_tokens=max_tokens)
        return PreparedRequest(
            preset=preset,
            request=request,
            prompt_tokens=prompt_tokens,
            estimated_prompt_tokens=estimate,
            path=request_path(spec),
            body=request_body(request),
        )

    def code(self, prepared: PreparedRequest) -> CodeSnippets:
        """The same request as curl, Python and Node.js, with the key as a variable's name."""
        provider = prepared.request.model.provider
        endpoint = self._endpoints.get(provider) or self._endpoints.get(DEFAULT_PROVIDER)
        return snippets(endpoint or Endpoint(None, "OPENAI_API_KEY"), prepared.path, prepared.body)

    async def run(self, prepared: PreparedRequest) -> AsyncGenerator[PlaygroundEvent, None]:
        """The answer as it streams, then what it cost (or what failed, in one line's key)."""
        text: list[str] = []
        thoughts: list[str] = []
        result: ModelResult | None = None
        try:
            async for event in self._model.stream(prepared.request):
                if isinstance(event, ModelResult):
                    result = event
                    continue
                if isinstance(event, ToolCall):
                    continue  # never asked for: the Playground offers no tools
                (text if isinstance(event, TextDelta) else thoughts).append(event.text)
                yield event
        except ProviderError as error:
            yield PlaygroundFailed(f"error.{error.kind}")
            return
        assert result is not None  # the port's contract: one result, else ProviderError
        usage = usage_record(
            prepared.request.model,
            result,
            "".join(text),
            "".join(thoughts),
            prepared.prompt_tokens,
            CONSOLE_USER,
        )
        yield PlaygroundDone(result.finish_reason, usage, await self._record(usage))

    async def _record(self, usage: UsageRecord) -> bool:
        """The owner pays for the Playground too: its requests are counted as a conversation
        of their own (PLAYGROUND_KEY), so the overview's figures include them."""
        if self._storage is None:
            return False
        try:
            conversation = await self._storage.conversations.conversation(PLAYGROUND_KEY)
            await self._storage.usage.add_usage(conversation.id, [usage])
        except StorageError:
            log.exception("web console: the Playground's usage could not be recorded")
            return False
        return True

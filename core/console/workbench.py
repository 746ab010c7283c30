"""The ports of the console's Playground, Tokenizer and Personas pages, built together by
bootstrap from the parts the chats use."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from config.providers import DEFAULT_PROVIDER
from config.settings import Settings
from core.console.personas import ConsolePersonas
from core.console.playground import Playground
from core.console.tokenizer import Tokenized, tokenize
from core.console.view_code import Endpoint
from core.model.catalog import ModelCatalog
from core.model.choice import ModelChoice
from core.model.client import ChatModel
from core.model.providers import Provider
from core.model.token_ratios import TokenRatios
from core.personas import PersonaBook
from core.storage.stores import Storage


class Tokenizer:
    """The Tokenizer page's port: a text's tokens for any model the catalog can size."""

    def __init__(self, models: ModelCatalog, token_ratios: TokenRatios | None = None) -> None:
        self.models = models
        self._token_ratios = token_ratios or TokenRatios()

    @property
    def default_model(self) -> str:
        return self.models.default_model

    def model_names(self) -> list[str]:
        return self.models.names()

    def tokenize(self, text: str, model: str) -> Tokenized:
        """TextTooLong past /tokens' limit; an unknown model name gets the fallback encoding,
        said by `estimated_tokens` (as /tokens says it)."""
        return tokenize(text, self.models.get(model), self._token_ratios)


@dataclass(frozen=True, slots=True)
class Workbench:
    playground: Playground
    tokenizer: Tokenizer
    personas: ConsolePersonas


def endpoints(settings: Settings, providers: Mapping[str, Provider]) -> dict[str, Endpoint]:
    """Each provider as a snippet shows it: its base URL (none for OpenAI's own) and the NAME
    of the variable holding its key."""
    shown = {}
    for name, provider in providers.items():
        if name == DEFAULT_PROVIDER:
            key_env = "OPENAI_API_KEY"
        else:
            key_env = settings.providers[name].api_key_env
        shown[name] = Endpoint(None if provider.is_openai else provider.where, key_env)
    return shown


def build_workbench(
    settings: Settings,
    model: ChatModel,
    models: ModelCatalog,
    choice: ModelChoice,
    providers: Mapping[str, Provider],
    personas: PersonaBook,
    storage: Storage,
    token_ratios: TokenRatios,
) -> Workbench:
    playground = Playground(
        model,
        models,
        choice,
        endpoints(settings, providers),
        default_reply_tokens=settings.default_reply_tokens,
        reasoning_tokens=settings.reasoning_tokens,
        token_ratios=token_ratios,
        storage=storage,
    )
    return Workbench(
        playground=playground,
        tokenizer=Tokenizer(models, token_ratios),
        personas=ConsolePersonas(personas, storage.personas, playground),
    )

"""Which models a chat may switch to (/model) and which `/models` lists, provider by provider.

Owners pick any valid name. Everyone else picks from ALLOWED_MODELS, by default the catalog's
priced models plus what a provider itself lists (GET /models, cached) among the names routed to
it; and never a model without a price while a budget in dollars is on, since its use would cost
them nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from config.providers import DEFAULT_PROVIDER
from core.model.catalog import ModelCatalog, valid_model_name
from core.model.provider_errors import ProviderError
from core.model.server_models import ModelList

ANY_MODEL = "*"


class Listed(Protocol):
    """What ModelChoice needs of a provider (core.model.providers.Provider has it)."""

    @property
    def listing(self) -> ModelList: ...

    @property
    def is_openai(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ProviderModels:
    """One provider's group in /models."""

    provider: str
    names: list[str]
    failure: str | None = None  # the ProviderError kind when it could not list its models


class ModelChoice:
    def __init__(
        self,
        catalog: ModelCatalog,
        allowed: frozenset[str] = frozenset(),  # empty: the default rule above
        usd_budget_on: bool = False,
        providers: Mapping[str, Listed] | None = None,  # none: OpenAI alone, the catalog's
    ) -> None:
        self._catalog = catalog
        self._allowed = allowed
        self._usd_budget_on = usd_budget_on
        self._providers = dict(providers or {})

    async def refusal(self, name: str, is_owner: bool) -> str | None:
        """None when `name` may be picked; else the text key saying why not."""
        if not valid_model_name(name):
            return "model.unknown"
        if is_owner:
            return None
        if not await self._allows(name):
            return "model.not_allowed" if self._allowed else "model.unknown"
        if self.unpriced_under_budget(name):
            return "model.unpriced"
        return None

    def unpriced_under_budget(self, name: str) -> bool:
        """Its use would escape a budget in dollars."""
        return self._usd_budget_on and not self._catalog.get(name).priced

    async def available(self) -> list[ProviderModels]:
        """What each provider offers, the default one first: OpenAI's are the catalog's; any
        other server's are the names it lists (and catalog entries routed to it)."""
        groups = []
        for provider in self._provider_names():
            listed = self._providers.get(provider)
            names = [] if self._lists_own(provider) else self._catalog_names(provider)
            failure = None
            if listed is not None and not listed.is_openai:
                try:
                    names += await self._listed(provider)
                except ProviderError as error:
                    failure = error.kind
            groups.append(ProviderModels(provider, list(dict.fromkeys(names)), failure))
        return groups

    async def pickable(self) -> list[str]:
        """The names a non-owner may pick (for the answer that refuses one)."""
        listed = sorted(self._allowed - {ANY_MODEL})
        if not listed:
            priced = [name for name in self._catalog.names() if self._catalog.get(name).priced]
            listed = priced
            for provider, each in self._providers.items():
                if not each.is_openai:
                    listed += await self._listed_or_none(provider)
        return [name for name in dict.fromkeys(listed) if not self.unpriced_under_budget(name)]

    async def _allows(self, name: str) -> bool:
        if self._allowed:
            return ANY_MODEL in self._allowed or name in self._allowed
        spec = self._catalog.get(name)
        if spec.known and spec.priced:
            return True
        # A name the catalog does not have (a new OpenAI model, a local one) only when the
        # provider it goes to lists it.
        return name in await self._listed_or_none(spec.provider)

    def _provider_names(self) -> list[str]:
        others = sorted(set(self._providers) - {DEFAULT_PROVIDER})
        return [DEFAULT_PROVIDER, *others]

    def _lists_own(self, provider: str) -> bool:
        """The default provider behind OPENAI_BASE_URL: its list, not OpenAI's catalog."""
        listed = self._providers.get(provider)
        return provider == DEFAULT_PROVIDER and listed is not None and not listed.is_openai

    def _catalog_names(self, provider: str) -> list[str]:
        return [n for n in self._catalog.names() if self._catalog.get(n).provider == provider]

    async def _listed(self, provider: str) -> list[str]:
        """What `provider` lists among the names routed to it; or ProviderError."""
        listed = self._providers.get(provider)
        if listed is None:
            return []
        names = await listed.listing.names()
        return [name for name in names if self._catalog.get(name).provider == provider]

    async def _listed_or_none(self, provider: str) -> list[str]:
        try:
            return await self._listed(provider)
        except ProviderError:
            return []  # it cannot list now: only the catalog's names are sure

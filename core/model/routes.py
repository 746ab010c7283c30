"""Which provider serves a model name: the catalog's word, then the providers' own patterns,
then the default provider."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from config.providers import DEFAULT_PROVIDER, ProviderConfig


@dataclass(frozen=True, slots=True)
class ProviderRoutes:
    # (provider, its model names or patterns), in the order PROVIDERS declares them
    patterns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    declared: frozenset[str] = frozenset({DEFAULT_PROVIDER})

    @classmethod
    def of(cls, providers: Mapping[str, ProviderConfig]) -> ProviderRoutes:
        return cls(
            patterns=tuple((name, config.models) for name, config in providers.items()),
            declared=frozenset({DEFAULT_PROVIDER, *providers}),
        )

    def route(self, name: str, catalog_provider: str = DEFAULT_PROVIDER) -> str:
        """A catalog entry naming a declared provider goes there; else the first provider whose
        pattern matches; else the default provider (as every model did before PROVIDERS).

        The owner's patterns win over the catalog's default, so a provider may serve a name the
        catalog ships for OpenAI (an Azure or proxy deployment of gpt-4o, say).
        """
        if catalog_provider != DEFAULT_PROVIDER and catalog_provider in self.declared:
            return catalog_provider
        for provider, patterns in self.patterns:
            if any(fnmatchcase(name, pattern) for pattern in patterns):
                return provider
        return DEFAULT_PROVIDER

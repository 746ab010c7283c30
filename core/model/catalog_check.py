"""`python -m bots models --check`: the catalog against what each provider lists (GET /models),
so a maintainer sees which catalog models a provider no longer serves and which of its models
the catalog lacks. Prints provider names and base URLs only, never a key or a header."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.model.catalog import ModelCatalog
from core.model.provider_errors import ProviderError
from core.model.providers import Provider


@dataclass(frozen=True, slots=True)
class ProviderCheck:
    provider: str
    where: str
    not_listed: list[str]  # catalog models routed to it that it does not list
    not_in_catalog: list[str]  # models it lists, routed to it, that the catalog lacks
    failure: str = ""  # why it could not list its models

    @property
    def in_step(self) -> bool:
        return not (self.not_listed or self.not_in_catalog or self.failure)


async def check_catalog(
    catalog: ModelCatalog, providers: Mapping[str, Provider]
) -> list[ProviderCheck]:
    checks = []
    for name, provider in providers.items():
        ours = [m for m in catalog.names() if catalog.get(m).provider == name]
        try:
            listed = await provider.listing.names()
        except ProviderError as error:
            checks.append(ProviderCheck(name, provider.where, [], [], error.kind))
            continue
        theirs = [m for m in listed if catalog.get(m).provider == name]
        checks.append(
            ProviderCheck(
                provider=name,
                where=provider.where,
                not_listed=sorted(set(ours) - set(listed)),
                # A dated snapshot of a catalog model is that model: not missing.
                not_in_catalog=sorted(m for m in theirs if not catalog.is_known(m)),
            )
        )
    return checks


def report(checks: list[ProviderCheck]) -> list[str]:
    lines = []
    for check in checks:
        head = f"{check.provider} ({check.where})"
        if check.failure:
            lines.append(f"{head}: cannot list its models ({check.failure})")
            continue
        if check.in_step:
            lines.append(f"{head}: in step with the catalog")
            continue
        lines.append(f"{head}:")
        if check.not_listed:
            lines.append(f"  in the catalog, not listed: {', '.join(check.not_listed)}")
        if check.not_in_catalog:
            lines.append(f"  listed, not in the catalog: {', '.join(check.not_in_catalog)}")
    return lines

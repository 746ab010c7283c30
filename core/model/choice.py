"""Which models a chat may switch to (/model) and which `/models` lists.

Owners pick any valid name. Everyone else picks from ALLOWED_MODELS, by default the catalog's
priced models plus what a custom server (OPENAI_BASE_URL) itself lists; and never a model
without a price while a budget in dollars is on, since its use would cost them nothing.
"""

from __future__ import annotations

from core.model.catalog import ModelCatalog, valid_model_name
from core.model.provider_errors import ProviderError
from core.model.server_models import ModelList

ANY_MODEL = "*"


class ModelChoice:
    def __init__(
        self,
        catalog: ModelCatalog,
        allowed: frozenset[str] = frozenset(),  # empty: the default rule above
        usd_budget_on: bool = False,
        server: ModelList | None = None,  # None: OpenAI itself, whose models the catalog has
    ) -> None:
        self._catalog = catalog
        self._allowed = allowed
        self._usd_budget_on = usd_budget_on
        self._server = server

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

    async def available(self) -> list[str]:
        """What the provider offers: a custom server's own list, else the catalog.
        ProviderError when the server cannot list."""
        if self._server is None:
            return self._catalog.names()
        return await self._server.names()

    async def pickable(self) -> list[str]:
        """The names a non-owner may pick (for the answer that refuses one)."""
        listed = sorted(self._allowed - {ANY_MODEL})
        if not listed:
            priced = [name for name in self._catalog.names() if self._catalog.get(name).priced]
            listed = priced + await self._server_names()
        return [name for name in dict.fromkeys(listed) if not self.unpriced_under_budget(name)]

    async def _allows(self, name: str) -> bool:
        if self._allowed:
            return ANY_MODEL in self._allowed or name in self._allowed
        if self._catalog.is_known(name) and self._catalog.get(name).priced:
            return True
        return name in await self._server_names()

    async def _server_names(self) -> list[str]:
        if self._server is None:
            return []
        try:
            return await self._server.names()
        except ProviderError:
            return []  # the server cannot list now: only the catalog's names are sure

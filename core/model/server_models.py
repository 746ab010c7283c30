"""The models a custom server reports (GET /models), and telling the owner when its base URL
is wrong."""

from __future__ import annotations

import logging
import time
from typing import Protocol

import httpx2
import openai

from core.model.provider_errors import ProviderError, detail_of, provider_error

MODEL_LIST_TTL_S = 300.0  # how long a server's list of models is reused

log = logging.getLogger("core.model")


class ModelList(Protocol):
    async def names(self) -> list[str]:
        """The model names the server reports; or ProviderError."""
        ...


class OpenAIModelList:
    """GET /models of the server the bot talks to, reused for a few minutes.

    Also the one place that tells the owner a base URL is wrong: a server without the OpenAI
    endpoints answers 404 to every path, which must not read as "no such model".
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        ttl_s: float = MODEL_LIST_TTL_S,
        setting: str = "OPENAI_BASE_URL",  # what the owner fixes when the URL is wrong
    ) -> None:
        self._client = client
        self._setting = setting
        self._ttl_s = ttl_s
        self._names: list[str] = []
        self._fetched_at = -float("inf")
        self._told_owner = False

    async def names(self) -> list[str]:
        if time.monotonic() - self._fetched_at < self._ttl_s:
            return self._names
        try:
            listed = [model.id async for model in self._client.models.list()]
        except openai.NotFoundError as error:
            raise self.endpoint_not_found(error) from error
        except openai.APIError as error:
            raise provider_error(error) from error
        self._names, self._fetched_at = sorted(set(listed)), time.monotonic()
        return self._names

    async def has_endpoint(self) -> bool:
        """False only when GET /models is a 404 too (any other failure proves nothing)."""
        try:
            await self.names()
        except ProviderError as error:
            return error.kind != "endpoint_not_found"
        return True

    def endpoint_not_found(self, error: openai.APIError) -> ProviderError:
        if not self._told_owner:
            # Every turn fails until the owner fixes the setting: say it once, at ERROR.
            self._told_owner = True
            log.error(
                "the AI service answers 404 at %s: check %s (it usually ends in /v1); every "
                "answer fails until then",
                _where(error.request),
                self._setting,
            )
        return ProviderError("endpoint_not_found", detail_of(error))


def _where(request: httpx2.Request) -> str:
    """The URL that answered 404, without credentials or a query (no secret is logged)."""
    url = request.url
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}"

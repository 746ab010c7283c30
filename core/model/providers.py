"""Providers side by side: each with its own `openai` client (pools, timeout, retries) and its
cached list of models; the chat model port sends each request to its model's provider."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass

import openai

from config.providers import DEFAULT_PROVIDER
from core.model.client import ChatModel, ModelEvent, ModelRequest, ProviderError
from core.model.server_models import OpenAIModelList


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    client: openai.AsyncOpenAI
    listing: OpenAIModelList
    # OpenAI itself (the default provider without OPENAI_BASE_URL): the catalog already holds
    # its chat models, while its GET /models also lists embeddings, images, audio...
    is_openai: bool = False

    @property
    def where(self) -> str:
        """Its base URL without credentials or query, for the owner's eyes."""
        url = self.client.base_url
        port = f":{url.port}" if url.port else ""
        return f"{url.scheme}://{url.host}{port}{url.path}".rstrip("/")


class ProviderChatModels:
    """`ChatModel` over several providers: a request goes to its model's provider (the default
    one for a provider nobody declared), and a failure says which provider failed, so one
    provider's outage is logged as its own and fails only the chats on its models."""

    def __init__(self, models: Mapping[str, ChatModel]) -> None:
        if DEFAULT_PROVIDER not in models:
            raise ValueError("the default provider needs a model client")
        self._models = dict(models)

    async def stream(self, request: ModelRequest) -> AsyncGenerator[ModelEvent, None]:
        provider = request.model.provider
        model = self._models.get(provider)
        if model is None:
            provider, model = DEFAULT_PROVIDER, self._models[DEFAULT_PROVIDER]
        try:
            async for event in model.stream(request):
                yield event
        except ProviderError as error:
            error.provider = provider
            raise

"""The naive turn, for reference only: what many chat bots do, and what the core avoids.

Load the conversation's whole history, re-encode every message with tiktoken to count it, drop
the oldest messages until the rest fits the budget (a window sliding one message at a time), ask
the model, store the answer. It uses the same database, stores, tokenizer and model client as
the core, so the difference measured is the method, not the plumbing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass

import openai

from core.boundary import ConversationKey
from core.model.catalog import ModelCatalog, ModelSpec
from core.model.client import ChatModel, ModelRequest, ModelResult, OpenAIChatModel, TextDelta
from core.model.params import DEFAULT_REPLY_TOKENS, ChatParams
from core.personas import PersonaCatalog
from core.storage.engine import open_database
from core.storage.records import NewMessage, UsageRecord
from core.storage.stores import Storage
from core.tokens import count_message
from core.turn.answering import StreamTiming, timed


@dataclass(frozen=True, slots=True)
class NaiveTurn:
    answer: str
    bot_s: float
    model_s: float
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int


class NaiveBot:
    def __init__(
        self,
        storage: Storage,
        model: ChatModel,
        spec: ModelSpec,
        system_prompt: str,
        budget: int,
        reply_tokens: int,
    ) -> None:
        self._storage = storage
        self._model = model
        self._spec = spec
        self._system_prompt = system_prompt
        self._budget = budget
        self._reply_tokens = reply_tokens

    async def turn(self, key: ConversationKey, text: str) -> NaiveTurn:
        started = time.perf_counter()
        encoding = self._spec.encoding
        conversation = await self._storage.conversations.conversation(key)
        await self._storage.messages.add_message(
            conversation.id,
            NewMessage(role="user", content=text, tokens=0, encoding=encoding, author_id="42"),
        )
        history = await self._storage.messages.messages_from(conversation.id, 0)
        counts = [count_message(m.role, m.content, encoding) for m in history]
        room = self._budget  # for the history, like the core's budget
        total, first = sum(counts), 0
        while total > room and first < len(history) - 1:
            total -= counts[first]
            first += 1
        messages = [{"role": "system", "content": self._system_prompt}] + [
            {"role": m.role, "content": m.content} for m in history[first:]
        ]
        request = ModelRequest(
            model=self._spec,
            messages=messages,
            params=ChatParams(),
            max_tokens=self._reply_tokens,
        )
        parts: list[str] = []
        result = ModelResult(finish_reason="error")
        timing = StreamTiming()
        async with aclosing(timed(self._model.stream(request), timing)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                else:
                    result = event
        model_s = timing.model_s
        answer = "".join(parts)
        prompt = result.prompt_tokens or 0
        completion = result.completion_tokens or 0
        await self._storage.messages.complete_turn(
            conversation.id,
            NewMessage(role="assistant", content=answer, tokens=0, encoding=encoding),
            UsageRecord(
                user_id="42",
                model=self._spec.name,
                prompt_tokens=prompt,
                cached_tokens=result.cached_tokens,
                completion_tokens=completion,
                cost_usd=self._spec.cost_usd(prompt, result.cached_tokens, completion),
            ),
        )
        return NaiveTurn(
            answer=answer,
            bot_s=time.perf_counter() - started - model_s,
            model_s=model_s,
            prompt_tokens=prompt,
            cached_tokens=result.cached_tokens,
            completion_tokens=completion,
        )


@asynccontextmanager
async def naive_bot(
    database_url: str, model_url: str, model: str = "gpt-4o-mini", budget: int = 8000
) -> AsyncIterator[NaiveBot]:
    """A naive bot on the same database, with the core's default persona, model and budget."""
    spec = ModelCatalog.load(8192).get(model)
    personas = PersonaCatalog.load()
    persona = personas.get(personas.default)
    assert persona is not None
    database = open_database(database_url)
    client = openai.AsyncOpenAI(api_key="sk-bench", base_url=model_url, max_retries=0)
    try:
        yield NaiveBot(
            storage=Storage.open(database),
            model=OpenAIChatModel(client),
            spec=spec,
            system_prompt=persona.system_prompt,
            budget=budget,
            reply_tokens=min(spec.max_output_tokens, DEFAULT_REPLY_TOKENS),
        )
    finally:
        await client.close()
        await database.dispose()

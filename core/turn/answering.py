"""Answering: the model's stream, timed, passed on as it arrives; one retry with half of the
history when the provider's window turns out smaller than the catalog says.

One AnswerStream is one request; a turn with tools asks again after each round of calls
(core/turn/tool_loop.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar, cast

from core.boundary import AnswerDelta, ConversationKey, Notice, Reasoning, ReplyEvent, Thinking
from core.model.client import (
    ChatModel,
    ModelEvent,
    ModelResult,
    ProviderError,
    TextDelta,
    ToolCall,
)
from core.texts import Texts
from core.turn.prompt_plan import Prompt

log = logging.getLogger("core.turn")

Event = TypeVar("Event")


@dataclass
class StreamTiming:
    model_s: float = 0.0  # waiting for the model's next event
    held_s: float = 0.0  # the consumer holding an event before asking for the next
    tools_s: float = 0.0  # the tools' own time (and a confirmation's wait for the user)


async def timed(
    stream: AsyncGenerator[Event, None], timing: StreamTiming
) -> AsyncGenerator[Event, None]:
    """`stream`'s events, adding to `timing` the time spent waiting on each and the time the
    caller held it; closes `stream` when closed."""
    try:
        while True:
            asked = time.perf_counter()
            try:
                event = await anext(stream)
            except StopAsyncIteration:
                return
            finally:
                timing.model_s += time.perf_counter() - asked
            handed = time.perf_counter()
            yield event
            timing.held_s += time.perf_counter() - handed
    finally:
        await stream.aclose()


_END = object()


async def _next_or_end(events: AsyncIterator[ModelEvent]) -> ModelEvent | object:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return _END


async def noting_silence(
    events: AsyncGenerator[ModelEvent, None], after_s: float
) -> AsyncGenerator[ModelEvent | None, None]:
    """`events`, with one None among them if `after_s` pass before the first answer text (the
    model is thinking). Only the wait for the first text is watched; the rest passes through."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + after_s
    pending: asyncio.Future[ModelEvent | object] | None = None
    try:
        while True:
            pending = asyncio.ensure_future(_next_or_end(events))
            done, _ = await asyncio.wait({pending}, timeout=max(0.0, deadline - loop.time()))
            silent = not done
            if silent:
                yield None
            event = await pending
            pending = None
            if event is _END:
                return
            yield cast(ModelEvent, event)
            if silent or isinstance(event, TextDelta | ToolCall):
                break
        async for event in events:
            yield event
    finally:
        if pending is not None:  # closed while waiting: the next event is not wanted
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        await events.aclose()


class AnswerStream:
    """The model's answer to `prompt`, streamed; once `events()` is drained, the fields say how
    it went (what was finally sent, the text and the thinking, the result or the failure, and
    the timing). After `thinking_after_s` without a word of answer, a `Thinking` placeholder
    is shown; the thinking itself is shown (as `Reasoning`) only when the chat asked."""

    def __init__(
        self,
        model: ChatModel,
        prompt: Prompt,
        key: ConversationKey,
        thinking_after_s: float = math.inf,
        timing: StreamTiming | None = None,  # shared by the rounds of a tool loop
    ) -> None:
        self._model = model
        self._key = key
        self._thinking_after_s = thinking_after_s
        self.prompt = prompt
        self.text = ""
        self.reasoning = ""  # the model's thinking: counted, never stored or sent back
        self.tool_calls: list[ToolCall] = []
        self.result: ModelResult | None = None
        self.failure: ProviderError | None = None
        self.timing = timing or StreamTiming()

    async def events(self, texts: Texts) -> AsyncIterator[ReplyEvent]:
        show = bool(self.prompt.plan.params.show_reasoning)
        silence_after = self._thinking_after_s
        for attempt in (1, 2):
            parts: list[str] = []
            thoughts: list[str] = []
            self.result, self.failure = None, None
            self.tool_calls = []
            try:
                # The watcher goes inside the timing: the task it waits on is part of waiting
                # for the model, not the bot's own time (python -m bench: bot p50 at 300 chats
                # 0.8 ms, against ~150 ms counted the other way round).
                model_events: AsyncGenerator[ModelEvent | None, None]
                model_events = self._model.stream(self.prompt.request)
                if math.isfinite(silence_after):
                    model_events = noting_silence(model_events, silence_after)
                stream = timed(model_events, self.timing)
                async with aclosing(stream) as events:
                    async for event in events:
                        if event is None:
                            silence_after = math.inf  # said once a turn
                            yield Thinking(texts.get("thinking"))
                        elif isinstance(event, TextDelta):
                            if show and thoughts and not parts:
                                yield Reasoning("".join(thoughts).strip())
                            parts.append(event.text)
                            yield AnswerDelta(event.text)
                        elif isinstance(event, ModelResult):
                            self.result = event
                        elif isinstance(event, ToolCall):
                            self.tool_calls.append(event)
                        else:
                            thoughts.append(event.text)
            except ProviderError as error:
                self.failure = error
            self.text = "".join(parts)
            self.reasoning = "".join(thoughts)
            if show and self.reasoning.strip() and not parts:
                yield Reasoning(self.reasoning.strip())
            if attempt == 2 or parts or self.tool_calls or not self._context_too_long():
                return
            # The provider's window is smaller than the catalog says (or counts differently):
            # send half of the history once more rather than fail the turn.
            shorter = self.prompt.shorter()
            if shorter is None:
                return
            log.warning(
                "context too long for %s; retrying with %d messages",
                self._key,
                len(shorter.window.messages),
            )
            self.prompt = shorter
            yield Notice(texts.get("notice.trimmed", kept=len(shorter.window.messages)))

    def _context_too_long(self) -> bool:
        return self.failure is not None and self.failure.kind == "context_length"

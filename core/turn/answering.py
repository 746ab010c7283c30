"""Answering: the model's stream, timed, passed on as it arrives; one retry with half of the
history when the provider's window turns out smaller than the catalog says.

This is the stage where a turn goes back to the model: a later loop through tool calls belongs
here too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import TypeVar

from core.boundary import AnswerDelta, ConversationKey, Notice, ReplyEvent
from core.model.client import ChatModel, ModelResult, ProviderError, TextDelta
from core.texts import Texts
from core.turn.prompt_plan import Prompt

log = logging.getLogger("core.turn")

Event = TypeVar("Event")


@dataclass
class StreamTiming:
    model_s: float = 0.0  # waiting for the model's next event
    held_s: float = 0.0  # the consumer holding an event before asking for the next


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


class AnswerStream:
    """The model's answer to `prompt`, streamed; once `events()` is drained, the fields say how
    it went (what was finally sent, the text, the result or the failure, and the timing)."""

    def __init__(self, model: ChatModel, prompt: Prompt, key: ConversationKey) -> None:
        self._model = model
        self._key = key
        self.prompt = prompt
        self.text = ""
        self.result: ModelResult | None = None
        self.failure: ProviderError | None = None
        self.timing = StreamTiming()

    async def events(self, texts: Texts) -> AsyncIterator[ReplyEvent]:
        for attempt in (1, 2):
            parts: list[str] = []
            self.result, self.failure = None, None
            try:
                stream = timed(self._model.stream(self.prompt.request), self.timing)
                async with aclosing(stream) as model_events:
                    async for event in model_events:
                        if isinstance(event, TextDelta):
                            parts.append(event.text)
                            yield AnswerDelta(event.text)
                        else:
                            self.result = event
            except ProviderError as error:
                self.failure = error
            self.text = "".join(parts)
            if attempt == 2 or parts or not self._context_too_long():
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

"""One answer streamed into a Discord channel: typing, throttled edits, 2000-character parts."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiohttp
import discord

from bots.chunking import split_message

log = logging.getLogger(__name__)

LIMIT = 2000  # characters per Discord message
NO_MENTIONS = discord.AllowedMentions.none()
MAX_INTERVAL_S = 10.0  # the throttle never backs off further than this
FINAL_ATTEMPTS = 4  # the complete answer is worth a few retries; previews are not
# A dropped connection or a timeout on the way to Discord: retried like a 5xx. discord.py retries
# only 5xx and a reset connection itself; a disconnect (aiohttp.ServerDisconnectedError) would
# otherwise end the reply. A send that reached Discord before the drop may then show
# twice, which beats showing nothing.
TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


@asynccontextmanager
async def typing_indicator(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing..." while the body runs; a failure to show it never fails the reply."""

    async def keep_typing() -> None:
        while True:
            with suppress(discord.HTTPException, discord.RateLimited):
                await channel.typing()
            await asyncio.sleep(8)  # the indicator lasts ~10 s on clients

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


class StreamingMessage:
    """One streamed answer in one channel: send, then edit at most once per interval.

    A single worker task does all the Discord I/O, so `add` never waits on the network and
    edits coalesce: each edit shows everything streamed so far. Text past 2000 characters
    freezes the current message (split by `split_message`, so code fences are closed and
    reopened) and continues in a new one. `finish` makes the messages show exactly the
    final answer, whatever the previews showed.
    """

    def __init__(
        self,
        channel: discord.abc.Messageable,
        *,
        interval: float = 1.0,
        reference: discord.Message | None = None,
        limit: int = LIMIT,
    ) -> None:
        self._channel = channel
        self._interval = interval
        self._reference = reference
        self._limit = limit
        self._frozen: list[str] = []  # parts that will not change any more
        self._segment = ""  # the growing last part
        self._streamed = ""  # every delta so far, to compare with the final text
        self._final: list[str] | None = None
        self._sent: list[discord.Message] = []
        self._shown: list[str] = []
        self._last_push = 0.0
        self._wake = asyncio.Event()
        self._worker: asyncio.Task[None] | None = None
        self._aborted = False
        self._placeholder = False  # the segment shows a placeholder, not the answer

    @property
    def finishing(self) -> bool:
        return self._final is not None or self._aborted

    @property
    def streamed(self) -> str:
        return self._streamed

    @property
    def messages(self) -> list[discord.Message]:
        return list(self._sent)

    def show_placeholder(self, text: str) -> None:
        """Show `text` ("thinking…") until the first delta replaces it."""
        if not self._streamed:
            self._segment, self._placeholder = text, True
            self._kick()

    def add(self, delta: str) -> None:
        if self._placeholder:
            self._segment, self._placeholder = "", False
        self._streamed += delta
        self._segment += delta
        if len(self._segment) > self._limit:
            parts = split_message(self._segment, self._limit)
            self._frozen.extend(parts[:-1])
            # The last part may start with a reopened fence: later deltas continue inside it.
            self._segment = parts[-1]
        self._kick()

    @property
    def delivered(self) -> bool:
        """Whether Discord shows the whole final text (after `finish`)."""
        return self._final is not None and self._shown == self._final

    async def finish(self, text: str) -> None:
        """Deliver `text` completely; returns once Discord shows it (or gave up trying)."""
        if text == self._streamed and not self._placeholder:
            self._final = self._frozen + split_message(self._segment, self._limit)
        else:
            log.info("final answer differs from the streamed text; re-rendering it")
            self._final = split_message(text, self._limit) if text else []
        self._final = [part for part in self._final if part.strip()]
        self._kick()
        assert self._worker is not None
        await self._worker

    async def abort(self) -> None:
        """Stop delivering (shutdown gave up waiting); what Discord shows stays as it is."""
        self._aborted = True
        if self._worker is not None:
            self._worker.cancel()
            with suppress(asyncio.CancelledError):
                await self._worker

    def _kick(self) -> None:
        self._wake.set()
        if self._worker is None:
            self._worker = asyncio.create_task(self._work())

    def _desired(self) -> list[str]:
        if self._final is not None:
            return self._final
        return self._frozen + ([self._segment] if self._segment.strip() else [])

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._sent:
                # Edits of a message this soon after the last one would hit Discord's limits.
                await asyncio.sleep(max(0.0, self._last_push + self._interval - time.monotonic()))
            final = self._final is not None
            await self._push(self._desired(), final=final)
            if final:
                return

    async def _push(self, desired: list[str], *, final: bool) -> None:
        """Make the channel show `desired`: edit what changed, send what is new."""
        started = time.monotonic()
        for index, text in enumerate(desired):
            if index < len(self._shown) and self._shown[index] == text:
                continue
            if not await self._write(index, text, attempts=FINAL_ATTEMPTS if final else 1):
                # Later parts must not take this one's place; the next push tries again.
                break
        if final:
            for message in self._sent[len(desired) :]:
                with suppress(discord.HTTPException):
                    await message.delete()
            del self._sent[len(desired) :]
            del self._shown[len(desired) :]
        took = time.monotonic() - started
        if took > self._interval and self._sent:
            # discord.py waited out a 429 (or a depleted bucket) inside the request: slow down.
            self._interval = min(self._interval * 2, MAX_INTERVAL_S)
        self._last_push = time.monotonic()

    async def _write(self, index: int, text: str, *, attempts: int) -> bool:
        """Show `text` as part `index`; False when Discord would not take it."""
        for attempt in range(attempts):
            try:
                if index < len(self._sent):
                    try:
                        self._sent[index] = await self._sent[index].edit(
                            content=text, allowed_mentions=NO_MENTIONS
                        )
                    except discord.NotFound:
                        # Someone deleted the message mid-stream: put the text back as a new one.
                        self._sent[index] = await self._send(text, first=False)
                    self._shown[index] = text
                else:
                    message = await self._send(text, first=not self._sent)
                    self._sent.append(message)
                    self._shown.append(text)
                return True
            except discord.RateLimited as error:
                self._interval = min(max(self._interval * 2, error.retry_after), MAX_INTERVAL_S)
                await asyncio.sleep(error.retry_after)
            except discord.Forbidden:
                log.warning("no permission to send in channel %s", channel_id(self._channel))
                return False
            except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as error:
                log.warning(
                    "could not deliver a reply part (%s); attempt %d", _describe(error), attempt + 1
                )
                if attempt + 1 < attempts:
                    await asyncio.sleep(min(2**attempt, 5))
        if attempts > 1:
            log.error("gave up delivering part %d to channel %s", index, channel_id(self._channel))
        return False

    async def _send(self, text: str, *, first: bool) -> discord.Message:
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if first and self._reference is not None:
            # Quote the question, but still answer if it was deleted meanwhile.
            reference = self._reference.to_reference(fail_if_not_exists=False)
            kwargs.update(reference=reference, mention_author=False)
        return await self._channel.send(text, **kwargs)


def channel_id(channel: discord.abc.Messageable) -> object:
    return getattr(channel, "id", "?")


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__

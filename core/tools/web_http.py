"""What the web tools share about HTTP: how they name themselves, and reading a body with a cap
(streamed, stopping past it, so a 50 MB answer costs the bot at most the cap)."""

from __future__ import annotations

import re

import aiohttp

USER_AGENT = "gpt-chat-bot/0.1 (+https://github.com/; a chat bot reading a page a user named)"
_SPACES = re.compile(r"\s+")


async def read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> tuple[bytes, bool]:
    """The body's first `max_bytes` bytes, and whether there was more. Closes the connection
    when it stops early instead of draining the rest."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_any():
        room = max_bytes - size
        if len(chunk) > room:
            chunks.append(chunk[:room])
            response.close()
            return b"".join(chunks), True
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks), False


def one_line(text: str, limit: int) -> str:
    """`text` on one line (so a title cannot forge the lines of the next result), at most
    `limit` characters."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"

"""`python -m bench.telegram_model`: the fake OpenAI server for the Telegram run, in its own
process, logging when it wrote the first text of each benchmark answer.

Each line of the `--first-text` file is "chat turn monotonic-seconds"; CLOCK_MONOTONIC is one
clock for every process on the machine, so the benchmark compares it with its own times. The
time is taken as the first non-empty text chunk is handed to the socket, so a model process
slowed down by hundreds of simultaneous requests is not counted against the bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from fakes.openai_server import FakeOpenAI

ASKED = re.compile(r"chat (\d+) turn (\d+)")

_answering: ContextVar[str] = ContextVar("answering", default="")


class FirstTextLog:
    """Patches aiohttp's StreamResponse.write (in this process only) to note first texts."""

    def __init__(self, log: TextIO) -> None:
        self._log = log
        self._logged: set[str] = set()
        self._write = web.StreamResponse.write

    def install(self) -> None:
        write = self._write
        seen = self._note

        async def timed_write(response: web.StreamResponse, data: bytes) -> None:
            key = _answering.get()
            if key and key not in self._logged:
                seen(key, data)
            await write(response, data)

        web.StreamResponse.write = timed_write  # type: ignore[method-assign]

    def _note(self, key: str, data: bytes) -> None:
        if not data.startswith(b"data: {"):
            return
        choices = json.loads(data[6:]).get("choices") or [{}]
        if (choices[0].get("delta") or {}).get("content"):
            self._logged.add(key)
            self._log.write(f"{key} {time.monotonic()!r}\n")
            self._log.flush()


class TimedFakeOpenAI(FakeOpenAI):
    async def _stream(self, request: web.Request, reply: Any, text: str, *args: Any) -> Any:
        found = ASKED.search(text)
        token = _answering.set(f"{found.group(1)} {found.group(2)}" if found else "")
        try:
            return await super()._stream(request, reply, text, *args)
        finally:
            _answering.reset(token)


async def serve(port: int, latency_s: float, first_token_s: float, log: TextIO) -> None:
    FirstTextLog(log).install()
    async with TimedFakeOpenAI(
        port=port, latency_s=latency_s, first_token_delay_s=first_token_s
    ) as llm:
        print(f"Fake OpenAI listening: OPENAI_BASE_URL={llm.base_url}", flush=True)
        await asyncio.Event().wait()


FIRST_TOKEN_S = 0.05  # the model's first text comes this long after the request
LATENCY_S = 0.3  # and its whole answer this long after


def first_text_args(log: Path) -> tuple[str, ...]:
    """`FakeModelProcess` arguments for this module: the first text after FIRST_TOKEN_S, each
    noted in `log`."""
    return ("--first-token", str(FIRST_TOKEN_S), "--first-text", str(log))


def read_first_texts(path: Path) -> dict[tuple[int, int], float]:
    first: dict[tuple[int, int], float] = {}
    for line in path.read_text().splitlines():
        chat, turn, at = line.split()
        first[(int(chat), int(turn))] = float(at)
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, required=True, help="seconds per reply")
    parser.add_argument("--first-token", type=float, required=True, help="seconds to 1st token")
    parser.add_argument("--first-text", type=Path, required=True, help="where to log them")
    args = parser.parse_args()
    with args.first_text.open("w") as log, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.latency, args.first_token, log))


if __name__ == "__main__":
    main()

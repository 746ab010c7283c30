"""`python -m bench.telegram_model`: the fake OpenAI server for the Telegram run, in its own
process, logging when each benchmark question reached it.

Each line of the `--asked` file is "chat turn monotonic-seconds"; CLOCK_MONOTONIC is one clock
for every process on the machine, so the benchmark compares it with its own times.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import time
from pathlib import Path
from typing import Any, TextIO

from tests.fakes.openai_server import FakeOpenAI, default_responder

ASKED = re.compile(r"chat (\d+) turn (\d+)")


async def serve(port: int, latency_s: float, first_token_s: float, log: TextIO) -> None:
    def responder(body: dict[str, Any]) -> str:
        found = ASKED.search(str(body["messages"][-1]["content"]))
        if found:
            log.write(f"{found.group(1)} {found.group(2)} {time.monotonic()!r}\n")
            log.flush()
        return default_responder(body)

    async with FakeOpenAI(
        port=port, latency_s=latency_s, first_token_delay_s=first_token_s, responder=responder
    ) as llm:
        print(f"Fake OpenAI listening: OPENAI_BASE_URL={llm.base_url}", flush=True)
        await asyncio.Event().wait()


def read_asked(path: Path) -> dict[tuple[int, int], float]:
    asked: dict[tuple[int, int], float] = {}
    for line in path.read_text().splitlines():
        chat, turn, at = line.split()
        asked[(int(chat), int(turn))] = float(at)
    return asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, required=True, help="seconds per reply")
    parser.add_argument("--first-token", type=float, required=True, help="seconds to 1st token")
    parser.add_argument("--asked", type=Path, required=True, help="where to log questions")
    args = parser.parse_args()
    with args.asked.open("w") as log, contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.latency, args.first_token, log))


if __name__ == "__main__":
    main()

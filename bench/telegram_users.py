"""The outside world of the Telegram benchmark, in its own process: the fake Bot API server
(fakes/telegram_api.py) and the users who write to the bot.

Telegram runs elsewhere; serving its fake from the bot's own event loop made every Bot API call
pay for the server's side too (accepting, parsing, answering, and the users' bookkeeping), which
at hundreds of chats showed up as seconds of delay that a real deployment does not have.

`python -m bench.telegram_users --chats N --turns T --out FILE` prints
`TELEGRAM_BASE_URL=... TOKEN=...`, waits for the bot's first getUpdates, prints `STARTED`, runs
the chats (each
sends its messages one after another, waiting for each answer), writes what happened to FILE as
JSON (times on the machine-wide monotonic clock), prints `DONE`, and keeps serving until it is
terminated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from fakes.telegram_api import FakeTelegram

FIRST_CHAT_ID = 10_000
DELIVERY = ("sendMessageDraft", "sendMessage", "editMessageText")


async def run_users(chats: int, turns: int, out: Path) -> None:
    async with FakeTelegram() as tg:
        print(f"TELEGRAM_BASE_URL={tg.root_url} TOKEN={tg.token}", flush=True)
        await tg.wait_until(lambda: bool(tg.calls_to("getUpdates")), 60)
        print("STARTED", flush=True)  # the bot counts its CPU from here: start-up is not a turn
        sent: dict[str, float] = {}
        ended: dict[str, float] = {}

        def answered(chat_id: int, asked_id: int, text: str) -> bool:
            # The answer is one of the next few messages in the chat (a notice could come
            # first); looked up by id, so waiting costs the same however many chats run.
            for message_id in range(asked_id + 1, asked_id + 4):
                message = tg.messages.get((chat_id, message_id))
                if message is not None and message.text.startswith(f"You said: {text}."):
                    return True
            return False

        async def chat(number: int) -> None:
            chat_id = FIRST_CHAT_ID + number
            for turn in range(turns):
                text = f"chat {number} turn {turn}"
                sent[f"{number}:{turn}"] = time.monotonic()
                asked_id = tg.send_text(chat_id, text)["message_id"]
                await tg.wait_for_chat(
                    chat_id,
                    lambda: answered(chat_id, asked_id, text),  # noqa: B023
                    300,
                )
                ended[f"{number}:{turn}"] = time.monotonic()

        started = time.monotonic()
        await asyncio.gather(*(chat(n) for n in range(chats)))
        wall_s = time.monotonic() - started
        delivery = [
            [int(call.params["chat_id"]) - FIRST_CHAT_ID, call.at]
            for call in tg.calls
            if call.method in DELIVERY
        ]
        log = {"sent": sent, "ended": ended, "delivery": delivery, "wall_s": wall_s}
        await asyncio.to_thread(out.write_text, json.dumps(log))
        print("DONE", flush=True)
        await asyncio.Event().wait()  # keep answering the bot (its shutdown polls once more)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.telegram_users")
    parser.add_argument("--chats", type=int, required=True)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(run_users(args.chats, args.turns, args.out))


if __name__ == "__main__":
    main()

"""The console adapter: chat with the core in a terminal, or script it through a pipe."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import itertools
import locale
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bots.inflight import RepliesInFlight
from config.settings import Settings
from core.boundary import (
    AnswerDelta,
    AnswerDone,
    Attachment,
    Author,
    ChatPort,
    Choice,
    CommandReply,
    ConversationKey,
    Failure,
    FetchFailed,
    ImageReply,
    IncomingMessage,
    Notice,
    Reasoning,
    ReplyEvent,
    Thinking,
    TooLarge,
    VoiceReply,
    kind_of,
    media_type_of,
)

CONSOLE_KEY = ConversationKey(platform="console", chat_id="local")
ATTACH = "/attach"
CONFIRM = "/confirm "  # a tool's "Run …? Yes / No": the turn waits for the answer


def to_incoming(line: str) -> IncomingMessage:
    """A typed line; `/attach PATH [text]` sends a local file with that text, as a user of a
    chat app sends a file with a caption (a path with spaces goes in quotes)."""
    user = getpass.getuser()
    text = line
    attachments: tuple[Attachment, ...] = ()
    first, _, rest = line.strip().partition(" ")
    if first.lower() == ATTACH:
        path, text = _path_and_text(rest.strip())
        attachments = (local_attachment(Path(path).expanduser()),) if path else ()
    return IncomingMessage(
        key=CONSOLE_KEY,
        author=Author(user_id=user, display_name=user, language=_language(), can_manage=True),
        text=text,
        addressed=True,
        is_private=True,
        attachments=attachments,
    )


REASONING_LINES = 8  # a model's thinking, shown: its first lines
ERASE_LINE = "\r\x1b[K"


def reasoning_block(text: str) -> str:
    """The model's thinking as a short block of "│ "-prefixed lines."""
    lines = text.strip().splitlines() or [""]
    shown = lines[:REASONING_LINES] + (["…"] if len(lines) > REASONING_LINES else [])
    return "\n".join("│ " + line for line in shown) + "\n"


def _path_and_text(arguments: str) -> tuple[str, str]:
    quote = arguments[:1]
    if quote in ("'", '"') and quote in arguments[1:]:
        end = arguments.index(quote, 1)
        return arguments[1:end], arguments[end + 1 :].strip()
    path, _, text = arguments.partition(" ")
    return path, text.strip()


def local_attachment(path: Path) -> Attachment:
    """A file on this machine, described as a platform describes an upload; a file that cannot
    be read fails at the fetch, and the core says so."""
    media_type = media_type_of(path.name)
    try:
        size: int | None = path.stat().st_size
    except OSError:
        size = None
    return Attachment(
        kind=kind_of(media_type),
        media_type=media_type,
        size=size,
        file_name=path.name,
        fetch=_read_local(path),
    )


def _read_local(path: Path) -> Callable[[int], Awaitable[bytes]]:
    def read(max_bytes: int) -> bytes:
        with path.open("rb") as file:
            return file.read(max_bytes + 1)

    async def fetch(max_bytes: int) -> bytes:
        try:
            data = await asyncio.to_thread(read, max_bytes)
        except OSError as error:
            raise FetchFailed(type(error).__name__) from None
        if len(data) > max_bytes:
            raise TooLarge()
        return data

    return fetch


async def print_replies(
    events: AsyncIterator[ReplyEvent],
    out: TextIO,
    media_dir: Path = Path("media-out"),
    asking: Callable[[tuple[Choice, ...]], None] | None = None,
) -> None:
    """Print a reply as it streams; every event ends on its own line. In a terminal, "thinking…"
    shows until the answer's first words overwrite it (a pipe gets only the answers). Images
    and voice messages are written into `media_dir`, each file's path on a line of its own.
    A reply's buttons are shown as "[Yes / No]"; `asking` hears of a question the turn waits
    on (a tool's confirmation), which the next typed line answers."""
    streaming = False
    placeholder = False
    async for event in events:
        if placeholder and not isinstance(event, Thinking):
            out.write(ERASE_LINE)
            placeholder = False
        match event:
            case Thinking(text=text):
                if out.isatty() and not streaming:
                    # One line, which the next placeholder (a tool's progress) or the answer
                    # erases.
                    if placeholder:
                        out.write(ERASE_LINE)
                    out.write(" · ".join(text.splitlines()))
                    out.flush()
                    placeholder = True
            case Reasoning(text=text):
                out.write(reasoning_block(text))
            case AnswerDelta(text=text):
                out.write(text)
                out.flush()
                streaming = True
            case AnswerDone():
                if streaming:
                    out.write("\n")
                streaming = False
            case Notice(text=text) | CommandReply(text=text) | Failure(text=text):
                if streaming:
                    out.write("\n")
                    streaming = False
                choices = event.choices if isinstance(event, CommandReply) else ()
                labels = " / ".join(choice.label for choice in choices)
                out.write(text + (f" [{labels}]" if labels else "") + "\n")
                out.flush()
                if asking is not None and any(c.command.startswith(CONFIRM) for c in choices):
                    asking(choices)
            case ImageReply() | VoiceReply():
                if streaming:
                    out.write("\n")
                    streaming = False
                if event.caption:
                    out.write(event.caption + "\n")
                out.write(f"{save_media(event, media_dir)}\n")
    if placeholder:
        out.write(ERASE_LINE)
    if streaming:
        out.write("\n")
    out.flush()


MEDIA_SUFFIXES = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def save_media(reply: ImageReply | VoiceReply, folder: Path) -> Path:
    """Write a picture or a voice message into `folder` under a new name; its path."""
    folder.mkdir(parents=True, exist_ok=True)
    kind = "image" if isinstance(reply, ImageReply) else "voice"
    suffix = MEDIA_SUFFIXES.get(reply.media_type, ".ogg" if kind == "voice" else ".bin")
    for number in itertools.count(1):
        path = folder / f"{kind}-{number:04d}{suffix}"
        try:
            with path.open("xb") as file:  # never overwrites an earlier one
                file.write(reply.data)
        except FileExistsError:
            continue
        return path
    raise AssertionError("unreachable")


QUIT = ("/quit", "/exit")


class ConsolePush:
    """What the core sends unasked (a reminder), printed like a reply."""

    def __init__(self, out: TextIO, media_dir: Path = Path("media-out")) -> None:
        self._out = out
        self._media_dir = media_dir

    async def push(self, key: ConversationKey, events: Sequence[ReplyEvent]) -> bool:
        try:
            await print_replies(_each(events), self._out, self._media_dir)
        except OSError:  # stdout closed
            return False
        return True


async def _each(events: Iterable[ReplyEvent]) -> AsyncIterator[ReplyEvent]:
    for event in events:
        yield event


async def run_console(chat: ChatPort, settings: Settings, stop: asyncio.Event) -> None:
    """One message per input line until EOF or /quit (or until `stop` is set); a reply still
    streaming when `stop` is set may finish within the shutdown grace period, like every
    adapter's. In a terminal, Ctrl-C stops the reply being streamed, and quits at the prompt."""
    interactive = sys.stdin.isatty()
    replying: list[asyncio.Task[None]] = []  # the reply streaming now, if any
    if interactive:
        print("Chatting in the console. /help lists the commands; Ctrl-C stops a reply; /quit.")
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, _interrupt, replying, stop)
    replies = RepliesInFlight()
    push = ConsolePush(sys.stdout, settings.media_out_dir)
    withdraw = chat.offer_push(CONSOLE_KEY.platform, push)
    try:
        await _chat_lines(chat, settings, stop, interactive, replying, replies)
    finally:
        withdraw()


async def _chat_lines(
    chat: ChatPort,
    settings: Settings,
    stop: asyncio.Event,
    interactive: bool,
    replying: list[asyncio.Task[None]],
    replies: RepliesInFlight,
) -> None:
    lines = _lines(stop, prompt="you> " if interactive else "")
    async for line in lines:
        if not line.strip():
            continue
        if line.strip().lower() in QUIT:
            return
        asked = _Asked()
        reply = asyncio.create_task(_reply(chat, line, replies, settings.media_out_dir, asked))
        replying[:] = [reply]
        stopping = asyncio.ensure_future(stop.wait())
        while True:
            waiting = asyncio.ensure_future(asked.event.wait())
            await asyncio.wait({reply, stopping, waiting}, return_when=asyncio.FIRST_COMPLETED)
            waiting.cancel()
            if reply.done() or stop.is_set() or not asked.choices:
                break
            # The turn waits for an answer: the next line gives it ("yes", or the command).
            asked.event.clear()
            answer = await anext(lines, None)
            if answer is None:
                break
            typed = {choice.label.lower(): choice.command for choice in asked.choices.pop()}
            command = typed.get(answer.strip().lower(), answer)
            await _reply(chat, command, replies, settings.media_out_dir)
        stopping.cancel()
        if stop.is_set():
            await replies.drain(settings.shutdown_grace_s)
        with contextlib.suppress(asyncio.CancelledError):
            await reply
        replying.clear()
        if reply.cancelled() and not stop.is_set():
            print("\n(stopped)", flush=True)


class _Asked:
    """The questions a turn asked and waits on (a tool's confirmation)."""

    def __init__(self) -> None:
        self.choices: list[tuple[Choice, ...]] = []
        self.event = asyncio.Event()

    def __call__(self, choices: tuple[Choice, ...]) -> None:
        self.choices.append(choices)
        self.event.set()


def _interrupt(replying: list[asyncio.Task[None]], stop: asyncio.Event) -> None:
    """Ctrl-C: stop the reply being streamed (the bot keeps running); at the prompt, quit."""
    if replying and not replying[0].done():
        replying[0].cancel()  # the core keeps the question, without a half answer
    else:
        stop.set()


async def _reply(
    chat: ChatPort,
    line: str,
    replies: RepliesInFlight,
    media_dir: Path,
    asking: Callable[[tuple[Choice, ...]], None] | None = None,
) -> None:
    with replies.tracked():
        await print_replies(chat.handle(to_incoming(line)), sys.stdout, media_dir, asking)


async def _lines(stop: asyncio.Event, prompt: str) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        if prompt:
            print(prompt, end="", flush=True)
        # A thread read works for pipes, files and terminals alike; waiting on it together with
        # `stop` lets SIGTERM end the console without another line of input. The thread is a
        # daemon of its own: one left blocked in readline() must not hold up the exit (the
        # default executor's threads are joined at shutdown, and would wait for input forever).
        read: asyncio.Future[str] = loop.create_future()
        threading.Thread(target=_read_line, args=(loop, read), daemon=True).start()
        stopped = asyncio.ensure_future(stop.wait())
        waiting: set[asyncio.Future[Any]] = {read, stopped}
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if read not in done:
            return
        line = read.result()
        if not line:  # EOF
            return
        yield line.rstrip("\n")


def _read_line(loop: asyncio.AbstractEventLoop, future: asyncio.Future[str]) -> None:
    try:
        line = sys.stdin.readline()
    except (OSError, ValueError):  # stdin closed under us: treat as EOF
        line = ""

    def hand_over() -> None:
        if not future.done():
            future.set_result(line)

    with contextlib.suppress(RuntimeError):  # the loop is gone: the console has ended
        loop.call_soon_threadsafe(hand_over)


def _language() -> str | None:
    tag = os.environ.get("LC_ALL") or os.environ.get("LANG") or locale.getlocale()[0]
    return tag.split(".")[0].replace("_", "-") if tag else None

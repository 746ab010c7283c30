"""`python -m bench --media`: ten 20 MB voice notes arriving at once, and the bot's memory.

Ten chats each send a 20 MB voice note at the same moment, through the core's entry point
(`ChatService.handle`); each attachment's fetch makes its bytes when the core asks, as a
platform download would, so they are not in the baseline. The notes are transcribed through
the real `openai` client (a multipart upload) by the fake OpenAI server in its own process, and
answered. Figures, for this process (the bot's): RSS before (after one small warm-up note, so
connections and lazy imports are paid), the peak while the notes are read (VmHWM reset through
/proc/self/clear_refs where the kernel allows it, and a thread reading VmRSS every 2 ms), and
after (gc.collect()). Issue 13: peak growth under 3x the notes' total size, and back to the
baseline after. Each note is held once, so the floor is 1x.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from bench.harness import (
    FakeModelProcess,
    Workdir,
    message,
    peak_rss_mb,
    rss_mb,
    running_bot,
    settled_rss_mb,
)
from core.bootstrap import App
from core.boundary import AnswerDone, Attachment, Failure

MB = 1024 * 1024
NOTES = 10
NOTE_MB = 20
SAMPLE_S = 0.002


@dataclass(frozen=True, slots=True)
class MediaResult:
    notes: int
    note_mb: float
    baseline_mb: float
    peak_mb: float
    after_mb: float
    answered: int

    @property
    def total_mb(self) -> float:
        return self.notes * self.note_mb

    @property
    def peak_ratio(self) -> float:
        """Peak RSS growth over the notes' total size (target < 3)."""
        return (self.peak_mb - self.baseline_mb) / self.total_mb

    @property
    def after_growth_mb(self) -> float:
        return self.after_mb - self.baseline_mb

    def table(self) -> str:
        return (
            f"media: {self.notes} x {self.note_mb:g} MB voice notes at once "
            f"({self.answered} answered); RSS {self.baseline_mb:.1f} MB before, "
            f"peak {self.peak_mb:.1f} MB (growth {self.peak_ratio:.2f}x their "
            f"{self.total_mb:g} MB; target < 3x), {self.after_mb:.1f} MB after "
            f"({self.after_growth_mb:+.1f} MB)"
        )


def write_voice_note(path: Path, size: int) -> None:
    """An OGG/Opus-shaped voice note (tests/media_fixtures.py's shape) padded to `size` bytes
    with zeros; the fake transcriber hears what follows `SAY:`."""
    head = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00"
    said = head + b"SAY:what did I say\x00"
    with path.open("wb") as out:
        out.write(said)
        out.truncate(size)


def voice_attachment(path: Path, size: int) -> Attachment:
    async def fetch(max_bytes: int) -> bytes:
        # Read when the core asks, into one buffer of the file's size, as a download arrives
        # (and as the console adapter reads a file): the notes are not in the baseline, and
        # making them costs no copy of its own.
        return await asyncio.to_thread(path.read_bytes)

    return Attachment("voice", "audio/ogg", size, "voice.ogg", fetch, duration_s=60.0)


class _Sampler:
    """The highest VmRSS seen while running, read every `SAMPLE_S` from its own thread (a
    peak between two reads is missed; VmHWM, when it can be reset, is not)."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.peak_mb = max(self.peak_mb, rss_mb())

    def __enter__(self) -> _Sampler:
        self.peak_mb = rss_mb()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS ("5" to clear_refs, Linux 4.0+); False where refused."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


async def _voice_turn(app: App, chat: str, note: Path, size: int) -> bool:
    first = replace(message(chat, ""), attachments=(voice_attachment(note, size),))
    answered = False
    async for event in app.service.handle(first):
        if isinstance(event, Failure):
            raise RuntimeError(f"{chat}: {event.text}")
        answered = answered or isinstance(event, AnswerDone)
    return answered


async def run_media(
    notes: int = NOTES, note_mb: float = NOTE_MB, model_url: str = ""
) -> MediaResult:
    """`model_url`: a fake OpenAI server already running (the tests'); else one is started in
    its own process."""
    if not model_url:
        async with FakeModelProcess(0.0) as model:
            return await run_media(notes, note_mb, model.base_url)
    workdir = Workdir()
    size = int(note_mb * MB)
    note, warm_up = workdir.path / "voice.ogg", workdir.path / "warm-up.ogg"
    write_voice_note(note, size)
    write_voice_note(warm_up, 64 * 1024)
    try:
        async with running_bot(workdir.sqlite(), model_url, workdir, max_voice_mb=25.0) as (
            app,
            _log,
        ):
            await _voice_turn(app, "warm-up", warm_up, 64 * 1024)
            baseline = settled_rss_mb()
            hwm = _reset_peak()
            with _Sampler() as sampler:
                done = await asyncio.gather(
                    *(_voice_turn(app, f"voice-{n}", note, size) for n in range(notes))
                )
            peak = max(sampler.peak_mb, peak_rss_mb() if hwm else 0.0)
            after = settled_rss_mb()
    finally:
        workdir.close()
    return MediaResult(notes, note_mb, baseline, peak, after, sum(done))

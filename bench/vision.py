"""`python -m bench --vision`: what one stored photo in the window adds to a text turn's bot time.

Two chats on gpt-4o take the same text turns; one of them sent a 1600x1200 photo first (stored
at high detail, 1024x768: a ~100 kB JPEG, 765 tokens). The photo is decoded, scaled and counted
once, when it arrives; later turns send its ready data URL, so the difference between the two
chats' bot time (TurnStats.bot_s) should stay well under 2 ms (issue 13).
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass, replace

from PIL import Image

from bench.harness import FakeModelProcess, Workdir, message, percentile, running_bot
from bench.seed import chat_text
from core.boundary import AnswerDone, Attachment, Failure

WARMUP_TURNS = 5


@dataclass(frozen=True, slots=True)
class VisionResult:
    turns: int
    text_p50_ms: float
    image_p50_ms: float

    @property
    def added_ms(self) -> float:
        return self.image_p50_ms - self.text_p50_ms

    def table(self) -> str:
        return (
            f"vision: {self.turns} text turns per chat; bot time p50 without a stored image "
            f"{self.text_p50_ms:.2f} ms, with one {self.image_p50_ms:.2f} ms "
            f"(adds {self.added_ms:+.2f} ms; target < 2 ms)"
        )


def _photo() -> bytes:
    out = io.BytesIO()
    rng = random.Random(7)
    image = Image.effect_noise((1600, 1200), 40).convert("RGB")
    image.putpixel((rng.randrange(1600), rng.randrange(1200)), (255, 0, 0))
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def run_vision(turns: int = 60) -> VisionResult:
    workdir = Workdir()
    data = _photo()

    async def fetch(max_bytes: int) -> bytes:
        return data

    photo = Attachment("image", "image/jpeg", len(data), "photo.jpg", fetch)
    try:
        async with (
            FakeModelProcess(0.0) as model,
            running_bot(workdir.sqlite(), model.base_url, workdir, default_model="gpt-4o") as (
                app,
                log,
            ),
        ):
            for chat, attachments in (("text", ()), ("image", (photo,))):
                first = replace(message(chat, "what is in this picture?"), attachments=attachments)
                async for event in app.service.handle(first):
                    if isinstance(event, Failure):
                        raise RuntimeError(event.text)
            rng = random.Random(1)
            texts = [chat_text(rng) for _ in range(WARMUP_TURNS + turns)]
            timings: dict[str, list[float]] = {"text": [], "image": []}
            for index, text in enumerate(texts):
                for chat in ("text", "image"):  # interleaved: the machine's noise hits both
                    log.clear()
                    async for event in app.service.handle(message(chat, text)):
                        if isinstance(event, Failure):
                            raise RuntimeError(event.text)
                        assert not isinstance(event, AnswerDone) or event.text
                    if index >= WARMUP_TURNS:
                        timings[chat] += [stats.bot_s * 1000 for stats in log.turns]
    finally:
        workdir.close()
    return VisionResult(
        turns=turns,
        text_p50_ms=percentile(timings["text"], 50),
        image_p50_ms=percentile(timings["image"], 50),
    )

"""Photos read by the model (vision) through the whole core: the real bootstrap, the real openai
client against the fake server (which counts image tokens by its own reading of the published
rules), a real database. The stored counts must equal the server's, the image must stay in the
prompt while its message is in the window, and go when the window is trimmed."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from PIL import Image
from sqlalchemy import select

from core.bootstrap import App
from core.boundary import CommandReply, Failure
from core.model.image_tokens import ImageRule
from core.storage.schema import ConversationRow, MessageImageRow, MessageRow, UsageRow
from core.texts import EN
from fakes.openai_server import (
    FakeOpenAI,
    count_prompt_tokens,
    count_request_tokens,
    count_tool_definitions,
)
from tests.core.helpers import ADMIN, collect, group, private, say
from tests.core.test_conversation import rows
from tests.database import session_on
from tests.media_fixtures import attachment, photo

MakeApp = Callable[..., AbstractAsyncContextManager[App]]
PRIMER = 3  # the fake's reply primer, counted once per prompt


def image_parts(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    if isinstance(content, str):
        return []
    return [part for part in content if part["type"] == "image_url"]


def sent_images(llm: FakeOpenAI) -> list[dict[str, Any]]:
    return [part for m in llm.last_messages for part in image_parts(m)]


def decoded(part: dict[str, Any]) -> Image.Image:
    url = part["image_url"]["url"]
    header, data = url.split(",", 1)
    assert header in ("data:image/jpeg;base64", "data:image/png;base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


def a_photo(width: int = 1000, height: int = 600, kind: str = "JPEG") -> Any:
    media_type = "image/jpeg" if kind == "JPEG" else "image/png"
    return attachment("image", photo(width, height, kind), f"photo.{kind.lower()}", media_type)


async def stored_images(app: App) -> list[MessageImageRow]:
    async with session_on(app) as session:
        return list((await session.scalars(select(MessageImageRow))).all())


async def test_a_photo_goes_to_the_model_and_is_counted_as_the_server_counts(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    # gpt-4o-mini's images cost 2833 + 5667 a tile: room for one.
    async with make_app(default_context_tokens=40_000) as app:
        answer = await say(app.service, private("what colour is this?", attachments=(a_photo(),)))
        await check_the_first_photo(app, llm, answer)


async def check_the_first_photo(app: App, llm: FakeOpenAI, answer: str) -> None:
    user = llm.last_messages[-1]
    assert user["content"][0] == {"type": "text", "text": "what colour is this?"}
    [part] = image_parts(user)
    # gpt-4o-mini is tile-counted: 1000x600 fits 2048, its short side 600 is under 768.
    assert part["image_url"]["detail"] == "high"
    assert decoded(part).size == (1000, 600)
    assert answer.startswith("You said: what colour is this?")
    [stored_user, _] = await rows(app, MessageRow)
    [usage] = await rows(app, UsageRow)
    # The message's stored count is exactly the fake's own count of it...
    assert stored_user.tokens == count_prompt_tokens([user], "gpt-4o-mini") - PRIMER
    assert stored_user.tokens > 2833 + 5667 * 2  # two by two tiles of gpt-4o-mini's
    # ...and the whole prompt's reported tokens are what was stored plus the system prompt.
    system = count_prompt_tokens([llm.last_messages[0]], "gpt-4o-mini") - PRIMER
    assert usage.prompt_tokens == system + stored_user.tokens + PRIMER + count_tool_definitions(
        llm.last_body
    )
    [image] = await stored_images(app)
    assert (image.width, image.height, image.detail) == (1000, 600, "high")
    assert image.tokens == 2833 + 5667 * 4


async def test_the_image_stays_while_its_message_is_in_the_window_then_goes(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    # Room for the photo at low detail (85) plus a few turns of text, not many.
    async with make_app(default_model="gpt-4o", default_context_tokens=400) as app:
        await collect(app.service, private("/set image_detail low"))
        await say(app.service, private("what colour is this?", attachments=(a_photo(),)))
        assert [p["image_url"]["detail"] for p in sent_images(llm)] == ["low"]
        assert decoded(sent_images(llm)[0]).size == (512, 307)  # stored as low detail sees it
        first_url = sent_images(llm)[0]["image_url"]["url"]
        for turn in range(2):
            await say(app.service, private(f"and now? {turn}"))
            assert [p["image_url"]["url"] for p in sent_images(llm)] == [first_url]
            count = count_request_tokens(llm.last_body)
            [*_, usage] = await rows(app, UsageRow)
            assert usage.prompt_tokens == count
        for turn in range(40):
            await say(app.service, private(f"tell me more, turn {turn}, with some words"))
            if not sent_images(llm):
                break
        assert sent_images(llm) == []  # trimmed with its message, like text
        assert len(llm.last_messages) > 2  # the text after it stayed
        [*_, usage] = await rows(app, UsageRow)
        assert usage.prompt_tokens == count_request_tokens(llm.last_body)


async def test_a_patch_counted_model(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(default_model="gpt-4.1-mini") as app:
        await say(app.service, private("and this?", attachments=(a_photo(3000, 2000, "PNG"),)))
        [part] = sent_images(llm)
        width, height = decoded(part).size
        rule = ImageRule("patches", multiplier=1.62)
        assert (width, height) == rule.scaled(3000, 2000, "high")
        [stored_user, _] = await rows(app, MessageRow)
        user = llm.last_messages[-1]
        assert stored_user.tokens == count_prompt_tokens([user], "gpt-4.1-mini") - PRIMER
        [image] = await stored_images(app)
        assert image.tokens == rule.tokens(width, height, "high") <= 1536 * 1.62 + 1


async def test_a_model_switch_recounts_the_stored_image(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(default_model="gpt-4o", allowed_models="*") as app:
        await say(app.service, private("look", attachments=(a_photo(),)))
        await collect(app.service, private("/model gpt-4.1-mini"))
        await say(app.service, private("again?"))
        [image] = await stored_images(app)
        assert image.counted_for == "patches:1.62:1536"
        # The photo's message, counted again for the new model, as the server counts it.
        first = (await rows(app, MessageRow))[0]
        sent = llm.last_messages[1]
        assert first.tokens == count_prompt_tokens([sent], "gpt-4.1-mini") - PRIMER
        await collect(app.service, private("/model gpt-3.5-turbo"))
        await say(app.service, private("and now?"))
        assert sent_images(llm) == []  # a model that reads no images is sent none
        first = (await rows(app, MessageRow))[0]
        sent = llm.last_messages[1]
        assert first.tokens == count_prompt_tokens([sent], "gpt-3.5-turbo") - PRIMER


async def test_a_model_that_cannot_see_offers_models_that_can(
    make_app: MakeApp, llm: FakeOpenAI
) -> None:
    async with make_app(default_model="gpt-3.5-turbo") as app:
        events = await collect(app.service, private("what is it?", attachments=(a_photo(),)))
        [reply] = events
        assert isinstance(reply, CommandReply)
        assert reply.text.startswith("gpt-3.5-turbo can't see images.")
        assert reply.choices and all(c.command.startswith("/model ") for c in reply.choices)
        assert "/model gpt-4o" in [c.command for c in reply.choices]
        assert llm.chat_requests == []
        assert await rows(app, MessageRow) == []


async def test_images_turned_off_is_one_line(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(images_enabled=False) as app:
        events = await collect(app.service, private("what is it?", attachments=(a_photo(),)))
        assert events == [Failure(EN["vision.off"])]
        assert llm.requests == [] and await rows(app, MessageRow) == []


async def test_a_chat_turns_photos_off_and_on(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(default_context_tokens=40_000) as app:
        assert "photos" in await say(app.service, group("/set photos off", author=ADMIN))
        assert "photos: off" in await say(app.service, group("/settings"))
        events = await collect(app.service, group("what is it?", attachments=(a_photo(),)))
        assert events == [Failure(EN["vision.off_chat"])]
        assert llm.requests == [] and await rows(app, MessageRow) == []
        await say(app.service, group("/set photos on", author=ADMIN))
        answer = await say(app.service, group("what is it?", attachments=(a_photo(),)))
        assert answer.startswith("You said:") and len(sent_images(llm)) == 1
    async with make_app(images_enabled=False) as app:  # the owner's switch wins
        await say(app.service, group("/set photos on", author=ADMIN))
        events = await collect(app.service, group("what is it?", attachments=(a_photo(),)))
        assert events == [Failure(EN["vision.off"])]


async def test_what_is_not_an_image_is_one_line(make_app: MakeApp, llm: FakeOpenAI) -> None:
    broken = attachment("image", b"\xff\xd8 not really", "x.jpg", "image/jpeg")
    async with make_app(default_model="gpt-4o") as app:
        events = await collect(app.service, private("what is it?", attachments=(broken,)))
        assert events == [Failure(EN["vision.unreadable"].format(name="x.jpg"))]
        assert llm.requests == [] and await rows(app, MessageRow) == []


async def test_forget_deletes_stored_images(make_app: MakeApp, llm: FakeOpenAI) -> None:
    async with make_app(default_model="gpt-4o") as app:
        await say(app.service, private("look", attachments=(a_photo(),)))
        assert len(await stored_images(app)) == 1
        await collect(app.service, private("/forget"))
        assert await stored_images(app) == []
        assert await rows(app, ConversationRow) == []

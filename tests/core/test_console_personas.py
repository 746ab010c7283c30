"""The console's Personas port: saved like /newpersona saves, found by /persona in the chat it
was saved for, or in every chat from the global list; edited, copied; refused as /newpersona
refuses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.bootstrap import App
from core.boundary import CommandReply, ConversationKey
from core.console.personas import GLOBAL, PersonaDraft, Space
from core.console.playground import PlaygroundForm, PlaygroundMessage
from core.model.params import InvalidParam
from core.texts import Texts
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import PRIVATE, collect, private, say

CHAT = Space("telegram", PRIVATE.chat_id)  # a private chat's space is the chat
OTHER_KEY = ConversationKey("telegram", "5005")
PIRATE = "You are a cheerful pirate. Answer in pirate speak."


async def refusal(coroutine: object) -> str:
    with pytest.raises(InvalidParam) as refused:
        await coroutine  # type: ignore[misc]
    return Texts("en").get(refused.value.key, **refused.value.values)


async def test_a_playground_preset_saved_as_persona_is_used_by_persona(
    app: App, llm: FakeOpenAI
) -> None:
    """Save as persona takes the Playground's system prompt, model and parameters."""
    preset = PlaygroundForm(
        model="gpt-4.1-mini",
        system_prompt=PIRATE,
        messages=(PlaygroundMessage("user", "Ahoy"),),
        params={"temperature": "1.3", "stop": "ARR", "top_p": ""},
    )
    draft = PersonaDraft("pirate", preset.system_prompt, model=preset.model, params=preset.params)
    await app.workbench.personas.create(CHAT, draft)
    assert "Persona is now pirate" in await say(app.service, private("/persona pirate"))
    await say(app.service, private("Where is the treasure?"))
    sent = llm.last_body
    assert sent["messages"][0] == {"role": "system", "content": PIRATE}
    assert sent["model"] == "gpt-4.1-mini"
    assert sent["temperature"] == 1.3 and sent["stop"] == ["ARR"] and "top_p" not in sent
    # Another chat does not have it.
    other = await say(app.service, private("/persona pirate", key=OTHER_KEY))
    assert other == "There is no persona named 'pirate'. See /personas."


async def test_a_global_persona_is_found_in_every_chat(app: App, llm: FakeOpenAI) -> None:
    await app.workbench.personas.create(GLOBAL, PersonaDraft("pirate", PIRATE))
    for key in (PRIVATE, OTHER_KEY):
        assert "Persona is now pirate" in await say(
            app.service, private("/persona pirate", key=key)
        )
        assert "pirate (for every chat)" in await say(app.service, private("/personas", key=key))
        await say(app.service, private("Hi", key=key))
        assert llm.last_messages[0]["content"] == PIRATE
    # A chat's own persona of that name wins over the global one.
    await app.workbench.personas.create(CHAT, PersonaDraft("pirate", "You are a quiet pirate."))
    await say(app.service, private("Hi again"))
    assert llm.last_messages[0]["content"] == "You are a quiet pirate."


async def test_editing_a_persona_changes_the_next_turn_of_chats_using_it(
    app: App, llm: FakeOpenAI
) -> None:
    personas = app.workbench.personas
    # Saved from the chat: with the chat's settings, one of which the console's form lacks.
    for command in (
        "/set temperature 0.2",
        "/set show_reasoning on",
        f"/newpersona pirate {PIRATE}",
    ):
        await say(app.service, private(command))
    for command in ("/set temperature default", "/set show_reasoning default", "/persona pirate"):
        await say(app.service, private(command))
    await personas.edit(CHAT, PersonaDraft("pirate", "You are a pirate poet.", model="gpt-4o"))
    await say(app.service, private("Sing"))
    assert llm.last_messages[0]["content"] == "You are a pirate poet."
    assert llm.last_body["model"] == "gpt-4o" and "temperature" not in llm.last_body
    edited = await personas.find(CHAT, "pirate")
    assert edited is not None and edited.description == "You are a pirate poet."
    assert edited.params == {"show_reasoning": True}
    assert await refusal(personas.edit(CHAT, PersonaDraft("nobody", "x"))) == (
        "There is no saved persona 'nobody' there."
    )


async def test_copies_into_another_chat_and_the_global_list(app: App) -> None:
    personas = app.workbench.personas
    await personas.create(CHAT, PersonaDraft("pirate", PIRATE, params={"temperature": "1.1"}))
    other = Space("telegram", OTHER_KEY.chat_id)
    await personas.copy(CHAT, "pirate", other, "")
    await personas.copy(None, "assistant", GLOBAL, "helper")  # a built-in one, renamed
    saved = {(s.space.label, s.persona.name): s.persona for s in await personas.saved()}
    assert next(iter(saved)) == ("global", "helper")  # the global list comes first
    assert saved[("telegram:5005", "pirate")].params == {"temperature": 1.1}
    assert saved[("global", "helper")].system_prompt == personas.catalog()[0].system_prompt
    assert await refusal(personas.copy(CHAT, "pirate", other, "")) == (
        "A persona named 'pirate' already exists here. Delete it first with /delpersona pirate."
    )
    assert "Persona is now helper" in await say(app.service, private("/persona helper"))


async def test_refused_as_newpersona_refuses(app: App) -> None:
    personas = app.workbench.personas
    for name, prompt in (("bad!name", PIRATE), ("assistant", PIRATE), ("long", "x" * 9000)):
        (answer,) = await collect(app.service, private(f"/newpersona {name} {prompt}"))
        assert isinstance(answer, CommandReply) and answer.is_error
        assert await refusal(personas.create(CHAT, PersonaDraft(name, prompt))) == answer.text
    (answer,) = await collect(app.service, private("/set temperature 9"))
    bad_param = PersonaDraft("hot", PIRATE, params={"temperature": "9"})
    assert await refusal(personas.create(CHAT, bad_param)) == answer.text
    assert await personas.saved() == []
    with pytest.raises(InvalidParam):
        Space.parse("no-colon")
    assert Space.parse("global") == GLOBAL and Space.parse("discord:42") == Space("discord", "42")


async def test_retention_keeps_the_global_list(app: App) -> None:
    await app.workbench.personas.create(GLOBAL, PersonaDraft("pirate", PIRATE))
    await app.workbench.personas.create(CHAT, PersonaDraft("sailor", PIRATE))
    future = datetime.now(UTC) + timedelta(days=1)
    await app.storage.erasure.prune(future, future, idle_before=future)
    assert [s.space for s in await app.workbench.personas.saved()] == [GLOBAL]

"""The console's Playground port: /set's validation and texts, the window's counting, the chats'
own client, the catalog's prices, and "View code" showing exactly the request that was sent."""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from core.bootstrap import App
from core.boundary import CommandReply
from core.console.playground import (
    PLAYGROUND_KEY,
    PlaygroundDone,
    PlaygroundFailed,
    PlaygroundForm,
    PlaygroundMessage,
    PreparedRequest,
    param_fields,
)
from core.model.client import TextDelta
from core.model.params import InvalidParam
from core.texts import Texts
from fakes.openai_server import FakeOpenAI, count_prompt_tokens
from tests.core.helpers import collect, private

ASK = PlaygroundMessage("user", "Name three rivers. Über café: 안녕하세요 'quoted' \"double\"")


def form(model: str = "gpt-4o-mini", **params: str) -> PlaygroundForm:
    return PlaygroundForm(
        model=model,
        system_prompt="You are a geographer.\nAnswer briefly.",
        messages=(
            PlaygroundMessage("user", "Hi"),
            PlaygroundMessage("assistant", "Hello! Ask me about places."),
            ASK,
        ),
        params=params,
    )


async def refusal(app: App, playground_form: PlaygroundForm) -> str:
    with pytest.raises(InvalidParam) as refused:
        await app.workbench.playground.prepare(playground_form)
    return Texts("en").get(refused.value.key, **refused.value.values)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("temperature", "2.5"),
        ("temperature", "warm"),
        ("top_p", "1.5"),
        ("presence_penalty", "3"),
        ("frequency_penalty", "-2.01"),
        ("max_tokens", "0"),
        ("max_tokens", "99999999"),
        ("stop", "a|b|c|d|e"),
        ("seed", "-1"),
        ("logit_bias", "12:101"),
        ("response_format", "xml"),
    ],
)
async def test_refuses_what_set_refuses_with_the_same_text(app: App, name: str, raw: str) -> None:
    (answer,) = await collect(app.service, private(f"/set {name} {raw}"))
    assert isinstance(answer, CommandReply) and answer.is_error
    assert await refusal(app, form(**{name: raw})) == answer.text


async def test_a_model_setting_is_checked_against_that_model(app: App) -> None:
    # gpt-5's efforts include "minimal"; o3's do not (the catalog says which each takes).
    (answer,) = await collect(app.service, private("/model o3"))
    (answer,) = await collect(app.service, private("/set reasoning_effort minimal"))
    assert await refusal(app, form("o3", reasoning_effort="minimal")) == answer.text
    prepared = await app.workbench.playground.prepare(form("gpt-5", reasoning_effort="minimal"))
    assert prepared.body["reasoning_effort"] == "minimal"


async def test_bad_forms_get_one_line_each(app: App) -> None:
    assert (await refusal(app, form(context_tokens="100"))).startswith("Unknown parameter")
    assert (await refusal(app, form("bad model name!"))).startswith("Unknown model")
    empty = PlaygroundForm("gpt-4o-mini", "system", (PlaygroundMessage("user", " "),))
    assert await refusal(app, empty) == "Message 1 is empty: write something or remove it."
    alone = PlaygroundForm("gpt-4o-mini", "system", (PlaygroundMessage("assistant", "Hi"),))
    assert await refusal(app, alone) == "Add a user message for the model to answer."
    huge = PlaygroundForm("gpt-4", "", (PlaygroundMessage("user", "word " * 9000),))
    assert "context window of 8,192 tokens" in await refusal(app, huge)


def test_the_form_offers_what_the_model_takes(app: App) -> None:
    models = app.workbench.playground.models
    classic = {f.name: f for f in param_fields(models.get("gpt-4o-mini"))}
    assert classic["temperature"].kind == "number" and classic["temperature"].high == 2.0
    assert classic["max_tokens"].high == models.get("gpt-4o-mini").max_output_tokens
    assert "reasoning_effort" not in classic
    reasoning = {f.name: f for f in param_fields(models.get("o3"))}
    assert "temperature" not in reasoning and "stop" not in reasoning
    assert reasoning["reasoning_effort"].choices == models.get("o3").caps.reasoning_efforts


async def run(app: App, prepared: PreparedRequest) -> tuple[str, PlaygroundDone]:
    events = [event async for event in app.workbench.playground.run(prepared)]
    *deltas, done = events
    assert isinstance(done, PlaygroundDone)
    assert all(isinstance(delta, TextDelta) for delta in deltas) and len(deltas) > 1
    return "".join(d.text for d in deltas if isinstance(d, TextDelta)), done


async def test_the_request_sent_is_the_one_view_code_shows(app: App, llm: FakeOpenAI) -> None:
    playground = app.workbench.playground
    prepared = await playground.prepare(
        form(temperature="0.7", top_p="0.9", stop="END|\\nQ:", max_tokens="300", seed="42")
    )
    await run(app, prepared)
    sent = llm.last_body
    assert sent == prepared.body
    assert sent["messages"][0] == {"role": "system", "content": form().system_prompt}
    assert sent["stop"] == ["END", "\nQ:"] and sent["max_tokens"] == 300
    code = playground.code(prepared)
    # curl: the body after -d, as a shell reads it
    curl = shlex.split(code.curl.replace("\\\n", " "))
    assert json.loads(curl[curl.index("-d") + 1]) == sent
    assert f"{llm.base_url}/chat/completions" in curl
    assert "Authorization: Bearer $OPENAI_API_KEY" in curl
    # Python: the keyword arguments of create(...)
    call = next(
        node
        for node in ast.walk(ast.parse(code.python))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "create"
    )
    assert {k.arg: ast.literal_eval(k.value) for k in call.keywords} == sent
    assert 'os.environ["OPENAI_API_KEY"]' in code.python and llm.base_url in code.python
    # Node.js: the object literal given to create(...)
    node_body = re.search(r"\.create\((\{.*\})\);", code.node, re.S)
    assert node_body is not None and json.loads(node_body.group(1)) == sent
    assert "process.env.OPENAI_API_KEY" in code.node and llm.base_url in code.node
    key = app.settings.openai_api_key.get_secret_value()
    assert all(key not in text for text in (code.curl, code.python, code.node))


async def test_answer_streams_and_is_priced_by_the_catalog(app: App, llm: FakeOpenAI) -> None:
    prepared = await app.workbench.playground.prepare(form())
    text, done = await run(app, prepared)
    assert text == f"You said: {ASK.content}. I can see 3 earlier messages."
    # The window's count is the provider's.
    assert prepared.prompt_tokens == count_prompt_tokens(llm.last_messages, "gpt-4o-mini")
    usage = done.usage
    assert usage.prompt_tokens == prepared.prompt_tokens
    spec = app.workbench.playground.models.get("gpt-4o-mini")
    assert usage.cost_usd == pytest.approx(
        (usage.prompt_tokens * 0.15 + usage.completion_tokens * 0.60) / 1_000_000
    )
    assert usage.cost_usd == spec.cost_usd(usage.prompt_tokens, 0, usage.completion_tokens)
    assert done.finish_reason == "stop"
    # Counted where the overview and the owner's totals read spending, as a chat of its own.
    conversation = await app.storage.conversations.conversation(PLAYGROUND_KEY)
    (total,) = await app.storage.usage.usage_totals(conversation.id)
    assert done.recorded and total.requests == 1 and total.cost_usd == usage.cost_usd
    assert total.prompt_tokens == usage.prompt_tokens


async def test_json_mode_gets_the_note_a_chat_gets(app: App, llm: FakeOpenAI) -> None:
    prepared = await app.workbench.playground.prepare(form(response_format="json"))
    assert prepared.body["response_format"] == {"type": "json_object"}
    assert "JSON" in prepared.body["messages"][0]["content"]


async def test_provider_failure_is_one_readable_line(app: App, llm: FakeOpenAI) -> None:
    prepared = await app.workbench.playground.prepare(form())
    llm.fail_next(500)
    events = [event async for event in app.workbench.playground.run(prepared)]
    assert events == [PlaygroundFailed("error.server")]


async def test_another_providers_model_goes_there_and_its_code_names_its_key(
    make_app: Callable[..., AbstractAsyncContextManager[App]],
    llm: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", "sk-local-SECRET-424242")
    async with FakeOpenAI(api_key="sk-local-SECRET-424242", models=("llama-3.1-8b",)) as local:
        declared = {
            "local": {
                "base_url": local.base_url,
                "api_key_env": "LOCAL_LLM_KEY",
                "models": ["llama*"],
            }
        }
        async with make_app(providers=json.dumps(declared)) as app:
            playground = app.workbench.playground
            prepared = await playground.prepare(form("llama-3.1-8b"))
            await run(app, prepared)
            assert local.last_body == prepared.body and llm.chat_requests == []
            code = playground.code(prepared)
    assert "$LOCAL_LLM_KEY" in code.curl and f"{local.base_url}/chat/completions" in code.curl
    assert 'os.environ["LOCAL_LLM_KEY"]' in code.python
    assert "process.env.LOCAL_LLM_KEY" in code.node and local.base_url in code.node
    assert all("SECRET" not in snippet for snippet in (code.curl, code.python, code.node))

"""The Playground, Tokenizer and Personas pages in a real browser, checked against tiktoken, the
request the fake OpenAI server received, and what /persona does in the console chat."""

from __future__ import annotations

import json
import shlex
from typing import Any

import tiktoken

from bots.console import CONSOLE_KEY as CONSOLE_CHAT  # the console adapter's chat
from core.boundary import ConversationKey
from fakes.openai_server import FakeOpenAI, count_prompt_tokens
from tests.core.helpers import private, say
from tests.web_console.conftest import RunningConsole, screenshot

ENGLISH = "Hello, how are you today? I would like a cup of coffee."
KOREAN = "안녕하세요, 오늘 어떠세요? 커피 한 잔 마시고 싶어요."


async def fits_a_phone(page: Any) -> None:
    """At a phone's width nothing sticks out of the page (no sideways scrolling)."""
    await page.set_viewport_size({"width": 390, "height": 844})
    wide = await page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > window.innerWidth + 1).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), wide
    await page.set_viewport_size({"width": 1200, "height": 900})


async def test_tokenizer_counts_korean_and_english_as_tiktoken_does(
    signed_in: Any, console: RunningConsole
) -> None:
    page = signed_in
    await page.goto(f"{console.url}/tokenizer")
    for text in (ENGLISH, KOREAN):
        await page.fill("#tok-text", text)
        # The live result, swapped in by the page's script once it has this text's counts.
        count = page.locator("#count-cl100k_base")
        expected = len(tiktoken.get_encoding("cl100k_base").encode(text))
        await page.wait_for_function(
            "n => document.querySelector('#count-cl100k_base')?.dataset.tokens == n", arg=expected
        )
        assert await count.get_attribute("data-chars") == str(len(text))
        o200k = len(tiktoken.get_encoding("o200k_base").encode(text))
        assert await page.get_attribute("#count-o200k_base", "data-tokens") == str(o200k)
        # gpt-4o-mini (the default model) reads o200k_base
        assert await page.inner_text("#tokens-model") == str(o200k)
        spans = await page.locator("#tokens .tok").all_inner_texts()
        assert "".join(spans) == text
    korean_cl100k = len(tiktoken.get_encoding("cl100k_base").encode(KOREAN))
    assert korean_cl100k > len(tiktoken.get_encoding("cl100k_base").encode(ENGLISH))
    await page.check("#show-ids")
    assert "show-ids" in (await page.get_attribute("#tok-result", "class") or "")
    both = f"{ENGLISH}\n{KOREAN}"
    await page.fill("#tok-text", both)
    await page.wait_for_function(
        "n => document.querySelector('#count-cl100k_base')?.dataset.chars == n", arg=len(both)
    )
    await screenshot(page, "tokenizer")
    await fits_a_phone(page)


async def test_playground_streams_the_answer_with_its_cost_and_code(
    signed_in: Any, console: RunningConsole, llm: FakeOpenAI
) -> None:
    page = signed_in
    await page.goto(f"{console.url}/playground")
    await page.select_option("#model", "gpt-4o")
    await page.wait_for_selector("#p-temperature")
    await page.fill("#system", "You are a geographer. Answer briefly.")
    await page.fill("#messages .message textarea", "Name a long river.")
    await page.click("#add-message")  # an assistant turn, then the question
    await page.fill("#messages .message:nth-child(2) textarea", "The Nile.")
    await page.click("#add-message")
    await page.fill("#messages .message:nth-child(3) textarea", "And in Korea? 한강?")
    await page.fill("#p-temperature", "0.3")
    await page.fill("#p-stop", "END")
    expected_prompt = [
        {"role": "system", "content": "You are a geographer. Answer briefly."},
        {"role": "user", "content": "Name a long river."},
        {"role": "assistant", "content": "The Nile."},
        {"role": "user", "content": "And in Korea? 한강?"},
    ]
    tokens = count_prompt_tokens(expected_prompt, "gpt-4o")
    await page.wait_for_function(
        "n => document.querySelector('#prompt-tokens').textContent == n", arg=str(tokens)
    )
    await page.click("#run")
    await page.wait_for_selector("#answer[data-done=yes]")
    answer = "You said: And in Korea? 한강?. I can see 3 earlier messages."
    assert await page.inner_text("#answer") == answer
    body = llm.last_body
    assert body["messages"] == expected_prompt
    assert body["temperature"] == 0.3 and body["stop"] == ["END"] and body["model"] == "gpt-4o"
    # Priced by the catalog from the usage the provider reported.
    completion = len(tiktoken.get_encoding("o200k_base").encode(answer))
    spec = console.app.workbench.playground.models.get("gpt-4o")
    cost = spec.cost_usd(tokens, 0, completion)
    assert float(await page.get_attribute("#usage", "data-cost-usd") or "nan") == cost
    usage = await page.inner_text("#usage")
    assert f"prompt {tokens} tokens" in usage and f"answer {completion} tokens" in usage
    assert f"cost ${cost:.6f}" in usage
    # View code: the same request, the key only as a variable's name.
    await page.click("#view-code")
    curl = await page.inner_text("#code-curl")
    shown = shlex.split(curl.replace("\\\n", " "))
    assert json.loads(shown[shown.index("-d") + 1]) == body
    assert "$OPENAI_API_KEY" in curl and "sk-" not in curl
    await page.click("[data-tab=code-python]")
    assert 'os.environ["OPENAI_API_KEY"]' in await page.inner_text("#code-python")
    await screenshot(page, "playground")
    await fits_a_phone(page)  # the code scrolls inside its own box
    # Save as persona, then a chat uses it.
    await page.fill("#persona-name", "geographer")
    await page.click("#save-persona")
    await page.wait_for_selector("#save-status.ok")
    await say(console.app.service, private("/persona geographer", key=CONSOLE_CHAT))
    await say(console.app.service, private("Hi", key=CONSOLE_CHAT))
    assert llm.last_messages[0]["content"] == "You are a geographer. Answer briefly."
    assert llm.last_body["temperature"] == 0.3 and llm.last_body["model"] == "gpt-4o"


async def test_playground_refuses_a_bad_parameter_with_sets_text(
    signed_in: Any, console: RunningConsole
) -> None:
    page = signed_in
    await page.goto(f"{console.url}/playground")
    await page.fill("#messages .message textarea", "Hi")
    await page.fill("#p-temperature", "3")
    await page.wait_for_function(
        "() => document.querySelector('#form-error').textContent.includes('temperature')"
    )
    assert await page.inner_text("#form-error") == "temperature must be a number from 0.0 to 2.0."


async def test_a_persona_edited_in_the_console_is_what_persona_uses(
    signed_in: Any, console: RunningConsole, llm: FakeOpenAI
) -> None:
    page = signed_in
    service = console.app.service
    await say(service, private("Hello", key=CONSOLE_CHAT))  # the console chat exists
    await page.goto(f"{console.url}/personas")
    create = page.locator("#create")
    await create.locator("select[name=space]").select_option("console:local")
    await create.locator("input[name=name]").fill("pirate")
    await create.locator("textarea[name=system_prompt]").fill("You are a pirate.")
    await create.locator("details summary").click()  # the parameters
    await create.locator("input[name=p_temperature]").fill("1.2")
    await create.locator("button[type=submit]").click()
    await page.wait_for_selector("#said.ok")
    assert await page.inner_text("#said") == "Saved 'pirate' for console:local."
    # Edit it.
    saved = page.locator("details.persona[data-space='console:local'][data-name=pirate]")
    await saved.locator("summary").first.click()
    await saved.locator("form.edit textarea[name=system_prompt]").fill("You are a pirate poet.")
    await saved.locator("form.edit button[type=submit]").click()
    await page.wait_for_selector("#said.ok")
    assert await page.inner_text("#said") == "Updated 'pirate' for console:local."
    # The console chat uses the edited persona, with the parameter it was created with.
    assert "Persona is now pirate" in await say(
        service, private("/persona pirate", key=CONSOLE_CHAT)
    )
    await say(service, private("Sing", key=CONSOLE_CHAT))
    assert llm.last_messages[0] == {"role": "system", "content": "You are a pirate poet."}
    assert llm.last_body["temperature"] == 1.2
    # A bad value is refused with /set's text, and changes nothing.
    await saved.locator("summary").first.click()
    await saved.locator("form.edit details summary").click()
    await saved.locator("form.edit input[name=p_temperature]").fill("7")
    await saved.locator("form.edit button[type=submit]").click()
    await page.wait_for_selector("#said.error")
    assert await page.inner_text("#said") == "temperature must be a number from 0.0 to 2.0."
    # Copied into the global list, it is found in another chat too.
    await saved.locator("summary").first.click()
    copy = saved.locator("form.copy")
    await copy.locator("select[name=target]").select_option("global")
    await copy.locator("button[type=submit]").click()
    await page.wait_for_selector("details.persona[data-space=global][data-name=pirate]")
    await fits_a_phone(page)
    other = private("/persona pirate", key=ConversationKey("telegram", "777"))
    assert "Persona is now pirate" in await say(service, other)

"""A context-length error from the provider: the core trims harder and retries once."""

from __future__ import annotations

from core.bootstrap import App
from core.boundary import AnswerDone, Failure, Notice
from fakes.openai_server import FakeOpenAI
from tests.core.helpers import collect, private, say

LONG = "lorem ipsum dolor sit amet " * 40  # about 200 tokens


async def test_a_smaller_provider_window_gets_half_the_history_and_an_answer(
    app: App, llm: FakeOpenAI
) -> None:
    for turn in range(6):
        await say(app.service, private(f"{turn} {LONG}"))
    sent_before = len(llm.last_messages)
    # The provider turns out to have a smaller window than the catalog says.
    llm.context_window = 2048 + 1500  # the default max_tokens request plus 1500 prompt tokens
    events = await collect(app.service, private("still there?"))
    assert isinstance(events[-1], AnswerDone)
    assert events[-1].text.startswith("You said: still there?")
    assert any(isinstance(e, Notice) and "were left out" in e.text for e in events)
    first, retry = llm.chat_requests[-2:]
    assert len(retry.body["messages"]) < len(first.body["messages"]) == sent_before + 2
    assert retry.body["messages"][-1]["content"] == "still there?"
    # The window start moved for good: the next turn needs no retry.
    requests = len(llm.chat_requests)
    assert (await say(app.service, private("and now?"))).startswith("You said: and now?")
    assert len(llm.chat_requests) == requests + 1


async def test_when_even_the_last_message_is_too_long_the_user_is_told(
    app: App, llm: FakeOpenAI
) -> None:
    await say(app.service, private("short"))
    llm.context_window = 2048 + 10
    (failure,) = [e for e in await collect(app.service, private(LONG)) if isinstance(e, Failure)]
    assert failure.text.startswith("The conversation is too long for the model.")
    assert len(llm.chat_requests) == 3  # the first turn, the try and one retry
    llm.context_window = None
    assert (await say(app.service, private("ok"))).startswith("You said: ok")

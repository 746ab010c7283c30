"""A reasoning model on Telegram: "thinking…" where the answer will come, the thinking itself
folded in an expandable blockquote when the chat asked for it, never stored."""

from __future__ import annotations

from pathlib import Path

from fakes.openai_server import FakeOpenAI, FakeReply
from fakes.telegram_api import FakeTelegram
from tests.telegram.harness import running_bot
from tests.telegram.test_bot import ALICE, GROUP, USER, command, mention, replies, rows

THOUGHT = "They greet me.\nI greet back."


def thinking_reply(body: object) -> FakeReply:
    return FakeReply("Hello back!", reasoning_text=THOUGHT, first_token_delay_s=0.3)


async def test_a_private_chat_sees_thinking_then_the_folded_thought_and_the_answer(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    llm.responder = thinking_reply
    db = tmp_path / "bot.db"
    async with running_bot(tg, llm, db, thinking_preview_after_s=0):
        alice = tg.user(USER, "Alice")
        tg.send_text(USER, "/model o4-mini", user=alice, entities=command("/model"))
        tg.send_text(USER, "/set show_reasoning on", user=alice, entities=command("/set"))
        await replies(tg, USER, 2)
        tg.send_text(USER, "hi", user=alice)
        shown = await replies(tg, USER, 4)

    assert shown[2:] == [THOUGHT, "Hello back!"]
    folded = tg.bot_messages(USER)[2]
    assert folded.entities == [
        {"type": "expandable_blockquote", "offset": 0, "length": len(THOUGHT)}
    ]
    drafts = [call.params["text"] for call in tg.calls_to("sendMessageDraft", USER)]
    assert drafts[0] == "💭 thinking…"
    assert [r[2:] for r in rows(db)][-2:] == [("user", "hi"), ("assistant", "Hello back!")]


async def test_in_a_group_the_thinking_placeholder_becomes_the_answer(
    tg: FakeTelegram, llm: FakeOpenAI, tmp_path: Path
) -> None:
    llm.responder = thinking_reply
    async with running_bot(tg, llm, tmp_path / "bot.db", thinking_preview_after_s=0):
        tg.send_text(GROUP, "@testbot hi", user=tg.user(ALICE, "Alice"), entities=mention())
        assert await replies(tg, GROUP, 1) == ["Hello back!"]

    [sent] = tg.calls_to("sendMessage", GROUP)
    assert sent.params["text"] == "💭 thinking…"  # then edited into the answer
    assert tg.bot_messages(GROUP)[0].edits >= 1

"""Telegram messages and button presses → IncomingMessage, using real Telegram-shaped payloads
parsed by PTB."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Bot, CallbackQuery, Message

from bots.telegram_adapter.incoming import BotIdentity, button_to_incoming, message_to_incoming
from core.boundary import Author, ConversationKey, IncomingMessage
from fakes.telegram_api import BOT_ID, BOT_USERNAME, FakeTelegram

ME = BotIdentity(BOT_ID, BOT_USERNAME)
GROUP = -100123
FORUM = -100777
ADMIN = 502


class Admins:
    """ChatAdmins with a fixed answer, recording who was looked up."""

    def __init__(self, *admins: int) -> None:
        self.admins = set(admins)
        self.asked: list[tuple[int, int]] = []

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        self.asked.append((chat_id, user_id))
        return user_id in self.admins


async def to_incoming(message: Message, me: BotIdentity) -> IncomingMessage | None:
    return await message_to_incoming(message, me, Admins())


@pytest.fixture
def tg() -> FakeTelegram:
    fake = FakeTelegram()
    fake.chat(GROUP, "supergroup")
    fake.chat(FORUM, "supergroup", is_forum=True)
    return fake


def parse(data: dict[str, Any]) -> Message:
    message = Message.de_json(data, Bot("123:abc"))
    assert message is not None
    return message


def command(text: str) -> list[dict[str, Any]]:
    word = text.split()[0]
    return [{"type": "bot_command", "offset": 0, "length": len(word)}]


async def test_private_text_is_addressed_and_keyed_by_chat(tg: FakeTelegram) -> None:
    alice = tg.user(42, "Alice", language="ko")
    result = await to_incoming(parse(tg.incoming(42, "hello", user=alice)), ME)
    assert result == IncomingMessage(
        key=ConversationKey("telegram", "42"),
        author=Author("42", "Alice", "ko", can_manage=True),
        text="hello",
        addressed=True,
        is_private=True,
        message_id="1",
        space_id="42",
    )


async def test_group_plain_message_is_not_addressed(tg: FakeTelegram) -> None:
    result = await to_incoming(parse(tg.incoming(GROUP, "talking about @testbot's code")), ME)
    assert isinstance(result, IncomingMessage)
    assert not result.addressed
    assert result.author.can_manage is False
    assert result.key == ConversationKey("telegram", str(GROUP))


async def test_group_mention_entity_addresses_the_bot(tg: FakeTelegram) -> None:
    text = "@TestBot sum up what we discussed"
    entities = [{"type": "mention", "offset": 0, "length": 8}]
    result = await to_incoming(parse(tg.incoming(GROUP, text, entities=entities)), ME)
    assert isinstance(result, IncomingMessage) and result.addressed
    assert result.text == text


async def test_mention_of_another_user_does_not_address(tg: FakeTelegram) -> None:
    entities = [{"type": "mention", "offset": 0, "length": 8}]
    result = await to_incoming(parse(tg.incoming(GROUP, "@someone hi", entities=entities)), ME)
    assert isinstance(result, IncomingMessage) and not result.addressed


async def test_text_mention_of_the_bot_addresses(tg: FakeTelegram) -> None:
    bot_user = {"id": BOT_ID, "is_bot": True, "first_name": "Test Bot"}
    entities = [{"type": "text_mention", "offset": 0, "length": 4, "user": bot_user}]
    result = await to_incoming(parse(tg.incoming(GROUP, "Test, hi", entities=entities)), ME)
    assert isinstance(result, IncomingMessage) and result.addressed


async def test_reply_to_bot_addresses(tg: FakeTelegram) -> None:
    data = tg.incoming(GROUP, "and then?")
    data["reply_to_message"] = {
        "message_id": 5,
        "date": 0,
        "chat": data["chat"],
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Test Bot"},
        "text": "earlier answer",
    }
    result = await to_incoming(parse(data), ME)
    assert isinstance(result, IncomingMessage) and result.addressed


async def test_reply_to_someone_else_does_not_address(tg: FakeTelegram) -> None:
    result = await to_incoming(parse(tg.incoming(GROUP, "yes", reply_to=3)), ME)
    assert isinstance(result, IncomingMessage) and not result.addressed


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/persona coder", "/persona coder"),
        ("/persona@testbot coder", "/persona coder"),
        ("/persona@TestBot", "/persona"),
    ],
)
async def test_commands_for_this_bot_are_addressed_and_lose_the_suffix(
    tg: FakeTelegram, typed: str, expected: str
) -> None:
    result = await to_incoming(parse(tg.incoming(GROUP, typed, entities=command(typed))), ME)
    assert isinstance(result, IncomingMessage)
    assert (result.text, result.addressed) == (expected, True)


async def test_command_for_another_bot_is_ignored(tg: FakeTelegram) -> None:
    typed = "/help@otherbot"
    assert await to_incoming(parse(tg.incoming(GROUP, typed, entities=command(typed))), ME) is None


async def test_forum_topics_are_separate_conversations(tg: FakeTelegram) -> None:
    in_topic = await to_incoming(parse(tg.incoming(FORUM, "hi", thread_id=11)), ME)
    in_general = await to_incoming(parse(tg.incoming(FORUM, "hi")), ME)
    assert isinstance(in_topic, IncomingMessage) and isinstance(in_general, IncomingMessage)
    assert in_topic.key == ConversationKey("telegram", str(FORUM), "11")
    assert in_general.key == ConversationKey("telegram", str(FORUM), "")
    # The implicit reply to the topic's creation message is not a reply to the bot.
    assert not in_topic.addressed


async def test_reply_thread_in_a_non_forum_group_is_not_a_topic(tg: FakeTelegram) -> None:
    result = await to_incoming(parse(tg.incoming(GROUP, "hi", thread_id=9)), ME)
    assert isinstance(result, IncomingMessage)
    assert result.key.thread_id == ""


async def test_caption_is_read_as_text(tg: FakeTelegram) -> None:
    photo = [{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}]
    data = tg.incoming(42, None, extra={"photo": photo, "caption": "what is this?"})
    result = await to_incoming(parse(data), ME)
    assert isinstance(result, IncomingMessage) and result.text == "what is this?"


async def test_private_media_without_text_goes_to_the_core_as_empty_text(tg: FakeTelegram) -> None:
    sticker = {
        "file_id": "s",
        "file_unique_id": "u",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    result = await to_incoming(parse(tg.incoming(42, None, extra={"sticker": sticker})), ME)
    assert isinstance(result, IncomingMessage) and result.text == ""
    assert (
        await to_incoming(parse(tg.incoming(GROUP, None, extra={"sticker": sticker})), ME) is None
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"new_chat_members": [{"id": 9, "is_bot": False, "first_name": "N"}]},
        {"pinned_message": {"message_id": 1, "date": 0, "chat": {"id": GROUP, "type": "group"}}},
    ],
)
async def test_service_messages_are_ignored(tg: FakeTelegram, extra: dict[str, Any]) -> None:
    assert await to_incoming(parse(tg.incoming(GROUP, None, extra=extra)), ME) is None


async def test_other_bots_and_channel_posts_are_ignored(tg: FakeTelegram) -> None:
    other_bot = tg.user(99, "Other", is_bot=True)
    assert await to_incoming(parse(tg.incoming(GROUP, "hi", user=other_bot)), ME) is None
    channel = {"id": -100555, "type": "channel", "title": "News"}
    forwarded = tg.incoming(
        GROUP, "post", extra={"sender_chat": channel, "is_automatic_forward": True}
    )
    assert await to_incoming(parse(forwarded), ME) is None
    tg.chat(-100555, "channel")
    assert await to_incoming(parse(tg.incoming(-100555, "post")), ME) is None


async def test_anonymous_admin_may_manage(tg: FakeTelegram) -> None:
    anonymous = tg.user(1087968824, "Group", is_bot=True)
    group = {"id": GROUP, "type": "supergroup", "title": "Team"}
    typed = "/reset"
    data = tg.incoming(
        GROUP, typed, user=anonymous, entities=command(typed), extra={"sender_chat": group}
    )
    result = await to_incoming(parse(data), ME)
    assert isinstance(result, IncomingMessage)
    assert result.author == Author(f"chat{GROUP}", "Team", None, can_manage=True)
    assert result.addressed


async def test_only_group_commands_ask_who_manages_the_chat(tg: FakeTelegram) -> None:
    admins = Admins(ADMIN)
    admin = tg.user(ADMIN, "Admin")
    typed = "/persona coder"
    as_admin = parse(tg.incoming(GROUP, typed, user=admin, entities=command(typed)))
    result = await message_to_incoming(as_admin, ME, admins)
    assert result is not None and result.author.can_manage
    assert admins.asked == [(GROUP, ADMIN)]
    member = parse(tg.incoming(GROUP, typed, entities=command(typed)))
    result = await message_to_incoming(member, ME, admins)
    assert result is not None and not result.author.can_manage
    admins.asked.clear()
    for data in (tg.incoming(GROUP, "@testbot hi", user=admin), tg.incoming(42, typed)):
        assert await message_to_incoming(parse(data), ME, admins) is not None
    assert admins.asked == []


def press(tg: FakeTelegram, chat_id: int, user: dict[str, Any], **query: Any) -> CallbackQuery:
    data = {
        "id": "77",
        "from": user,
        "chat_instance": str(chat_id),
        "data": "/persona coder",
        "message": tg.incoming(chat_id, "pick one", user=tg.user(BOT_ID, is_bot=True)),
        **query,
    }
    parsed = CallbackQuery.de_json(data, Bot("123:abc"))
    assert parsed is not None
    return parsed


async def test_a_button_press_is_its_command_typed_by_the_presser(tg: FakeTelegram) -> None:
    alice = tg.user(42, "Alice", language="ko")
    result = await button_to_incoming(press(tg, 42, alice), "/persona coder", Admins())
    assert result == IncomingMessage(
        key=ConversationKey("telegram", "42"),
        author=Author("42", "Alice", "ko", can_manage=True),
        text="/persona coder",
        addressed=True,
        is_private=True,
        message_id="cb77",
        space_id="42",
    )
    admins = Admins(ADMIN)
    in_group = press(tg, GROUP, tg.user(ADMIN, "Admin"))
    result = await button_to_incoming(in_group, "/persona coder", admins)
    assert result is not None and result.author.can_manage and not result.is_private
    assert admins.asked == [(GROUP, ADMIN)]


async def test_a_press_without_its_message_or_command_is_not_for_the_core(
    tg: FakeTelegram,
) -> None:
    alice = tg.user(42, "Alice")
    assert await button_to_incoming(press(tg, 42, alice), None, Admins()) is None
    inline = press(tg, 42, alice, message=None, inline_message_id="i1")
    assert await button_to_incoming(inline, "/persona coder", Admins()) is None

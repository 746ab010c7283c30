"""Where the bot answers and what it remembers: DMs, mentions, replies, /chat threads, restarts."""

from __future__ import annotations

from bots.discord_adapter import DiscordBot
from fakes.discord_gateway import (
    CHANNEL_ID,
    MOD_ROLE_ID,
    feed_event,
    interaction_payload,
    message_payload,
    option,
)
from fakes.discord_rest import BOT_ID, FakeDiscord
from fakes.openai_server import FakeOpenAI, FakeReply
from tests.discord.conftest import BotFactory, interact, receive

ALICE = 42
DM_CHANNEL = 4242
MENTION = ((BOT_ID, "gptbot"),)


def user_texts(llm: FakeOpenAI) -> list[str]:
    """What the model was shown as user turns in the latest request."""
    messages = llm.chat_requests[-1].body["messages"]
    return [m["content"] for m in messages if m["role"] == "user"]


async def test_dm_turn_with_memory(bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI):
    await receive(bot, "MESSAGE_CREATE", dm("my name is Bob"))
    await receive(bot, "MESSAGE_CREATE", dm("what is my name?"))

    assert discord_api.channel_texts(DM_CHANNEL) == [
        "You said: my name is Bob. I can see 1 earlier messages.",
        "Your name is Bob.",
    ]
    assert any("my name is Bob" in text for text in user_texts(llm))


async def test_channel_answers_only_when_mentioned(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    await receive(bot, "MESSAGE_CREATE", channel_message("gptbot, hello there"))
    assert discord_api.channel_texts(CHANNEL_ID) == []
    assert llm.chat_requests == []

    mention = channel_message(f"<@{BOT_ID}> hello there", mentions=MENTION)
    await receive(bot, "MESSAGE_CREATE", mention)

    [answer] = discord_api.channel_texts(CHANNEL_ID)
    assert answer.startswith("You said: ")
    # The author's display name, not the bot's own mention, goes with the text.
    assert user_texts(llm)[-1] == "Alice: hello there"
    [send] = discord_api.calls_to("POST", rf"/channels/{CHANNEL_ID}/messages")
    assert str(send.json["message_reference"]["message_id"]) == mention["id"]  # answers as a reply
    assert send.json["message_reference"]["fail_if_not_exists"] is False


async def test_reply_to_the_bot_is_addressed(bot: DiscordBot, discord_api: FakeDiscord):
    await receive(
        bot, "MESSAGE_CREATE", channel_message(f"<@{BOT_ID}> my name is Carol", mentions=MENTION)
    )
    [bot_message] = discord_api.messages.values()

    await receive(
        bot, "MESSAGE_CREATE", channel_message("what is my name?", replying_to=bot_message)
    )

    assert discord_api.channel_texts(CHANNEL_ID)[-1] == "Your name is Carol."


async def test_ignores_bots_itself_and_empty_messages(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    await receive(bot, "MESSAGE_CREATE", dm("hello", author_id=99, bot=True))
    await receive(bot, "MESSAGE_CREATE", dm("hello", author_id=BOT_ID))
    await receive(bot, "MESSAGE_CREATE", dm("   "))
    await receive(bot, "MESSAGE_CREATE", channel_message(f"<@{BOT_ID}>", mentions=MENTION))

    assert llm.chat_requests == []
    assert discord_api.messages == {}


async def test_chat_opens_a_thread_that_answers_everything(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    response = await interact(
        bot,
        discord_api,
        interaction_payload("chat", [option("topic", "my name is Dave")], user_id=ALICE),
    )

    [create] = discord_api.calls_to("POST", rf"/channels/{CHANNEL_ID}/threads")
    assert create.json["name"] == "my name is Dave"
    thread = discord_api.channels[max(discord_api.channels)]
    thread_id = int(thread["id"])
    assert f"<#{thread_id}>" in response["data"]["content"]
    # The topic is the thread's first message, answered inside the thread.
    assert discord_api.channel_texts(thread_id)[0].startswith("You said: Alice: my name is Dave")

    # Discord announces the thread over the gateway; every message in it is answered.
    feed_event(bot, "THREAD_CREATE", {**thread, "newly_created": True})
    await receive(bot, "MESSAGE_CREATE", channel_message("what is my name?", channel_id=thread_id))
    assert discord_api.channel_texts(thread_id)[-1] == "Your name is Dave."
    # ...and the thread is its own conversation, not the channel's.
    await receive(
        bot, "MESSAGE_CREATE", channel_message(f"<@{BOT_ID}> what is my name?", mentions=MENTION)
    )
    assert discord_api.channel_texts(CHANNEL_ID) == ["I don't know your name."]


async def test_thread_unknown_to_the_cache_is_fetched(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    await interact(bot, discord_api, interaction_payload("chat", user_id=ALICE))
    thread_id = max(discord_api.channels)

    # No THREAD_CREATE arrived (e.g. after a restart): the message still lands in the thread.
    await receive(bot, "MESSAGE_CREATE", channel_message("hi", channel_id=thread_id))

    assert discord_api.channel_texts(thread_id) == [
        "You said: Alice: hi. I can see 1 earlier messages."
    ]


async def test_restart_keeps_memory(run_bot: BotFactory, discord_api: FakeDiscord):
    async with run_bot() as first:
        await receive(first, "MESSAGE_CREATE", dm("my name is Erin"))
    async with run_bot() as second:
        await receive(second, "MESSAGE_CREATE", dm("what is my name?"))

    assert discord_api.channel_texts(DM_CHANNEL)[-1] == "Your name is Erin."


def dm(text: str, *, author_id: int = ALICE, bot: bool = False) -> dict[str, object]:
    return message_payload(text, author_id=author_id, channel_id=DM_CHANNEL, guild=False, bot=bot)


def channel_message(text: str, **kwargs: object) -> dict[str, object]:
    return message_payload(text, author_id=ALICE, **kwargs)  # type: ignore[arg-type]


async def test_answer_everything_in_a_channel_marked_by_an_admin(
    bot: DiscordBot, discord_api: FakeDiscord
):
    await interact(
        bot,
        discord_api,
        interaction_payload(
            "answerall", [option("state", "on")], user_id=ALICE, roles=(MOD_ROLE_ID,)
        ),
    )

    await receive(bot, "MESSAGE_CREATE", channel_message("anyone there?"))

    [answer] = discord_api.channel_texts(CHANNEL_ID)
    assert answer.startswith("You said: Alice: anyone there?")


async def test_typed_commands_reach_the_core(bot: DiscordBot, discord_api: FakeDiscord):
    await receive(bot, "MESSAGE_CREATE", dm("/usage@gptbot"))
    await receive(bot, "MESSAGE_CREATE", channel_message(f"<@{BOT_ID}> /usage", mentions=MENTION))

    [in_dm] = discord_api.channel_texts(DM_CHANNEL)
    [in_channel] = discord_api.channel_texts(CHANNEL_ID)
    assert in_dm == in_channel  # the same command reply, not a chat answer
    assert not in_dm.startswith("You said")


async def test_mentions_of_others_become_names_and_replies_to_others_are_not_for_the_bot(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    someone = message_payload("hi", author_id=77, author_name="zed")
    await receive(bot, "MESSAGE_CREATE", someone)
    await receive(bot, "MESSAGE_CREATE", channel_message("agreed", replying_to=someone))
    assert llm.chat_requests == []

    await receive(
        bot,
        "MESSAGE_CREATE",
        channel_message(f"<@{BOT_ID}> say hi to <@77>", mentions=(*MENTION, (77, "zed"))),
    )
    assert user_texts(llm)[-1] == "Alice: say hi to @Zed"


async def test_outsiders_are_refused_in_dms_and_ignored_in_channels(
    run_bot: BotFactory, discord_api: FakeDiscord, llm: FakeOpenAI, settings
):
    settings.allowed_users = frozenset({"1"})
    async with run_bot() as bot:
        await receive(bot, "MESSAGE_CREATE", dm("hello"))
        await receive(
            bot, "MESSAGE_CREATE", channel_message(f"<@{BOT_ID}> hello", mentions=MENTION)
        )

    assert llm.chat_requests == []
    [refusal] = discord_api.channel_texts(DM_CHANNEL)
    assert "private" in refusal
    assert discord_api.channel_texts(CHANNEL_ID) == []


async def test_cut_answer_is_followed_by_a_separate_notice(
    bot: DiscordBot, discord_api: FakeDiscord, llm: FakeOpenAI
):
    llm.responder = lambda body: FakeReply("a partial answer", finish_reason="length")

    await receive(bot, "MESSAGE_CREATE", dm("explain everything"))

    answer, notice = discord_api.channel_texts(DM_CHANNEL)
    assert answer.startswith("a partial answer")
    assert "max_tokens" in notice

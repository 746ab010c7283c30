"""Slash commands: registration (localized, permissions, synced only when changed), handlers
with the core's permission checks, ephemeral refusals, autocomplete, and buttons."""

from __future__ import annotations

from typing import Any

from bots.discord_adapter import DiscordBot
from bots.discord_adapter.commands import command_text
from core.commands.catalog import COMMANDS
from fakes.discord_gateway import (
    HELPER_ROLE_ID,
    MOD_ROLE_ID,
    button_press_payload,
    interaction_payload,
    option,
)
from fakes.discord_rest import FakeDiscord
from tests.discord.conftest import BotFactory, interact

ALICE = 42
EPHEMERAL = 64
MANAGE_GUILD = str(1 << 5)
AUTOCOMPLETE_RESULT = 8


def registered(fake: FakeDiscord) -> dict[str, dict[str, Any]]:
    [put] = fake.calls_to("PUT", r"/applications/\d+/commands")
    return {command["name"]: command for command in put.json}


def is_ephemeral(response: dict[str, Any]) -> bool:
    return bool(response["data"].get("flags", 0) & EPHEMERAL)


async def test_commands_are_registered_localized_and_guarded(
    bot: DiscordBot, discord_api: FakeDiscord
):
    commands = registered(discord_api)

    expected = {"persona", "personas", "reset", "model", "set", "settings", "usage", "tokens"}
    assert expected | {"newpersona", "delpersona", "chat", "answerall"} <= set(commands)
    assert {"image", "speak", "voice"} <= set(commands)
    assert str(commands["voice"]["default_member_permissions"]) == MANAGE_GUILD
    assert commands["image"]["default_member_permissions"] is None
    persona = commands["persona"]
    assert persona["name_localizations"]["ko"] == "페르소나"
    assert persona["description_localizations"]["ko"]
    assert persona["options"][0]["autocomplete"] is True
    assert str(persona["default_member_permissions"]) == MANAGE_GUILD
    assert commands["settings"]["default_member_permissions"] is None
    # Suggested, not fixed choices: /set has more parameters than Discord's 25 choices.
    [parameter, value] = commands["set"]["options"]
    assert parameter["autocomplete"] is True and not parameter.get("choices")
    assert value["autocomplete"] is True
    assert commands["chat"]["contexts"] == [0]  # servers only: threads need a channel
    for command in commands.values():  # every name and description has its Korean version
        for entry in [command, *command.get("options", [])]:
            assert entry["name_localizations"].get("ko"), entry["name"]
            assert entry["description_localizations"].get("ko"), entry["name"]


async def test_sync_only_when_the_commands_changed(
    run_bot: BotFactory, discord_api: FakeDiscord, tmp_path
):
    async with run_bot():
        pass
    async with run_bot():
        pass
    assert len(discord_api.calls_to("PUT", r"/applications/\d+/commands")) == 1

    async with run_bot(guild_id=5000):
        pass
    assert discord_api.calls_to("PUT", r"/applications/\d+/guilds/5000/commands")


async def test_admin_command_refused_ephemerally_without_manage_server(
    bot: DiscordBot, discord_api: FakeDiscord
):
    refused = await interact(
        bot, discord_api, interaction_payload("persona", [option("name", "coder")], user_id=ALICE)
    )
    assert is_ephemeral(refused)

    allowed = await interact(
        bot,
        discord_api,
        interaction_payload(
            "persona", [option("name", "coder")], user_id=ALICE, roles=(MOD_ROLE_ID,)
        ),
    )
    assert not is_ephemeral(allowed)
    assert "coder" in allowed["data"]["content"]
    assert allowed["data"]["content"] != refused["data"]["content"]


async def test_configured_manager_role_may_use_admin_commands(
    run_bot: BotFactory, discord_api: FakeDiscord
):
    async with run_bot(manager_role="Helpers") as bot:
        response = await interact(
            bot,
            discord_api,
            interaction_payload(
                "set",
                [option("parameter", "temperature"), option("value", "0.5")],
                user_id=ALICE,
                roles=(HELPER_ROLE_ID,),
            ),
        )
        assert not is_ephemeral(response)
        # With a manager role, Discord must not hide the command from that role's members.
        assert registered(discord_api)["set"]["default_member_permissions"] is None

        settings = await interact(bot, discord_api, interaction_payload("settings", user_id=1))
        assert "0.5" in settings["data"]["content"]


async def test_bad_value_is_an_ephemeral_error(bot: DiscordBot, discord_api: FakeDiscord):
    response = await interact(
        bot,
        discord_api,
        interaction_payload(
            "set",
            [option("parameter", "temperature"), option("value", "hot")],
            user_id=ALICE,
            roles=(MOD_ROLE_ID,),
        ),
    )
    assert is_ephemeral(response)


async def test_korean_user_gets_korean_replies(bot: DiscordBot, discord_api: FakeDiscord):
    english = await interact(bot, discord_api, interaction_payload("usage", user_id=ALICE))
    korean = await interact(
        bot, discord_api, interaction_payload("usage", user_id=ALICE, locale="ko")
    )
    assert english["data"]["content"] != korean["data"]["content"]


async def test_persona_and_model_autocomplete(bot: DiscordBot, discord_api: FakeDiscord):
    await interact(
        bot,
        discord_api,
        interaction_payload(
            "newpersona",
            [option("name", "pirate"), option("prompt", "Talk like a pirate.")],
            user_id=ALICE,
            roles=(MOD_ROLE_ID,),
        ),
    )

    personas = await interact(
        bot,
        discord_api,
        interaction_payload(
            "persona", [option("name", "pi", focused=True)], user_id=ALICE, autocomplete=True
        ),
    )
    assert personas["type"] == AUTOCOMPLETE_RESULT
    assert [choice["value"] for choice in personas["data"]["choices"]] == ["pirate"]

    everything = await interact(
        bot,
        discord_api,
        interaction_payload(
            "persona", [option("name", "", focused=True)], user_id=ALICE, autocomplete=True
        ),
    )
    names = [choice["value"] for choice in everything["data"]["choices"]]
    assert {"pirate", "coder", "assistant"} <= set(names)

    models = await interact(
        bot,
        discord_api,
        interaction_payload(
            "model", [option("name", "4o", focused=True)], user_id=ALICE, autocomplete=True
        ),
    )
    values = [choice["value"] for choice in models["data"]["choices"]]
    assert values and all("4o" in value for value in values)
    assert set(values) <= set(bot.service.model_names())


async def test_tokens_counts_in_a_dm(bot: DiscordBot, discord_api: FakeDiscord):
    response = await interact(
        bot,
        discord_api,
        interaction_payload(
            "tokens", [option("text", "hello world")], user_id=ALICE, guild=False, channel_type=1
        ),
    )
    assert not is_ephemeral(response)
    assert any(ch.isdigit() for ch in response["data"]["content"])


async def test_choice_buttons_send_their_command_back(bot: DiscordBot, discord_api: FakeDiscord):
    command = interaction_payload("personas", user_id=ALICE)
    listing = await interact(bot, discord_api, command)
    buttons = {
        button["label"]: button["custom_id"]
        for row in listing["data"]["components"]
        for button in row["components"]
    }
    assert "coder" in buttons
    message = discord_api.responses[str(command["id"])]

    refused = await interact(
        bot, discord_api, button_press_payload(message, buttons["coder"], user_id=ALICE)
    )
    assert is_ephemeral(refused)  # switching the persona needs Manage Server

    pressed = await interact(
        bot,
        discord_api,
        button_press_payload(message, buttons["coder"], user_id=ALICE, roles=(MOD_ROLE_ID,)),
    )
    assert not is_ephemeral(pressed)
    assert "coder" in pressed["data"]["content"]


async def test_chat_without_thread_permission_is_refused_ephemerally(
    bot: DiscordBot, discord_api: FakeDiscord
):
    discord_api.fail_next("POST", r"/channels/\d+/threads", 403)

    response = await interact(bot, discord_api, interaction_payload("chat", user_id=ALICE))

    assert is_ephemeral(response)
    assert discord_api.channels == {}


async def test_persona_is_per_thread_and_survives_a_restart(
    run_bot: BotFactory, discord_api: FakeDiscord
):
    thread_id = 5150  # a thread Discord never announced: the interaction carries its parent

    def persona(*options: dict[str, Any], **where: Any) -> dict[str, Any]:
        return interaction_payload(
            "persona", list(options), user_id=ALICE, roles=(MOD_ROLE_ID,), **where
        )

    async with run_bot() as bot:
        switched = await interact(
            bot, discord_api, persona(option("name", "coder"), channel_id=thread_id, parent_id=5100)
        )
        assert not is_ephemeral(switched)
        in_channel = await interact(bot, discord_api, persona())
    async with run_bot() as bot:
        in_thread = await interact(bot, discord_api, persona(channel_id=thread_id, parent_id=5100))

    assert in_thread["data"]["content"].startswith("Persona: coder")
    assert in_channel["data"]["content"].startswith("Persona: assistant")


async def test_outsiders_get_a_polite_ephemeral_refusal(
    run_bot: BotFactory, discord_api: FakeDiscord, settings
):
    settings.allowed_users = frozenset({"1"})
    async with run_bot() as bot:
        response = await interact(bot, discord_api, interaction_payload("settings", user_id=ALICE))
    assert is_ephemeral(response)
    assert "private" in response["data"]["content"]


async def test_every_app_command_of_the_catalog_is_registered_with_its_arguments(
    bot: DiscordBot, discord_api: FakeDiscord
):
    commands = registered(discord_api)

    for spec in COMMANDS:
        if not spec.app_command:
            assert spec.name not in commands
            continue
        declared = sorted(spec.args, key=lambda arg: not arg.required)  # Discord: required first
        assert [
            (entry["name"], entry["required"]) for entry in commands[spec.name].get("options", [])
        ] == [(arg.name, arg.required) for arg in declared]


def test_options_become_the_command_text_the_core_parses():
    specs = {spec.name: spec for spec in COMMANDS}

    assert command_text(specs["set"], {"parameter": "temperature", "value": "0.5"}) == (
        "/set temperature 0.5"
    )
    assert command_text(specs["persona"], {"name": None}) == "/persona"
    assert command_text(specs["persona"], {"name": "coder"}) == "/persona coder"
    assert command_text(specs["settings"], {}) == "/settings"

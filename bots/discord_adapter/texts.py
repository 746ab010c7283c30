"""Every text the Discord adapter itself shows, in English and Korean, and the slash-command
Translator that feeds the Korean names and descriptions to Discord."""

from __future__ import annotations

import discord
from discord import app_commands

from core.commands.catalog import COMMANDS, argument_description, command_description

# Adapter messages (the core's own replies come translated from the core).
MESSAGES: dict[str, dict[str, str]] = {
    "nothing": {"en": "Nothing to show.", "ko": "표시할 내용이 없습니다."},
    "thread_opened": {
        "en": "Opened {thread}: I answer every message there.",
        "ko": "{thread} 스레드를 열었습니다. 그곳의 모든 메시지에 답합니다.",
    },
    "thread_name": {"en": "Chat", "ko": "대화"},
    "chat_needs_channel": {
        "en": "Use /chat in a server text channel.",
        "ko": "/chat 은 서버의 텍스트 채널에서 사용하세요.",
    },
    "thread_not_permitted": {
        "en": "You need permission to create threads here to use /chat.",
        "ko": "/chat 을 쓰려면 이곳에서 스레드를 만들 권한이 필요합니다.",
    },
    "thread_failed": {
        "en": "I could not open a thread here (missing permission?).",
        "ko": "여기에서 스레드를 열 수 없습니다 (권한이 없나요?).",
    },
    "delivery_failed": {
        "en": "Discord kept failing, so part of my answer is missing; please ask again.",
        "ko": "Discord 오류가 계속되어 답의 일부가 빠졌습니다. 다시 물어봐 주세요.",
    },
    # A slash command whose whole answer is a file (/speak): the file follows this line.
    "media_follows": {"en": "Here it is:", "ko": "여기 있어요:"},
    "error": {
        "en": "Something went wrong; please try again.",
        "ko": "문제가 발생했습니다. 다시 시도해 주세요.",
    },
}


def language_of(locale: discord.Locale | str | None) -> str:
    return "ko" if str(locale or "").startswith("ko") else "en"


def adapter_text(name: str, locale: discord.Locale | str | None = None, **values: str) -> str:
    entry = MESSAGES[name]
    return entry.get(language_of(locale), entry["en"]).format(**values)


# The adapter's own slash command, /chat (the core's commands are described in core/texts.py).
CHAT_DESCRIPTION = "Open a thread where I answer every message"
CHAT_TOPIC_DESCRIPTION = "First message of the thread"

DESCRIPTION_MAX = 100  # characters Discord takes for a command or option description

# Korean slash-command vocabulary, keyed by the English string Discord is given.
# Names must be lowercase and at most 32 characters; Korean letters are allowed.
KOREAN_NAMES: dict[str, str] = {
    # command names
    "persona": "페르소나",
    "personas": "페르소나목록",
    "reset": "초기화",
    "model": "모델",
    "models": "모델목록",
    "set": "설정",
    "settings": "설정보기",
    "usage": "사용량",
    "tokens": "토큰",
    "newpersona": "페르소나추가",
    "delpersona": "페르소나삭제",
    "chat": "대화",
    "answerall": "모두답변",
    "help": "도움말",
    "image": "그림",
    "speak": "말하기",
    "voice": "음성답변",
    "tools": "도구",
    "reminders": "알림",
    # parameter names
    "name": "이름",
    "prompt": "프롬프트",
    "parameter": "항목",
    "value": "값",
    "text": "텍스트",
    "topic": "주제",
    "state": "상태",
    "action": "동작",
}


def english_description(text: str) -> str:
    """A description as Discord takes it."""
    return text[:DESCRIPTION_MAX]


def korean_slash_vocabulary() -> dict[str, str]:
    """Korean for every name and description the slash commands show, keyed by the English."""
    korean = {
        **KOREAN_NAMES,
        CHAT_DESCRIPTION: "모든 메시지에 답하는 스레드를 엽니다",
        CHAT_TOPIC_DESCRIPTION: "스레드의 첫 메시지",
    }
    for spec in COMMANDS:
        english = english_description(command_description(spec.name, "en"))
        korean[english] = english_description(command_description(spec.name, "ko"))
        for arg in spec.args:
            english = english_description(argument_description(spec.name, arg.name, "en"))
            korean[english] = english_description(argument_description(spec.name, arg.name, "ko"))
    return korean


class CatalogTranslator(app_commands.Translator):
    """Korean from `korean_slash_vocabulary()`; English is the source text."""

    def __init__(self) -> None:
        self._korean = korean_slash_vocabulary()

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.korean:
            return None
        return self._korean.get(string.message)

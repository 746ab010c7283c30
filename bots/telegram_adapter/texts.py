"""The few texts the Telegram adapter shows on its own (the core owns every other text)."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "text_only": {
        "en": "I can only read text (and the captions of photos and files). Please write your "
        "message as text.",
        "ko": "저는 텍스트(그리고 사진·파일의 캡션)만 읽을 수 있어요. "
        "메시지를 텍스트로 보내 주세요.",
    },
}


def text(key: str, language: str | None) -> str:
    """`key`'s text in the user's language (Korean for "ko*", English otherwise)."""
    variants = _TEXTS[key]
    lang = (language or "en").split("-")[0].lower()
    return variants.get(lang, variants["en"])

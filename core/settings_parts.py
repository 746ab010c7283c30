"""The settings turned into the configs of the parts bootstrap builds: access, limits, the
media read and made (core/bootstrap.py stays one readable page of wiring)."""

from __future__ import annotations

import openai

from config.settings import Settings
from core.media.image_generation import OpenAIImageGenerator
from core.media.out_params import MediaOutConfig, MediaOutOptions
from core.media.speech import OpenAISynthesizer
from core.media.transcription import OpenAITranscriber, TranscriptionPrices
from core.model.catalog import ModelCatalog
from core.model.choice import ModelChoice
from core.policy.access import AccessPolicy
from core.policy.limits import AbuseLimits, LimitConfig
from core.storage.stores import Storage
from core.turn.attachments import MB, AttachmentReader, MediaConfig
from core.turn.media_out import MediaOut


def access_policy_of(settings: Settings) -> AccessPolicy:
    return AccessPolicy(
        settings.allowed_users,
        settings.allowed_chats,
        settings.admin_users,
        denied_users=settings.denied_users,
        denied_chats=settings.denied_chats,
    )


def limit_config_of(settings: Settings) -> LimitConfig:
    return LimitConfig(
        user_per_min=settings.rate_limit_user_per_min,
        chat_per_min=settings.rate_limit_chat_per_min,
        user_commands_per_min=settings.rate_limit_user_commands_per_min,
        user_daily_usd=settings.budget_user_daily_usd,
        user_monthly_usd=settings.budget_user_monthly_usd,
        chat_daily_usd=settings.budget_chat_daily_usd,
        chat_monthly_usd=settings.budget_chat_monthly_usd,
        user_daily_tokens=settings.budget_user_daily_tokens,
        user_monthly_tokens=settings.budget_user_monthly_tokens,
        chat_daily_tokens=settings.budget_chat_daily_tokens,
        chat_monthly_tokens=settings.budget_chat_monthly_tokens,
    )


def attachment_reader_of(
    settings: Settings, client: openai.AsyncOpenAI, models: ModelCatalog, choice: ModelChoice
) -> AttachmentReader:
    config = MediaConfig(
        files_enabled=settings.files_enabled,
        voice_enabled=settings.voice_enabled,
        max_file_bytes=int(settings.max_file_mb * MB),
        max_voice_bytes=int(settings.max_voice_mb * MB),
        max_voice_s=settings.max_voice_minutes * 60,
        transcription_model=settings.transcription_model,
        images_enabled=settings.images_enabled,
        max_image_bytes=int(settings.max_image_mb * MB),
    )
    transcriber = OpenAITranscriber(client, settings.transcription_model)

    async def seeing_models() -> list[str]:
        """The models a chat may pick that read images (offered when its own cannot)."""
        return [name for name in await choice.pickable() if models.get(name).caps.images]

    return AttachmentReader(config, transcriber, TranscriptionPrices.load(), seeing_models)


def media_out_options_of(settings: Settings) -> MediaOutOptions:
    return MediaOutOptions(
        MediaOutConfig(
            image_generation_enabled=settings.image_generation_enabled,
            speech_enabled=settings.speech_enabled,
            image_model=settings.image_model,
            image_size=settings.image_size,
            image_quality=settings.image_quality,
            speech_model=settings.tts_model,
            voice=settings.tts_voice,
        )
    )


def media_out_of(
    options: MediaOutOptions, client: openai.AsyncOpenAI, storage: Storage, limits: AbuseLimits
) -> MediaOut:
    """/image and /speak on the default provider's client, as transcription is."""
    return MediaOut(
        options, OpenAIImageGenerator(client), OpenAISynthesizer(client), storage, limits
    )

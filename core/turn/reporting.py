"""Reporting a turn to the user (the final answer, or what went wrong, in words) and to the log
(one line per turn, and `TurnStats` for observers such as the benchmarks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from config.providers import DEFAULT_PROVIDER
from core.boundary import AnswerDone, ConversationKey, Failure, Notice, ReplyEvent
from core.storage.records import UsageRecord
from core.texts import Texts
from core.turn.answering import AnswerStream

log = logging.getLogger("core.turn")


@dataclass(frozen=True, slots=True)
class TurnStats:
    """What one answered turn cost; logged as one line and handed to `on_turn` observers."""

    key: ConversationKey
    model: str
    outcome: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    cost_usd: float
    bot_s: float  # our own time: everything but waiting for the model and for the adapter
    model_s: float
    window_messages: int
    window_cut: bool


class TurnReporter:
    """Turns an answer's outcome into reply events; says once, loudly, when the provider
    refuses the bot itself."""

    def __init__(self) -> None:
        self._told_owner: set[str] = set()

    def outcome(
        self, answer: AnswerStream, key: ConversationKey, texts: Texts
    ) -> tuple[str, list[ReplyEvent]]:
        """The turn's outcome (for the log) and the events that end it."""
        failure = answer.failure
        text = answer.text
        if failure is not None:
            provider = failure.provider or DEFAULT_PROVIDER
            log.warning(
                "provider %s failed for %s: %s", provider, key, failure.detail or failure.kind
            )
            told = f"{provider}:{failure.kind}"
            if failure.kind in ("auth", "quota") and told not in self._told_owner:
                # Every turn fails until the owner acts: say it once, loudly, at ERROR.
                self._told_owner.add(told)
                log.error(
                    "the AI service refused this bot (%s): check %s and billing; every answer "
                    "on its models fails until then",
                    failure.kind,
                    "OPENAI_API_KEY"
                    if provider == DEFAULT_PROVIDER
                    else f"provider {provider}'s key (api_key_env in PROVIDERS)",
                )
            if text.strip():
                return failure.kind, [
                    AnswerDone(text, cut_short=True),
                    Notice(texts.get("notice.stream_broken")),
                ]
            return failure.kind, [Failure(texts.get(f"error.{failure.kind}"))]
        assert answer.result is not None
        reason = answer.result.finish_reason
        if not text.strip() and reason == "length" and _thought(answer):
            # The whole budget went on thinking: say so, and what to change.
            limit = answer.prompt.request.max_tokens
            return "thought_too_long", [Failure(texts.get("error.thought_too_long", limit=limit))]
        if not text.strip():
            return "empty", [Failure(texts.get("error.empty_answer"))]
        if reason != "length":
            return reason, [AnswerDone(text)]
        limit = answer.prompt.plan.reply_tokens
        return reason, [
            AnswerDone(text, cut_short=True),
            Notice(texts.get("notice.answer_cut", limit=limit)),
        ]


def _thought(answer: AnswerStream) -> bool:
    """Whether the model spent tokens thinking (or is one that does)."""
    result = answer.result
    return bool(
        answer.prompt.plan.spec.caps.reasoning
        or answer.reasoning
        or (result is not None and result.reasoning_tokens)
    )


def turn_stats(
    key: ConversationKey,
    answer: AnswerStream,
    outcome: str,
    usage: UsageRecord | None,
    turn_s: float,
) -> TurnStats:
    window = answer.prompt.window
    return TurnStats(
        key=key,
        model=answer.prompt.plan.spec.name,
        outcome=outcome,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        cached_tokens=usage.cached_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
        cost_usd=usage.cost_usd if usage else 0.0,
        bot_s=turn_s - answer.timing.model_s - answer.timing.held_s - answer.timing.tools_s,
        model_s=answer.timing.model_s,
        window_messages=len(window.messages),
        window_cut=window.cut,
    )


def log_turn(stats: TurnStats) -> None:
    log.info(
        "turn key=%s model=%s outcome=%s prompt_tokens=%d cached_tokens=%d "
        "completion_tokens=%d cost_usd=%.6f bot_ms=%.1f model_ms=%.1f window=%d cut=%s",
        stats.key,
        stats.model,
        stats.outcome,
        stats.prompt_tokens,
        stats.cached_tokens,
        stats.completion_tokens,
        stats.cost_usd,
        stats.bot_s * 1000,
        stats.model_s * 1000,
        stats.window_messages,
        stats.window_cut,
    )

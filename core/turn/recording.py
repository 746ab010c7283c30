"""Storing a turn's outcome: the answer, what it cost, and the window's new start, together."""

from __future__ import annotations

from collections.abc import Sequence

from core.boundary import IncomingMessage
from core.model.catalog import ModelSpec
from core.model.client import ModelResult
from core.model.token_ratios import TokenRatios
from core.storage.messages import MessageStore
from core.storage.records import NewMessage, UsageRecord
from core.tokens import count_message, count_text
from core.turn.answering import AnswerStream


def usage_of(answer: AnswerStream, message: IncomingMessage) -> UsageRecord | None:
    """What the answer cost; None when nothing came back at all."""
    if answer.result is None and not answer.text and not answer.reasoning:
        return None
    return usage_record(
        answer.prompt.plan.spec,
        answer.result,
        answer.text,
        answer.reasoning,
        answer.prompt.sent_tokens,
        message.author.user_id,
    )


def usage_record(
    spec: ModelSpec,
    result: ModelResult | None,
    text: str,
    reasoning_text: str,
    sent_tokens: int,
    user_id: str | None,
) -> UsageRecord:
    """What an answer cost, priced by the catalog: the server's usage, or (from servers that
    report none, as some local ones) our own exact counts of the `sent_tokens` prompt and of
    what came back."""
    reported = result or ModelResult(finish_reason="error")
    prompt = reported.prompt_tokens
    if prompt is None:
        prompt = sent_tokens
    # Thinking the server streamed (a <think> block, reasoning_content) is output it bills.
    reasoning = reported.reasoning_tokens
    if reasoning is None:
        reasoning = count_text(reasoning_text, spec.encoding) if reasoning_text else 0
    completion = reported.completion_tokens
    if completion is None:
        completion = count_text(text, spec.encoding) + reasoning
    completion = max(completion, 0)
    return UsageRecord(
        user_id=user_id,
        model=spec.name,
        prompt_tokens=prompt,
        cached_tokens=reported.cached_tokens,
        completion_tokens=completion,
        cost_usd=spec.cost_usd(prompt, reported.cached_tokens, completion),
        reasoning_tokens=max(min(reasoning, completion), 0),
    )


def learned_ratio(answer: AnswerStream, ratios: TokenRatios) -> tuple[str, float] | None:
    """What the model's reported prompt tokens teach about its tokenizer: (model, new ratio)
    to store with the usage, or None."""
    result = answer.result
    if result is None or result.prompt_tokens is None:
        return None
    spec = answer.prompt.plan.spec
    ratio = ratios.observe(spec, answer.prompt.sent_tokens, result.prompt_tokens)
    return None if ratio is None else (spec.name, ratio)


async def record_turn(
    messages: MessageStore,
    conversation_id: int,
    answer: AnswerStream,
    usage: UsageRecord | None,
    token_ratio: tuple[str, float] | None = None,
    tool_rounds: Sequence[NewMessage] = (),
    more_usage: Sequence[UsageRecord] = (),
) -> None:
    """One transaction: a turn is never half-written (an answer without its usage, or a tool
    call without its results, say). `tool_rounds` are the calls and results before the answer;
    `more_usage` the earlier rounds' usage and the tools' own."""
    spec = answer.prompt.plan.spec
    stored_answer = None
    if answer.text.strip():
        stored_answer = NewMessage(
            role="assistant",
            content=answer.text,
            tokens=count_message("assistant", answer.text, spec.encoding),
            encoding=spec.encoding,
        )
    window = answer.prompt.window
    await messages.complete_turn(
        conversation_id,
        stored_answer,
        usage,
        window_start_id=window.start_id if window.cut else None,
        token_ratio=token_ratio,
        tool_rounds=tool_rounds,
        more_usage=more_usage,
    )

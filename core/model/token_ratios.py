"""Token counts for models whose tokenizer the bot does not have: estimates, kept safe.

The bot counts such a model's messages with a tokenizer it has (o200k_base), and learns from
each answer how many tokens the model itself counted for the prompt (`usage.prompt_tokens`)
per token counted here. Windows are then planned with that ratio plus a margin, so a long chat
on a Llama or Gemini model does not overflow its context. The ratio follows a rise at once and
a fall slowly (a prompt counted low once must not make the next one overflow); it is kept in
memory for the turn's planning and stored with the usage row, in its transaction.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.model.catalog import ModelSpec

# Until a model's first answer says otherwise: many open models' tokenizers count a quarter
# more than o200k_base on everyday text.
UNLEARNED_RATIO = 1.25
SAFETY_MARGIN = 0.10  # planned on top of the learned ratio
FALL_RATE = 0.1  # share of the way to a lower observation that the ratio moves per answer
MIN_RATIO, MAX_RATIO = 0.25, 8.0  # beyond these the report is not about the same prompt
MIN_PROMPT_TOKENS = 16  # shorter prompts are mostly framing: they say little of the text
STORE_CHANGE = 0.001  # smaller changes are not worth a write


class TokenRatios:
    """The learned ratio of each estimated model (model's count / local count)."""

    def __init__(self, learned: Mapping[str, float] | None = None) -> None:
        self._learned = dict(learned or {})

    def learned(self, model: str) -> float | None:
        return self._learned.get(model)

    def ratio(self, spec: ModelSpec) -> float:
        """Model tokens per local token: 1 when the bot has the model's own tokenizer."""
        if not spec.estimated_tokens:
            return 1.0
        return self._learned.get(spec.name, UNLEARNED_RATIO)

    def planning_factor(self, spec: ModelSpec) -> float:
        """What a local count is multiplied by when planning a window: the ratio plus the
        margin for estimates."""
        if not spec.estimated_tokens:
            return 1.0
        return self.ratio(spec) * (1 + SAFETY_MARGIN)

    def observe(self, spec: ModelSpec, local_tokens: int, reported_tokens: int) -> float | None:
        """Learn from one answer's usage; the new ratio when it should be stored, else None."""
        if not spec.estimated_tokens or local_tokens < MIN_PROMPT_TOKENS or reported_tokens <= 0:
            return None
        observed = reported_tokens / local_tokens
        if not MIN_RATIO <= observed <= MAX_RATIO:
            return None
        old = self._learned.get(spec.name)
        rising = old is None or observed >= old
        new = observed if rising or old is None else old + FALL_RATE * (observed - old)
        self._learned[spec.name] = new
        if old is not None and abs(new - old) < STORE_CHANGE:
            return None
        return new

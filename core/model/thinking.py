"""Telling a model's thinking from its answer in streamed content: local reasoning models
(DeepSeek-R1, QwQ, Qwen3 behind llama.cpp, Ollama, vLLM) open their content with a
`<think>…</think>` block. The tags may be split across chunks anywhere, so undecided text is
held back until it can be told apart; once the answer has begun, content passes straight
through."""

from __future__ import annotations

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Feed content chunks in order; get back (is_reasoning, text) pieces, then `finish()`."""

    def __init__(self) -> None:
        self._state = "start"  # start -> (think -> after ->) answer
        self._held = ""

    @property
    def answering(self) -> bool:
        """The answer has begun: every further chunk is answer text as it is."""
        return self._state == "answer"

    def feed(self, text: str) -> list[tuple[bool, str]]:
        if self._state == "answer":
            return [(False, text)] if text else []
        self._held += text
        out: list[tuple[bool, str]] = []
        if self._state == "start":
            stripped = self._held.lstrip()
            if not stripped or (len(stripped) < len(OPEN) and OPEN.startswith(stripped)):
                return out  # only whitespace, or what may still become "<think>"
            if not stripped.startswith(OPEN):
                return self._answer_from(self._held)
            self._state, self._held = "think", stripped[len(OPEN) :]
        if self._state == "think":
            end = self._held.find(CLOSE)
            if end < 0:
                cut = len(self._held) - _partial_suffix(self._held, CLOSE)
                thought, self._held = self._held[:cut], self._held[cut:]
                if thought:
                    out.append((True, thought))
                return out
            if end:
                out.append((True, self._held[:end]))
            self._state, self._held = "after", self._held[end + len(CLOSE) :]
        # After the block: the whitespace between it and the answer is neither.
        rest = self._held.lstrip()
        if rest:
            out += self._answer_from(rest)
        else:
            self._held = ""
        return out

    def finish(self) -> list[tuple[bool, str]]:
        """What is still held when the stream ends: an unfinished thought stays a thought."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state == "think":
            return [(True, held)]
        if self._state == "after":
            return []
        return [(False, held)]

    def _answer_from(self, text: str) -> list[tuple[bool, str]]:
        self._state, self._held = "answer", ""
        return [(False, text)]


def _partial_suffix(text: str, tag: str) -> int:
    """The length of the longest end of `text` that begins `tag` (a tag cut by a chunk)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0

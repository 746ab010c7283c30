"""The console's Tokenizer port: tiktoken's own ids, spans of whole characters, and counts for
the model's encoding and for cl100k_base and o200k_base side by side."""

from __future__ import annotations

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from core.bootstrap import App
from core.console.tokenizer import MAX_TEXT_CHARS, TextTooLong, token_spans
from core.tokens import install_offline_encodings

ENGLISH = "Hello, how are you today? I would like to order a coffee."
KOREAN = "안녕하세요, 오늘 어떠세요? 커피 한 잔 주문하고 싶어요."
ENCODINGS = ("cl100k_base", "o200k_base")


@pytest.fixture(scope="module", autouse=True)
def offline_encodings(tmp_path_factory: pytest.TempPathFactory) -> None:
    install_offline_encodings(tmp_path_factory.mktemp("tiktoken"))


@pytest.mark.parametrize("name", ENCODINGS)
@pytest.mark.parametrize("text", [ENGLISH, KOREAN, "naïve café 🙂👍🏽 <|endoftext|>", ""])
def test_ids_are_tiktokens_and_spans_are_whole_characters(name: str, text: str) -> None:
    reference = tiktoken.get_encoding(name)
    spans = token_spans(text, name)
    assert [i for span in spans for i in span.ids] == reference.encode(text, disallowed_special=())
    assert "".join(span.text for span in spans) == text
    for span in spans:
        assert span.text and reference.decode(list(span.ids)) == span.text


def test_a_korean_syllable_split_across_tokens_is_one_span_with_both_ids() -> None:
    spans = token_spans(KOREAN, "cl100k_base")
    split = [span for span in spans if len(span.ids) > 1]
    assert split, "cl100k_base splits some Korean syllables into several tokens"
    assert all("\ufffd" not in span.text for span in spans)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_round_trips(text: str) -> None:
    for name in ENCODINGS:
        spans = token_spans(text, name)
        assert "".join(span.text for span in spans) == text
        ids = [i for span in spans for i in span.ids]
        assert ids == tiktoken.get_encoding(name).encode_ordinary(text)


async def test_counts_side_by_side_show_korean_costs_more(app: App) -> None:
    tokenizer = app.workbench.tokenizer
    english = tokenizer.tokenize(ENGLISH, "gpt-4o-mini")
    korean = tokenizer.tokenize(KOREAN, "gpt-4o-mini")
    assert english.encoding == "o200k_base" and english.estimated_tokens is None
    assert english.tokens == len(tiktoken.get_encoding("o200k_base").encode_ordinary(ENGLISH))
    assert korean.chars == len(KOREAN)
    for count in korean.compared:
        reference = tiktoken.get_encoding(count.encoding)
        assert count.tokens == len(reference.encode_ordinary(KOREAN))
        assert count.chars == len(KOREAN)
    assert [c.encoding for c in korean.compared] == list(ENCODINGS)
    # Fewer characters, more tokens: Korean costs more per character in both encodings.
    for en, ko in zip(english.compared, korean.compared, strict=True):
        assert ko.chars_per_token < en.chars_per_token
    assert korean.compared[0].tokens > korean.compared[1].tokens  # o200k_base is kinder to it


async def test_a_model_without_its_tokenizer_is_an_estimate(app: App) -> None:
    result = app.workbench.tokenizer.tokenize(ENGLISH, "llama3.1:8b")
    assert result.estimated_tokens is not None and result.encoding == "o200k_base"


async def test_text_over_the_limit_is_refused(app: App) -> None:
    with pytest.raises(TextTooLong):
        app.workbench.tokenizer.tokenize("a" * (MAX_TEXT_CHARS + 1), "gpt-4o-mini")

"""Files as text for the model: text-like files (plain text, Markdown, CSV, JSON, source code)
decoded, and PDFs' text layer (pypdf). Anything else is not read."""

from __future__ import annotations

import codecs
import io
import logging
from pathlib import PurePath

import pypdf

log = logging.getLogger(__name__)

# Media types that are text whatever their family says (application/json...).
TEXT_MEDIA_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/x-ndjson",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/javascript",
        "application/x-javascript",
        "application/typescript",
        "application/x-sh",
        "application/x-shellscript",
        "application/sql",
        "application/x-python",
        "application/x-python-code",
        "application/x-tex",
        "application/csv",
        "application/x-subrip",
    }
)
# Platforms often send source code as application/octet-stream: the extension decides then.
TEXT_EXTENSIONS = frozenset(
    """txt text md markdown rst csv tsv json jsonl ndjson yaml yml toml ini cfg conf log xml
    html htm css scss sass less svg py pyi ipynb js mjs cjs ts tsx jsx vue svelte java kt kts
    scala groovy gradle c h cc cpp cxx hpp hh cs go rs rb php pl pm swift m mm r jl lua sh
    bash zsh fish ps1 bat cmd sql graphql proto dart ex exs erl hrl hs elm clj cljs fs fsx ml
    mli nim zig v tex bib srt vtt diff patch properties dockerfile makefile cmake""".split()  # noqa: SIM905 (a block reads better than 100 lines)
)
PDF_MEDIA_TYPE = "application/pdf"


class Unreadable(Exception):
    """A supported file whose text cannot be had; `reason` picks the user's line."""

    def __init__(self, reason: str) -> None:  # "no_text_layer" | "damaged" | "binary"
        super().__init__(reason)
        self.reason = reason


def readable_as(media_type: str, file_name: str) -> str | None:
    """ "pdf", "text", or None when the bot does not read this kind of file."""
    path = PurePath(file_name.lower())
    extension = path.suffix.lstrip(".") or path.name  # "Makefile", "Dockerfile"
    if media_type == PDF_MEDIA_TYPE or extension == "pdf":
        return "pdf"
    if media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES:
        return "text"
    if extension in TEXT_EXTENSIONS:
        return "text"
    return None


def file_text(data: bytes, readable: str, max_chars: int) -> tuple[str, bool]:
    """The file's text, at most `max_chars` of it, and whether there was more. CPU-bound on big
    PDFs: run it in a thread. Raises Unreadable."""
    if readable == "pdf":
        return _pdf_text(data, max_chars)
    return _decoded(data, max_chars)


def _decoded(data: bytes, max_chars: int) -> tuple[str, bool]:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; else Windows-1252, which decodes any
    byte. NUL bytes in a file without a UTF-16 BOM mean it is not text at all."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    elif b"\x00" in data[:8192]:
        raise Unreadable("binary")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    return text[:max_chars], len(text) > max_chars


def _pdf_text(data: bytes, max_chars: int) -> tuple[str, bool]:
    """Page by page until `max_chars`: a 500-page manual is not extracted for its first page."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unreadable("damaged")
        pages: list[str] = []
        length = 0
        for page in reader.pages:
            text = (page.extract_text() or "").strip()
            if text:
                pages.append(text)
                length += len(text) + 2
            if length > max_chars:
                break
    except Unreadable:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged or odd file
        log.info("a PDF could not be read: %s", type(error).__name__)
        raise Unreadable("damaged") from None
    if not pages:
        raise Unreadable("no_text_layer")
    text = "\n\n".join(pages)
    return text[:max_chars], length > max_chars or len(text) > max_chars

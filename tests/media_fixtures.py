"""Media fixtures made by the tests themselves (nothing downloaded): a PDF with a text layer,
one without, a voice-note-like OGG/Opus blob the fake transcriber can "hear", a tiny PNG, and
attachments that fetch them as a platform would."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Awaitable, Callable

from core.boundary import Attachment, AttachmentKind, FetchFailed, TooLarge


def pdf(pages: list[str | None]) -> bytes:
    """A PDF with one page per entry, each showing its text in Helvetica (None: a page with no
    text, as a scan has). Written by hand, with a correct cross-reference table."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * index for index in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{page_id} 0 R" for page_id in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for index, text in enumerate(pages):
        contents = page_ids[index] + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {contents} 0 R"
            " /Resources << /Font << /F1 3 0 R >> >> >>".encode()
        )
        stream = b""
        if text is not None:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def voice_note(words: str, padding: int = 200) -> bytes:
    """Bytes shaped like an OGG/Opus voice note (capture pattern, OpusHead) that carry what the
    fake transcriber hears: `SAY:<words>`."""
    head = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01\x38\x01\x80\xbb\x00\x00"
    return head + b"SAY:" + words.encode() + b"\x00" + bytes(padding)


def tiny_png() -> bytes:
    """A valid 1×1 red PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


class Served:
    """An attachment's bytes as a platform serves them; counts fetches, can fail."""

    def __init__(self, data: bytes, *, fails: bool = False) -> None:
        self.data = data
        self.fails = fails
        self.fetches = 0

    async def fetch(self, max_bytes: int) -> bytes:
        self.fetches += 1
        if self.fails:
            raise FetchFailed("the platform lost it")
        if len(self.data) > max_bytes:
            raise TooLarge()
        return self.data


def attachment(
    kind: AttachmentKind,
    data: bytes,
    file_name: str,
    media_type: str,
    *,
    served: Served | None = None,
    size: int | None = -1,
    duration_s: float | None = None,
) -> Attachment:
    """An attachment whose bytes are `data` (or `served`'s); `size` defaults to their length."""
    source = served or Served(data)
    fetch: Callable[[int], Awaitable[bytes]] = source.fetch
    return Attachment(
        kind=kind,
        media_type=media_type,
        size=len(source.data) if size == -1 else size,
        file_name=file_name,
        fetch=fetch,
        duration_s=duration_s,
    )


def photo(width: int, height: int, kind: str = "PNG", colour: str = "red") -> bytes:
    """A one-colour image of a known size, made with Pillow (PNG or JPEG)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, kind)
    return out.getvalue()

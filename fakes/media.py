"""Real media bytes made in code, for the fakes' answers and the tests' uploads: a PNG of one
colour, and an OGG/Opus stream of silence (OpusHead and OpusTags pages, then 20 ms Opus silence
packets, every page with its Ogg CRC) that players and Telegram's sendVoice take as they are."""

from __future__ import annotations

import struct
import zlib

OPUS_SILENCE = b"\xf8\xff\xfe"  # TOC: CELT fullband 20 ms, mono, one frame; then a silent frame
SAMPLES_PER_PACKET = 960  # 20 ms at 48 kHz, the rate Opus granule positions count in
PRE_SKIP = 312
PACKETS_PER_PAGE = 200


def png(width: int = 8, height: int = 8, rgb: tuple[int, int, int] = (220, 20, 20)) -> bytes:
    """A valid RGB PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + bytes(rgb) * width
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _crc_table() -> list[int]:
    table = []
    for index in range(256):
        crc = index << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_CRC_TABLE = _crc_table()


def ogg_crc(data: bytes) -> int:
    """The Ogg page checksum: CRC-32, polynomial 0x04C11DB7, not reflected, initial 0."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _CRC_TABLE[((crc >> 24) & 0xFF) ^ byte]
    return crc


def ogg_page(
    packets: list[bytes], *, serial: int, sequence: int, granule: int, flags: int = 0
) -> bytes:
    """One Ogg page holding whole `packets` (each under 255 × 255 bytes)."""
    lacing = bytearray()
    for packet in packets:
        lacing += b"\xff" * (len(packet) // 255) + bytes([len(packet) % 255])
    header = struct.pack("<4sBBqIIIB", b"OggS", 0, flags, granule, serial, sequence, 0, len(lacing))
    page = bytearray(header + bytes(lacing) + b"".join(packets))
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return bytes(page)


def ogg_opus(packets: int = 25, *, comment: str = "", serial: int = 0x5EED) -> bytes:
    """`packets` × 20 ms of Opus silence in an OGG container (mono, 48 kHz); `comment` goes into
    OpusTags (a test can tell what was "said")."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, PRE_SKIP, 48000, 0, 0)
    vendor = b"fake-openai"
    comments = [f"SPOKEN={comment}".encode()] if comment else []
    tags = b"OpusTags" + struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    tags += b"".join(struct.pack("<I", len(c)) + c for c in comments)
    pages = [
        ogg_page([head], serial=serial, sequence=0, granule=0, flags=0x02),
        ogg_page([tags], serial=serial, sequence=1, granule=0),
    ]
    sent = 0
    while sent < packets:  # at most 255 segments a page
        count = min(PACKETS_PER_PAGE, packets - sent)
        sent += count
        granule = PRE_SKIP + SAMPLES_PER_PACKET * sent
        last = 0x04 if sent == packets else 0
        page = ogg_page(
            [OPUS_SILENCE] * count, serial=serial, sequence=len(pages), granule=granule, flags=last
        )
        pages.append(page)
    return b"".join(pages)


def ogg_comment(data: bytes) -> str:
    """The SPOKEN= comment of an `ogg_opus` stream ("" without one)."""
    start = data.find(b"SPOKEN=")
    if start < 0:
        return ""
    length = struct.unpack_from("<I", data, start - 4)[0]
    return data[start + len("SPOKEN=") : start + length].decode("utf-8", errors="replace")

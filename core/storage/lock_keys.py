"""PostgreSQL advisory locks are named by a 64-bit number: ours are derived from a text name."""

from __future__ import annotations

import hashlib


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (two names sharing one only serialize needlessly)."""
    digest = hashlib.blake2b(f"gpt-chat-bot:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)

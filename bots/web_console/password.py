"""WEB_CONSOLE_PASSWORD_HASH: a password the owner chose, kept only as an scrypt hash (so the
setting itself signs no one in), made by `python -m bots console-password`."""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import sys

# scrypt's parameters for interactive logins (RFC 7914): about 16 MB and tens of milliseconds.
N, R, P = 2**14, 8, 1
PREFIX = "scrypt"


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt:N:r:p:salt:hash`, salt and hash in base64."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.scrypt(password.encode(), salt=salt, n=N, r=R, p=P, dklen=32)
    return ":".join([PREFIX, str(N), str(R), str(P), _b64(salt), _b64(digest)])


def valid_hash(value: str) -> bool:
    try:
        _parse(value)
    except ValueError:
        return False
    return True


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` hashes to `stored`, compared in constant time."""
    n, r, p, salt, digest = _parse(stored)
    given = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(digest), maxmem=256 * 1024 * 1024
    )
    return hmac.compare_digest(given, digest)


def _parse(value: str) -> tuple[int, int, int, bytes, bytes]:
    parts = value.split(":")
    if len(parts) != 6 or parts[0] != PREFIX:
        raise ValueError("not an scrypt hash from `python -m bots console-password`")
    try:
        n, r, p = (int(part) for part in parts[1:4])
        salt, digest = (
            base64.b64decode(parts[4], validate=True),
            base64.b64decode(parts[5], validate=True),
        )
    except ValueError as error:
        raise ValueError("not an scrypt hash from `python -m bots console-password`") from error
    if n < 2**10 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16 or len(digest) < 16:
        raise ValueError("its scrypt parameters are out of range")
    return n, r, p, salt, digest


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def main() -> int:
    """Ask for a password twice (not echoed) and print its hash for WEB_CONSOLE_PASSWORD_HASH."""
    first = getpass.getpass("console password: ")
    if len(first) < 12:
        print("at least 12 characters, please", file=sys.stderr)
        return 2
    if getpass.getpass("again: ") != first:
        print("the two do not match", file=sys.stderr)
        return 2
    print(f"WEB_CONSOLE_PASSWORD_HASH={hash_password(first)}")
    return 0

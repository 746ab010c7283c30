"""Who may see the console: the owner's secret, a signed session cookie, CSRF tokens and a
lock-out after repeated failed sign-ins.

The session is a signed cookie, not a server-side record, so that every process serving the bot
(scale-out) accepts it without a shared store: its key is derived from WEB_CONSOLE_TOKEN, so
changing the token signs everyone out. Signing out forgets the cookie in the browser and revokes
its nonce in this process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bots.web_console.password import password_matches

SESSION_COOKIE = "console_session"
PRESESSION_COOKIE = "console_signin"  # binds the sign-in form's CSRF token to this browser
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"  # for scripts (fetch) that post JSON


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Per client address: `max_failures` failed sign-ins within `window_s` lock it out for
    `lock_s`; all addresses together: `global_failures` lock every sign-in out likewise (a
    guesser with many addresses)."""

    max_failures: int = 5
    window_s: float = 15 * 60
    lock_s: float = 15 * 60
    global_failures: int = 100


@dataclass(slots=True)
class _Failures:
    times: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class SignInGuard:
    """Counts failed sign-ins and says when an address (or everyone) is locked out. In memory:
    each process counts its own, which only makes a guesser's budget per process."""

    def __init__(
        self, policy: LockoutPolicy | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.policy = policy or LockoutPolicy()
        self._clock = clock
        self._by_address: dict[str, _Failures] = {}
        self._everyone = _Failures()

    def locked_for(self, address: str) -> float:
        """Seconds until `address` may try again; 0.0 when it may now."""
        now = self._clock()
        entry = self._by_address.get(address)
        until = max(self._everyone.locked_until, entry.locked_until if entry else 0.0)
        return max(until - now, 0.0)

    def failed(self, address: str) -> None:
        now = self._clock()
        if len(self._by_address) > 10_000:  # a flood of addresses: keep only the locked ones
            self._by_address = {a: f for a, f in self._by_address.items() if f.locked_until > now}
        entry = self._by_address.setdefault(address, _Failures())
        self._count(entry, now, self.policy.max_failures)
        self._count(self._everyone, now, self.policy.global_failures)

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)

    def _count(self, entry: _Failures, now: float, limit: int) -> None:
        entry.times = [t for t in entry.times if now - t < self.policy.window_s] + [now]
        if len(entry.times) >= limit:
            entry.locked_until = now + self.policy.lock_s
            entry.times = []


class Secret:
    """The owner's secret (the token, and or the password's hash): compared in constant time,
    never shown, the root of every key."""

    def __init__(self, token: str, password_hash: str = "") -> None:
        self._token = bool(token)
        self._digest = hashlib.sha256(token.encode()).digest()
        self._password_hash = password_hash
        root = f"{token}\0{password_hash}".encode()
        self._key = hmac.new(root, b"gpt-chat-bot web console", "sha256").digest()

    def matches(self, given: str) -> bool:
        """Whether `given` is the token or the password (scrypt: call it off the event loop)."""
        # Digests first: compare_digest is constant-time only for inputs of equal length.
        token = hmac.compare_digest(hashlib.sha256(given.encode()).digest(), self._digest)
        if self._token and token:
            return True
        return bool(self._password_hash) and password_matches(given, self._password_hash)

    def sign(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), "sha256").hexdigest()

    def __repr__(self) -> str:
        return "Secret(****)"


class Sessions:
    """Issues and checks session cookies `issued.nonce.signature` and their CSRF tokens."""

    def __init__(
        self, secret: Secret, lifetime_s: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self.lifetime_s = lifetime_s
        self._clock = clock
        self._revoked: dict[str, float] = {}  # nonce -> when it would have expired

    def issue(self) -> str:
        body = f"{int(self._clock())}.{secrets.token_urlsafe(18)}"
        return f"{body}.{self._secret.sign('session', body)}"

    def nonce(self, cookie: str | None) -> str | None:
        """The session's nonce when `cookie` is a valid, unexpired, unrevoked session."""
        if not cookie or cookie.count(".") != 2:
            return None
        issued, nonce, signature = cookie.split(".")
        expected = self._secret.sign("session", f"{issued}.{nonce}")
        if not hmac.compare_digest(signature, expected) or not issued.isdigit():
            return None
        now = self._clock()
        if now - int(issued) > self.lifetime_s or int(issued) > now + 60:
            return None
        if nonce in self._revoked:
            return None
        return nonce

    def revoke(self, cookie: str | None) -> None:
        nonce = self.nonce(cookie)
        if nonce is None or cookie is None:
            return
        now = self._clock()
        self._revoked = {n: t for n, t in self._revoked.items() if t > now}
        self._revoked[nonce] = int(cookie.split(".")[0]) + self.lifetime_s

    def csrf_token(self, nonce: str) -> str:
        return self._secret.sign("csrf", nonce)

    def csrf_ok(self, nonce: str, given: str) -> bool:
        return bool(given) and hmac.compare_digest(given, self.csrf_token(nonce))

"""Who may use the console: one operator password, sessions, CSRF tokens and a login limit.

* Logging in with ``ADMIN_PASSWORD`` starts a session: a random token in a cookie that is
  HttpOnly (scripts can't read it) and SameSite=Strict (other sites' pages can't send it), Secure
  when ``ADMIN_SECURE_COOKIE`` is set. Sessions are kept in the store, so every replica behind a
  load balancer knows them and a restart logs nobody out; the store keeps only the token's
  SHA-256, so what is in the database can't be used as a cookie.
* Every form carries the session's CSRF token, and a POST without it is refused. The login form,
  before there is a session, carries a token that must match a cookie of its own.
* Wrong passwords are limited per client address, counted in the store (every replica counts
  the same ones): after :data:`MAX_FAILURES` within :data:`FAILURE_WINDOW` seconds, logins from
  there are refused until the window has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from core.store import ConsoleSession, Store

#: Wrong passwords allowed per address and window.
MAX_FAILURES = 5
FAILURE_WINDOW = 60.0
#: A session ends this long after login.
SESSION_SECONDS = 12 * 3600
SESSION_COOKIE = "ima_admin_session"
LOGIN_COOKIE = "ima_admin_login"


def new_token() -> str:
    """A random token that can't be guessed (256 bits)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session's token."""
    return hashlib.sha256(token.encode()).hexdigest()


class Sessions:
    """The console's sessions, in the store (wall-clock times: replicas compare them)."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def start(self) -> tuple[str, ConsoleSession]:
        """A new session and its token (for the cookie; the store never sees it)."""
        now = self._clock()
        token = new_token()
        session = ConsoleSession(new_token(), now + SESSION_SECONDS)
        await self._store.start_session(token_hash(token), session, now=now)
        return token, session

    async def get(self, token: str | None) -> ConsoleSession | None:
        if not token:
            return None
        return await self._store.session(token_hash(token), now=self._clock())

    async def end(self, token: str | None) -> None:
        if token:
            await self._store.end_session(token_hash(token))


class LoginLimiter:
    """Wrong passwords per client address within a sliding window, in the store."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def blocked(self, address: str) -> bool:
        since = self._clock() - FAILURE_WINDOW
        return await self._store.login_failures(address, since=since) >= MAX_FAILURES

    async def failed(self, address: str) -> None:
        await self._store.login_failed(address, now=self._clock(), window=FAILURE_WINDOW)


def same(given: str | None, expected: str) -> bool:
    """Whether two secrets are equal, in time that doesn't depend on where they differ."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())

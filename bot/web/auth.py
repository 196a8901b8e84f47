"""Who may use the console: one operator password, sessions, CSRF tokens and a login limit.

* Logging in with ``ADMIN_PASSWORD`` starts a session: a random token in a cookie that is
  HttpOnly (scripts can't read it) and SameSite=Strict (other sites' pages can't send it), Secure
  when ``ADMIN_SECURE_COOKIE`` is set. Sessions live in the process's memory: a restart logs
  everyone out, which is acceptable for a handful of operators.
* Every form carries the session's CSRF token, and a POST without it is refused. The login form,
  before there is a session, carries a token that must match a cookie of its own.
* Wrong passwords are limited per client address: after :data:`MAX_FAILURES` within
  :data:`FAILURE_WINDOW` seconds, logins from there are refused until the window has passed.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

#: Wrong passwords allowed per address and window.
MAX_FAILURES = 5
FAILURE_WINDOW = 60.0
#: A session ends this long after login.
SESSION_SECONDS = 12 * 3600
SESSION_COOKIE = "ima_admin_session"
LOGIN_COOKIE = "ima_admin_login"


@dataclass(frozen=True)
class Session:
    csrf: str
    expires_at: float


def new_token() -> str:
    """A random token that can't be guessed (256 bits)."""
    return secrets.token_urlsafe(32)


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}

    def start(self) -> tuple[str, Session]:
        now = self._clock()
        self._sessions = {k: s for k, s in self._sessions.items() if s.expires_at > now}
        token = new_token()
        session = Session(new_token(), now + SESSION_SECONDS)
        self._sessions[token] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        session = self._sessions.get(token) if token else None
        if session is None or session.expires_at <= self._clock():
            return None
        return session

    def end(self, token: str | None) -> None:
        if token:
            self._sessions.pop(token, None)


class LoginLimiter:
    """Wrong passwords per client address within a sliding window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)

    def _recent(self, address: str) -> deque[float]:
        failures = self._failures[address]
        cutoff = self._clock() - FAILURE_WINDOW
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return deque()
        return failures

    def blocked(self, address: str) -> bool:
        return len(self._recent(address)) >= MAX_FAILURES

    def failed(self, address: str) -> None:
        self._recent(address)
        self._failures[address].append(self._clock())


def same(given: str | None, expected: str) -> bool:
    """Whether two secrets are equal, in time that doesn't depend on where they differ."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())

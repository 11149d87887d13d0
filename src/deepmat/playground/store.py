"""The sessions of a playground server: one per browser tab, under an unguessable id.

Bounded: at most ``max_sessions`` live at once (a new one evicts the least recently used
idle session, or is refused while every session is busy), each expires after
``idle_seconds`` without a request, and each serves one request at a time (its lock, waited
for at most ``wait_seconds``). Memory is bounded with them: a session holds at most
:data:`~deepmat.playground.settings.LIMITS`' samples and network.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator

from deepmat.playground.session import Session


class UnknownSession(LookupError):
    """No session has this id (never created, expired, or deleted)."""


class Busy(RuntimeError):
    """The session (or every session, for a new one) is busy with other requests."""


class SessionStore:
    """Sessions by id (see the module's docstring for the bounds)."""

    def __init__(
        self, max_sessions: int = 16, idle_seconds: float = 1800.0, wait_seconds: float = 10.0
    ) -> None:
        self.max_sessions = max_sessions
        self.idle_seconds = idle_seconds
        self.wait_seconds = wait_seconds
        self.sessions: dict[str, Session] = {}
        self.guard = threading.Lock()

    def __len__(self) -> int:
        return len(self.sessions)

    def expire(self) -> None:
        """Forget every idle session unused for ``idle_seconds``."""
        now = time.monotonic()
        with self.guard:
            for key, session in list(self.sessions.items()):
                if now - session.last_used > self.idle_seconds and not session.lock.locked():
                    del self.sessions[key]

    def add(self, session: Session) -> str:
        """Store ``session`` under a new, unguessable id and return the id."""
        self.expire()
        with self.guard:
            if len(self.sessions) >= self.max_sessions:
                idle = [k for k, s in self.sessions.items() if not s.lock.locked()]
                if not idle:
                    raise Busy(
                        f"the playground already serves {self.max_sessions} busy sessions; close a tab or "
                        "try again in a moment"
                    )
                del self.sessions[min(idle, key=lambda k: self.sessions[k].last_used)]
            key = secrets.token_urlsafe(16)
            self.sessions[key] = session
        return key

    def replace(self, key: str, session: Session) -> None:
        """Put ``session`` under ``key`` (new settings for the same tab)."""
        with self.guard:
            if key not in self.sessions:
                raise UnknownSession(_unknown(key))
            self.sessions[key] = session

    def delete(self, key: str) -> None:
        """Forget ``key`` (a tab that closes); an unknown key is no error."""
        with self.guard:
            self.sessions.pop(key, None)

    @contextlib.contextmanager
    def use(self, key: str) -> Iterator[Session]:
        """The session ``key``, locked for the duration of a request."""
        self.expire()
        with self.guard:
            session = self.sessions.get(key)
        if session is None:
            raise UnknownSession(_unknown(key))
        if not session.lock.acquire(timeout=self.wait_seconds):
            raise Busy(f"session {key[:6]}… is still busy with an earlier request; try again")
        try:
            session.last_used = time.monotonic()
            yield session
        finally:
            session.last_used = time.monotonic()
            session.lock.release()


def _unknown(key: str) -> str:
    return (
        f"no playground session {key[:24]!r}: it expired after a long pause, or the server was restarted; "
        "reload the page"
    )

"""Keep-alive HTTP/1.1 to IMA's API origin, lean enough for thousands of status checks.

A status check is a tiny POST whose headers never change; aiohttp's client session spent more
CPU building, sending and reading it than everything else a check does together (profiled in
``docs/benchmarks.md`` §1). This transport writes a request from header bytes built once per
endpoint and parses the answer with ``httptools`` (llhttp, the C parser uvicorn uses), on a
small pool of keep-alive connections to the one origin.

What it guarantees:

* every request has a total deadline (waiting for a connection included), checked by one
  sweep a fraction of the timeout apart instead of a timer per request;
* a connection the server closed, or one idle longer than :data:`IDLE_SECONDS`, is never used
  again; an answer with ``Connection: close`` (or HTTP/1.0 without keep-alive) closes it;
* answers above ``max_body`` bytes are refused;
* :class:`~core.ima.errors.NetworkError` says ``sent=False`` only when no byte of the request
  was written (no connection could be made, or it timed out waiting for one); once written, a
  lost answer is ``sent=True``, so a create that may have reached the server is never repeated.

Errors carry no header, URL or body: the API key can't leak through them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import urlsplit

import httptools

from core.ima.errors import NetworkError

#: A connection idle this long is closed rather than reused: servers and load balancers drop
#: idle keep-alive connections after a while (commonly 60–75 s), and a request written onto one
#: they are closing is lost (``sent=True``: a create is then never repeated).
IDLE_SECONDS = 15.0
#: The largest answer read (a product list is some hundred KiB).
MAX_BODY = 8 * 1024 * 1024


class Answer(NamedTuple):
    status: int
    body: bytes
    #: The ``Retry-After`` header as sent, if any.
    retry_after: str | None


class Exchange:
    """One request: its bytes, its deadline and where its answer goes."""

    __slots__ = ("deadline", "future", "payload", "then", "written")

    def __init__(
        self,
        payload: bytes,
        deadline: float,
        future: asyncio.Future[Answer],
        then: Callable[[], None] | None,
    ) -> None:
        self.payload = payload
        self.deadline = deadline
        self.future = future
        self.then = then
        self.written = False

    def end(self, answer: Answer | NetworkError) -> None:
        """The answer or the error, in the future and at once to ``then``."""
        if self.future.done():
            return
        if isinstance(answer, NetworkError):
            self.future.set_exception(answer)
        else:
            self.future.set_result(answer)
        if self.then is not None:
            self.then()

    def fail(self, detail: str) -> None:
        self.end(NetworkError(detail, sent=self.written))


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one exchange at a time (no pipelining)."""

    def __init__(self, pool: Transport) -> None:
        self._pool = pool
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self.exchange: Exchange | None = None
        self.closed = False
        self.idle_since = 0.0
        self._status = 0
        self._body: list[bytes] = []
        self._size = 0
        self._retry_after: str | None = None
        self._until_close = True  # no Content-Length or chunked: the body ends with the connection
        self._headers_done = False

    # ── asyncio.Protocol ──────────────────────────────────────────────────────────────────

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:  # nothing was asked: a confused or hostile server
            self.abort()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            too_large = isinstance(exc.__context__, _TooLarge)
            self._lose("answer too large" if too_large else f"unreadable answer: {exc}"[:200])

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        exchange = self.exchange
        if exchange is not None:
            self.exchange = None
            if exc is None and self._headers_done and self._until_close:
                self._answer(exchange)
            else:
                exchange.fail("connection lost before the answer")
        self._pool._lost(self)

    # ── httptools callbacks ───────────────────────────────────────────────────────────────

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-length":
            self._until_close = False
            if int(value) > self._pool.max_body:
                raise _TooLarge
        elif lowered == b"transfer-encoding":
            self._until_close = False
        elif lowered == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._status = self._parser.get_status_code()
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size > self._pool.max_body:
            raise _TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        exchange = self.exchange
        if exchange is None:
            return
        self.exchange = None
        keep = self._parser.should_keep_alive()
        self._answer(exchange)
        if keep and not self.closed:
            self._pool._idle(self)
        else:
            self.abort()

    # ── used by the pool ──────────────────────────────────────────────────────────────────

    def send(self, exchange: Exchange) -> None:
        assert self._transport is not None
        self.exchange = exchange
        self._status, self._size, self._retry_after = 0, 0, None
        self._until_close, self._headers_done = True, False
        self._transport.write(exchange.payload)
        exchange.written = True

    def abort(self) -> None:
        """Close at once; an exchange still on it is lost (connection_lost tells it)."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _answer(self, exchange: Exchange) -> None:
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body = []
        exchange.end(Answer(self._status, body, self._retry_after))

    def _lose(self, detail: str) -> None:
        exchange, self.exchange = self.exchange, None
        if exchange is not None:
            exchange.fail(detail)
        self.abort()


class _TooLarge(Exception):
    """Raised inside the parser's callbacks; turns into httptools' callback error."""


class Transport:
    """Up to ``limit`` keep-alive connections to one origin (``http://`` or ``https://``).

    :meth:`request` takes the request's head (request line and headers, without the blank line
    and ``Content-Length``) as bytes built once by the caller, and returns the :class:`Answer`
    or raises :class:`~core.ima.errors.NetworkError`. Requests beyond ``limit`` wait for a
    connection in arrival order.
    """

    def __init__(
        self,
        origin: str,
        *,
        timeout: float,
        limit: int = 100,
        max_body: int = MAX_BODY,
        idle_seconds: float = IDLE_SECONDS,
    ) -> None:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the IMA API needs an http:// or https:// origin")
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self.host = parts.hostname
        self.port = parts.port or (443 if self._tls else 80)
        default_port = parts.port is None or parts.port == (443 if self._tls else 80)
        #: The ``Host`` header's value.
        self.authority = self.host if default_port else f"{self.host}:{self.port}"
        self.timeout = timeout
        self.max_body = max_body
        self._limit = limit
        self._idle_seconds = idle_seconds
        self._connections: set[_Connection] = set()
        self._idle_stack: list[_Connection] = []  # most recently used last
        self._opening = 0
        self._pending: deque[Exchange] = deque()
        self._sweeper: asyncio.Task[None] | None = None
        self._closed = False

    async def request(self, head: bytes, body: bytes | None = None) -> Answer:
        exchange = self.submit(head, body)
        try:
            return await exchange.future
        except asyncio.CancelledError:
            self.abandon(exchange)
            raise

    def submit(
        self, head: bytes, body: bytes | None = None, then: Callable[[], None] | None = None
    ) -> Exchange:
        """Send (or queue) a request without waiting: its answer, or its
        :class:`~core.ima.errors.NetworkError`, comes in the exchange's ``future``, and
        ``then()`` is called the moment it does (from the protocol's callback, a loop
        iteration before a done-callback of the future would run, never before this returns;
        it must not raise). Whoever
        stops waiting for it calls :meth:`abandon`."""
        if self._closed:
            raise RuntimeError("the IMA transport is closed")
        loop = asyncio.get_running_loop()
        payload = head + (b"Content-Length: %d\r\n\r\n" % len(body) + body if body else b"\r\n")
        now = loop.time()
        exchange = Exchange(payload, now + self.timeout, loop.create_future(), then)
        stack = self._idle_stack
        warm = stack[-1] if stack and not self._pending else None
        if warm is not None and not warm.closed and now - warm.idle_since <= self._idle_seconds:
            stack.pop().send(exchange)  # the common case: a warm connection is free
        else:
            self._pending.append(exchange)
            self._dispatch(loop)
        if self._sweeper is None:
            self._sweeper = loop.create_task(self._sweep())
        return exchange

    async def close(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        while self._pending:
            self._pending.popleft().fail("the IMA session closed")
        for connection in list(self._connections):
            connection.abort()
        self._idle_stack.clear()

    # ── connections ───────────────────────────────────────────────────────────────────────

    def _dispatch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give waiting requests to idle connections; open connections for the rest."""
        pending, stack = self._pending, self._idle_stack
        while pending and stack:
            connection = stack.pop()
            if connection.closed:
                continue
            if loop.time() - connection.idle_since > self._idle_seconds:
                self._drop(connection)
                continue
            exchange = pending.popleft()
            if not exchange.future.done():
                connection.send(exchange)
            else:
                stack.append(connection)
        wanted = min(len(pending), self._limit - len(self._connections) - self._opening)
        for _ in range(max(wanted, 0)):
            self._opening += 1
            loop.create_task(self._open())

    async def _open(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self),
                    self.host,
                    self.port,
                    ssl=self._tls,
                    server_hostname=self.host if self._tls else None,
                )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            self._opening -= 1
            reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
            # Nothing was written: the request provably never reached the server.
            while self._pending:
                exchange = self._pending.popleft()
                if not exchange.future.done():
                    exchange.fail(f"cannot connect: {reason}")
                    break
            return
        self._opening -= 1
        if self._closed:
            connection.abort()
            return
        self._connections.add(connection)
        self._idle(connection)

    def _idle(self, connection: _Connection) -> None:
        """``connection`` finished an answer (or just opened): the next request, or rest."""
        while self._pending:
            exchange = self._pending.popleft()
            if not exchange.future.done():
                connection.send(exchange)
                return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle_stack.append(connection)

    def _lost(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        if connection in self._idle_stack:
            self._idle_stack.remove(connection)
        if self._pending and not self._closed:
            self._dispatch(asyncio.get_running_loop())

    def _drop(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        connection.abort()

    def abandon(self, exchange: Exchange) -> None:
        """The caller stopped waiting: an unsent request is forgotten, a sent one's connection
        closed (its answer would arrive for nobody, and its loss is nobody's error)."""
        exchange.future.cancel()
        if not exchange.written:
            with contextlib.suppress(ValueError):
                self._pending.remove(exchange)
            return
        for connection in self._connections:
            if connection.exchange is exchange:
                connection.abort()
                break

    async def _sweep(self) -> None:
        """Fail requests past their deadline and close connections idle too long."""
        loop = asyncio.get_running_loop()
        every = min(1.0, self.timeout / 4)
        while True:
            await asyncio.sleep(every)
            now = loop.time()
            for connection in list(self._connections):
                exchange = connection.exchange
                if exchange is not None and now >= exchange.deadline:
                    connection.exchange = None
                    exchange.fail(f"no answer within {self.timeout:g} s")
                    connection.abort()
            while self._pending and now >= self._pending[0].deadline:
                self._pending.popleft().fail(f"no connection within {self.timeout:g} s")
            stack = self._idle_stack
            while stack and now - stack[0].idle_since > self._idle_seconds:
                self._drop(stack.pop(0))

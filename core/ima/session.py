"""The one place that talks HTTP to IMA: headers, envelopes, error classification, redaction.

Everything above this class works with decoded ``data`` and typed errors. The API key travels in
the ``Authorization`` header and, for the upload token, in the query string; neither the key nor
those URLs ever reach a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import secrets
import string
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from prometheus_client.metrics import Histogram

from core.ima.errors import IMAError, NetworkError, ServerError, classify_response
from core.ima.transport import Exchange, Transport
from core.metrics import IMA_ERRORS, IMA_LATENCY

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.imastudio.com"
DEFAULT_UPLOAD_BASE_URL = "https://imapi.liveme.com"

# Public constants of IMA's upload service (the web front end ships them; they are not secrets).
UPLOAD_APP_ID = "webAgent"
UPLOAD_APP_KEY = "32jdskjdk320eew"
_NONCE_ALPHABET = string.ascii_letters + string.digits
#: What ``json.loads`` uses, called without its checks of arguments (once per status check).
_JSON = json.JSONDecoder()


def redact(text: str, secret: str) -> str:
    """Replace every occurrence of ``secret`` with a short, recognisable stub."""
    if not secret or secret not in text:
        return text
    return text.replace(secret, mask_key(secret))


def mask_key(key: str) -> str:
    """``ima_abcdef…`` → ``ima_ab...`` (enough to tell keys apart in logs, never the key)."""
    return f"{key[:6]}..." if len(key) > 10 else "***"


@dataclass(frozen=True, slots=True)
class Call:
    """A request to IMA's API on its way (:meth:`IMASession.submit`)."""

    exchange: Exchange
    #: ``time.perf_counter()`` when it was sent, for its latency metric.
    started: float
    latency: Histogram


class IMASession:
    """IMA's API through a lean keep-alive transport; the upload service, presigned PUTs and
    downloads (other hosts) through one aiohttp session.

    ``request`` returns the envelope's ``data`` or raises an :class:`IMAError` subclass; the
    classification happens only here.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        upload_base_url: str = DEFAULT_UPLOAD_BASE_URL,
        language: str = "en",
        timeout: float = 30.0,
        upload_timeout: float = 60.0,
        http: aiohttp.ClientSession | None = None,
    ) -> None:
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.upload_base_url = upload_base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._upload_timeout = aiohttp.ClientTimeout(total=upload_timeout)
        self._http = http
        self._owns_http = http is None
        self._closed = False
        # The API's calls go through a lean keep-alive transport with their headers built once,
        # not per request: thousands of jobs poll, and each status check's CPU counts.
        self._api = Transport(self.base_url, timeout=timeout)
        headers = {
            "Host": self._api.authority,
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "x-app-source": "ima_skills",
            "x_app_language": language,
            "User-Agent": "ima-bot",
        }
        if any(c in value for value in headers.values() for c in "\r\n\0"):
            raise ValueError("the API key or language holds a control character")
        self._api_headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items()).encode()
        self._endpoints: dict[tuple[str, str], tuple[bytes, Histogram]] = {}

    def __repr__(self) -> str:
        return f"IMASession(base_url={self.base_url!r}, api_key={mask_key(self._api_key)!r})"

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the IMA session is closed")
        if self._http is None or self._http.closed:
            # IMA sets no cookies the bot needs: a dummy jar skips the cookie filtering and
            # bookkeeping aiohttp otherwise does on every request and response.
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
            self._owns_http = True
        return self._http

    async def close(self) -> None:
        self._closed = True
        await self._api.close()
        if self._owns_http and self._http is not None:
            await self._http.close()

    async def __aenter__(self) -> IMASession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _endpoint(self, method: str, path: str) -> tuple[bytes, Histogram]:
        """The request head of ``method path`` and its latency metric (``/open/v1/product/list``:
        product_list)."""
        known = self._endpoints.get((method, path))
        if known is None:
            name = path.rsplit("/", 2)[-2] + "_" + path.rsplit("/", 1)[-1]
            known = self._endpoints[method, path] = (
                self._head(method, path),
                IMA_LATENCY.labels(name),
            )
        return known

    def _head(self, method: str, target: str) -> bytes:
        # A base URL may carry a path prefix (an operator's proxy): it leads every target.
        prefix = urlsplit(self.base_url).path.rstrip("/")
        return f"{method} {prefix}{target} HTTP/1.1\r\n".encode() + self._api_headers

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Any:
        """Call ``/open/v1/...`` and return ``data``; raise a classified :class:`IMAError`.

        ``json_body`` may come already encoded (:func:`encode_body`): a job's status check sends
        the same body every time, so it is encoded once per job, not per check.
        """
        call = self.submit(method, path, json_body=json_body, params=params)
        try:
            await call.exchange.future
        except asyncio.CancelledError:
            self.abandon(call)
            raise
        except IMAError:
            pass  # raised, counted and timed by data()
        return self.data(call)

    def submit(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | bytes | None = None,
        params: Mapping[str, str] | None = None,
        then: Callable[[], None] | None = None,
    ) -> Call:
        """:meth:`request` without waiting: the call is on its way; :meth:`data` reads it once
        its exchange's future is done (``then()`` is called then, see
        :meth:`~core.ima.transport.Transport.submit`), or :meth:`abandon` forgets it. For
        callers that wait for many calls at once without a task each (status checks,
        :mod:`core.ima.checks`)."""
        if self._closed:
            raise RuntimeError("the IMA session is closed")
        head, latency = self._endpoint(method, path)
        if params:
            head = self._head(method, f"{path}?{urlencode(params)}")
        body = (
            json_body
            if json_body is None or isinstance(json_body, bytes)
            else encode_body(json_body)
        )
        started = time.perf_counter()
        return Call(self._api.submit(head, body, then), started, latency)

    def data(self, call: Call) -> Any:
        """The answered ``call``'s ``data``, or its classified :class:`IMAError` raised."""
        try:
            answer = call.exchange.future.result()
            return self._decode(answer.status, answer.body, _retry_after(answer.retry_after))
        except IMAError as exc:
            IMA_ERRORS.labels(exc.kind).inc()
            raise
        finally:
            call.latency.observe(time.perf_counter() - call.started)

    def abandon(self, call: Call) -> None:
        """Nobody waits for ``call`` any more (its connection is closed if it was sent)."""
        self._api.abandon(call.exchange)
        call.latency.observe(time.perf_counter() - call.started)

    def _decode(self, status: int, raw: bytes, retry_after: float | None) -> Any:
        try:
            # Decoded first: json.loads(bytes) would sniff the encoding on every status check.
            envelope = _JSON.decode(raw.decode()) if raw else None
        except ValueError:  # UnicodeDecodeError included
            envelope = None
        if not isinstance(envelope, dict):
            text = raw[:200].decode("utf-8", "replace")
            error = classify_response(status, None, text) if status >= 400 else None
            # A 2xx without a JSON envelope is a broken answer: treat it like a server error.
            raise error or ServerError(f"HTTP {status} without a JSON envelope", http_status=status)
        code = envelope.get("code")
        message = str(envelope.get("message") or envelope.get("msg") or "")
        error = classify_response(
            status,
            code if isinstance(code, int) else _int_or_none(code),
            message,
            retry_after=retry_after,
        )
        if error is not None:
            error.detail = self._clean(error.detail)
            raise error
        return envelope.get("data")

    def _clean(self, text: str) -> str:
        return redact(text, self._api_key)

    # ── upload service ────────────────────────────────────────────────────────────────────

    async def upload_token(
        self, *, suffix: str, content_type: str, file_type: str
    ) -> tuple[str, str]:
        """Ask for a presigned PUT URL; returns ``(ful, fdl)``. Its URL holds the API key."""
        nonce = "".join(secrets.choice(_NONCE_ALPHABET) for _ in range(21))
        timestamp = str(int(time.time()))
        sign = (
            hashlib.sha1(  # noqa: S324 - the upload service's protocol, not our security
                f"{UPLOAD_APP_ID}|{UPLOAD_APP_KEY}|{timestamp}|{nonce}".encode()
            )
            .hexdigest()
            .upper()
        )
        query = {
            "appUid": self._api_key,
            "appId": UPLOAD_APP_ID,
            "appKey": UPLOAD_APP_KEY,
            "cmimToken": self._api_key,
            "sign": sign,
            "timestamp": timestamp,
            "nonce": nonce,
            "fService": "privite",
            "fType": file_type,
            "fSuffix": suffix,
            "fContentType": content_type,
        }
        url = f"{self.upload_base_url}/api/rest/oss/getuploadtoken"
        try:
            async with self.http.get(url, params=query, timeout=self._timeout) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = _retry_after(resp.headers.get("Retry-After"))
        except aiohttp.ClientConnectorError:
            raise NetworkError("upload service: cannot connect", sent=False) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            # Never include exc: aiohttp puts the request URL (with the key) into its messages.
            raise NetworkError(f"upload service: {type(exc).__name__}", sent=True) from None
        data = self._decode(status, raw, retry_after)
        if not isinstance(data, dict) or not data.get("ful") or not data.get("fdl"):
            raise ServerError("upload token answer without ful/fdl", http_status=status)
        return str(data["ful"]), str(data["fdl"])

    async def put_bytes(self, url: str, data: bytes, content_type: str) -> None:
        """PUT to a presigned URL (no auth header: the URL carries its own signature)."""
        try:
            async with self.http.put(
                url,
                data=data,
                headers={"Content-Type": content_type},
                timeout=self._upload_timeout,
            ) as resp:
                if resp.status >= 300:
                    text = (await resp.read())[:200].decode("utf-8", "replace")
                    raise classify_response(
                        resp.status, None, f"upload PUT: {text}"
                    ) or ServerError(f"upload PUT answered {resp.status}", http_status=resp.status)
        except aiohttp.ClientConnectorError:
            raise NetworkError("storage: cannot connect", sent=False) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise NetworkError(f"storage: {type(exc).__name__}", sent=True) from None


def encode_body(body: Mapping[str, Any]) -> bytes:
    """A request body as IMA is sent it (UTF-8 JSON, non-ASCII kept)."""
    return json.dumps(body, ensure_ascii=False).encode()


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None

"""Everything the bot asks of Feishu's REST API, over one aiohttp session (one connection pool).

Why not lark-oapi's async calls (``message.acreate`` …)? Its transport opens a new
``httpx.AsyncClient`` for every request: a fresh TCP + TLS connection per call and ~20 ms of
blocking CPU on the event loop building an SSL context (certifi's bundle) each time; there is no
hook to share a client. Its async resource download also loses Feishu's error code (it looks
for ``Content-Type`` in headers it has lower-cased), and tenant tokens are fetched with a
blocking ``requests`` call unless passed per request. So the REST calls go through aiohttp here
(lark-oapi still does the long connection and the webhook's decryption and signature check).

Feishu answers ``{"code": 0, "msg": ..., "data": {...}}``; any other code becomes a
:class:`FeishuApiError`. Rate-limit answers (HTTP 429, ``99991400``, ``230020``) are retried
after ``x-ogw-ratelimit-reset``; an expired or revoked tenant token is fetched anew; 5xx
answers and network errors are retried briefly (sends are idempotent through their uuid).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.feishu.event import PLATFORM
from core.metrics import RATE_LIMITED

log = logging.getLogger(__name__)

#: Refresh the tenant token this long before it expires (Feishu issues a new one only when the
#: current one has under 30 minutes left; asking earlier returns the same token).
TOKEN_MARGIN = 600.0
RATE_LIMIT_CODES = frozenset({99991400, 230020})
#: No, unknown (revoked) or expired tenant token.
TOKEN_CODES = frozenset({99991661, 99991663, 99991677})
MAX_RATE_LIMIT_RETRIES = 3
MAX_TRANSIENT_RETRIES = 2
MAX_RESET_WAIT = 30.0
_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=60)


class FeishuError(Exception):
    """Feishu could not be reached, or refused."""


class FeishuApiError(FeishuError):
    def __init__(
        self,
        code: int,
        msg: str,
        *,
        status: int,
        log_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Feishu error {code} (HTTP {status}): {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.log_id = log_id
        #: Set for rate-limit answers: seconds until the limit resets.
        self.retry_after = retry_after


class TooLargeError(FeishuError):
    """A download is larger than the caller's limit (nothing past the limit was read)."""


FormFactory = Callable[[], aiohttp.FormData]


class FeishuApi:
    def __init__(self, app_id: str, app_secret: str, domain: str) -> None:
        self._app_id = app_id
        self._app_secret = app_secret
        self._domain = domain.rstrip("/")
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()

    @property
    def session(self) -> aiohttp.ClientSession:
        """Made on first use, inside the running loop; never again after :meth:`close`."""
        if self._closed:
            raise FeishuError("the Feishu client is closed")
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=_TIMEOUT)
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ── bot and messages ─────────────────────────────────────────────────────────────────

    async def bot_open_id(self) -> str:
        """The bot's own open_id: how it recognises its mentions (the answer is under ``bot``)."""
        body = await self._call("GET", "/open-apis/bot/v3/info")
        open_id = body.get("bot", {}).get("open_id")
        if not isinstance(open_id, str) or not open_id:
            raise FeishuError("bot info without an open_id: is the bot ability enabled?")
        return open_id

    async def reply(
        self, message_id: str, msg_type: str, content: Mapping[str, Any], uuid: str
    ) -> str:
        """Reply to ``message_id``; returns the new message's id. ``uuid``: at most one message
        per uuid and hour, so a retried reply is not duplicated."""
        body = await self._call(
            "POST",
            f"/open-apis/im/v1/messages/{message_id}/reply",
            json_body={"msg_type": msg_type, "content": _dumps(content), "uuid": uuid},
        )
        return _message_id(body)

    async def send(self, chat_id: str, msg_type: str, content: Mapping[str, Any], uuid: str) -> str:
        body = await self._call(
            "POST",
            "/open-apis/im/v1/messages",
            params={"receive_id_type": "chat_id"},
            json_body={
                "receive_id": chat_id,
                "msg_type": msg_type,
                "content": _dumps(content),
                "uuid": uuid,
            },
        )
        return _message_id(body)

    async def patch(self, message_id: str, content: Mapping[str, Any]) -> None:
        """Replace a shared card's content (``config.update_multi: true``)."""
        await self._call(
            "PATCH",
            f"/open-apis/im/v1/messages/{message_id}",
            json_body={"content": _dumps(content)},
        )

    # ── files ────────────────────────────────────────────────────────────────────────────

    async def upload_image(self, data: bytes, filename: str = "image.png") -> str:
        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("image_type", "message")
            fields.add_field("image", data, filename=filename)
            return fields

        body = await self._call("POST", "/open-apis/im/v1/images", form=form)
        return _data_str(body, "image_key")

    async def upload_file(
        self, data: bytes, *, file_type: str, file_name: str, duration_ms: int | None = None
    ) -> str:
        """``file_type``: ``mp4`` for ``media`` messages, ``opus`` for ``audio``, else ``stream``
        (or pdf/doc/xls/ppt) for ``file`` messages."""

        def form() -> aiohttp.FormData:
            fields = aiohttp.FormData()
            fields.add_field("file_type", file_type)
            fields.add_field("file_name", file_name)
            if duration_ms is not None:
                fields.add_field("duration", str(duration_ms))
            fields.add_field("file", data, filename=file_name)
            return fields

        body = await self._call("POST", "/open-apis/im/v1/files", form=form)
        return _data_str(body, "file_key")

    async def download_resource(
        self, message_id: str, file_key: str, *, kind: str = "image", max_bytes: int
    ) -> bytes:
        """An image or file inside a user's message (the bot must be in that chat). Only from
        Feishu's API itself: the ids can't reach another path, and a redirect is not followed."""
        message, key = quote(message_id, safe=""), quote(file_key, safe="")
        url = f"{self._domain}/open-apis/im/v1/messages/{message}/resources/{key}"
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {await self._tenant_token()}"}
            try:
                async with self.session.get(
                    url, params={"type": kind}, headers=headers, allow_redirects=False
                ) as response:
                    if response.status == 200:
                        return await _read_capped(response, max_bytes)
                    if 300 <= response.status < 400:
                        raise FeishuError(f"download of {file_key} was redirected: not followed")
                    error = await _error_of(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise FeishuError(f"download of {file_key} failed: {exc!r}") from exc
            if not await self._recover(error, attempt):
                raise error
            attempt += 1

    async def fetch(self, url: str, *, max_bytes: int) -> bytes:
        """A public file (an IMA result) through the same connection pool."""
        try:
            async with self.session.get(url) as response:
                if response.status != 200:
                    raise FeishuError(f"download failed with HTTP {response.status}")
                return await _read_capped(response, max_bytes)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FeishuError(f"download failed: {exc!r}") from exc

    # ── plumbing ─────────────────────────────────────────────────────────────────────────

    async def _tenant_token(self, *, refresh: bool = False) -> str:
        async with self._token_lock:
            if not refresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            url = f"{self._domain}/open-apis/auth/v3/tenant_access_token/internal"
            payload = {"app_id": self._app_id, "app_secret": self._app_secret}
            try:
                async with self.session.post(url, json=payload) as response:
                    body = await _json(response)
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise FeishuError(f"tenant token request failed: {exc!r}") from exc
            token = body.get("tenant_access_token")
            if body.get("code") != 0 or not isinstance(token, str):
                raise FeishuApiError(
                    int(body.get("code", -1)), str(body.get("msg", "")), status=response.status
                )
            expire = float(body.get("expire", 0))
            self._token = token
            self._token_expires = time.monotonic() + max(0.0, expire - TOKEN_MARGIN)
            return token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        form: FormFactory | None = None,
    ) -> dict[str, Any]:
        url = f"{self._domain}{path}"
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {await self._tenant_token()}"}
            data = form() if form is not None else None
            try:
                async with self.session.request(
                    method, url, params=params, json=json_body, data=data, headers=headers
                ) as response:
                    body = await _json(response)
                    if response.status == 200 and body.get("code") == 0:
                        return body
                    error = _api_error(response, body)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Safe to repeat: every send carries a uuid, uploads only leave an unused key.
                if attempt >= MAX_TRANSIENT_RETRIES:
                    raise FeishuError(f"{method} {path} failed: {exc!r}") from exc
                await asyncio.sleep(0.5 * 2**attempt)
                attempt += 1
                continue
            if not await self._recover(error, attempt):
                raise error
            attempt += 1

    async def _recover(self, error: FeishuApiError, attempt: int) -> bool:
        """Wait out a rate limit or renew the token; False when the call should fail."""
        if error.retry_after is not None:
            RATE_LIMITED.labels(PLATFORM).inc()
        if attempt >= MAX_RATE_LIMIT_RETRIES:
            return False
        if error.retry_after is not None:
            log.info("Feishu rate limit (%s): retrying in %.1fs", error.code, error.retry_after)
            await asyncio.sleep(error.retry_after)
            return True
        if error.code in TOKEN_CODES:
            await self._tenant_token(refresh=True)
            return True
        if error.status >= 500 and attempt < MAX_TRANSIENT_RETRIES:
            await asyncio.sleep(0.5 * 2**attempt)
            return True
        return False


def _api_error(response: aiohttp.ClientResponse, body: Mapping[str, Any]) -> FeishuApiError:
    code = body.get("code")
    code = code if isinstance(code, int) else -1
    limited = response.status == 429 or code in RATE_LIMIT_CODES
    return FeishuApiError(
        code,
        str(body.get("msg", "")),
        status=response.status,
        log_id=response.headers.get("X-Tt-Logid"),
        retry_after=_reset_seconds(response.headers) if limited else None,
    )


async def _error_of(response: aiohttp.ClientResponse) -> FeishuApiError:
    try:
        body = await _json(response)
    except FeishuError:
        body = {}
    return _api_error(response, body)


def _reset_seconds(headers: Mapping[str, str]) -> float:
    """``x-ogw-ratelimit-reset``: seconds until the window resets (1 s when absent, e.g. for the
    per-chat limit 230020)."""
    try:
        return min(MAX_RESET_WAIT, max(0.0, float(headers.get("x-ogw-ratelimit-reset", "1"))))
    except ValueError:
        return 1.0


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise FeishuApiError(-1, "answer is not a JSON object", status=response.status)
    return body


async def _read_capped(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    if response.content_length is not None and response.content_length > max_bytes:
        raise TooLargeError(f"{response.content_length} bytes, limit {max_bytes}")
    chunks = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        chunks += chunk
        if len(chunks) > max_bytes:
            raise TooLargeError(f"over {max_bytes} bytes")
    return bytes(chunks)


def _dumps(content: Mapping[str, Any]) -> str:
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"))


def _data_str(body: Mapping[str, Any], name: str) -> str:
    value = body.get("data", {}).get(name)
    if not isinstance(value, str) or not value:
        raise FeishuError(f"answer without {name}")
    return value


def _message_id(body: Mapping[str, Any]) -> str:
    return _data_str(body, "message_id")

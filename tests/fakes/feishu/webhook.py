"""Webhook delivery: POSTing events to the bot's URL the way Feishu does.

With an encrypt key the body is ``{"encrypt": base64(iv + AES-256-CBC(event))}`` and every
request is signed (``X-Lark-Request-Timestamp``, ``-Nonce``, ``X-Lark-Signature``); without
one the event goes as plain JSON, unsigned. Any event shape goes: schema 2.0 events and
callbacks, schema 1.0 events, the console's ``url_verification``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import aiohttp

from tests.fakes.feishu import crypto
from tests.fakes.feishu.records import WebhookResult
from tests.fakes.feishu.state import FeishuState


class WebhookSender:
    def __init__(self, state: FeishuState, *, encrypt_key: str) -> None:
        self.state = state
        self.encrypt_key = encrypt_key
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        # As many deliveries in flight as the tests send: aiohttp's default pool of 100
        # connections queued a burst's deliveries here, and that wait counted as the bot's.
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(
        self,
        url: str,
        event: dict[str, Any],
        *,
        encrypt: bool,
        tamper_signature: bool,
        timestamp: int | None,
    ) -> WebhookResult:
        if self._session is None:
            raise RuntimeError("use FakeFeishu as an async context manager")
        plaintext = json.dumps(event, ensure_ascii=False)
        if encrypt:
            if not self.encrypt_key:
                raise ValueError("encrypt=True needs an encrypt_key")
            body = json.dumps({"encrypt": crypto.encrypt(plaintext, self.encrypt_key)}).encode()
        else:
            body = plaintext.encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.encrypt_key:
            ts = str(int(time.time()) if timestamp is None else timestamp)
            nonce = secrets.token_hex(8)
            signed = body + b"tampered" if tamper_signature else body
            headers["X-Lark-Request-Timestamp"] = ts
            headers["X-Lark-Request-Nonce"] = nonce
            headers["X-Lark-Signature"] = crypto.signature(ts, nonce, self.encrypt_key, signed)
        started = time.monotonic()
        async with self._session.post(url, data=body, headers=headers) as response:
            content = await response.read()
            seconds = time.monotonic() - started
            result = WebhookResult(response.status, content, dict(response.headers), event, seconds)
        self.state.record_delivery("webhook", event, result.status, seconds, _decoded(content))
        return result


def _decoded(content: bytes) -> Any:
    """The answer's JSON, ``None`` when the bot answered something else."""
    try:
        return json.loads(content)
    except ValueError:
        return None

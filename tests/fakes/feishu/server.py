"""A local Feishu open platform that the real lark-oapi SDK can talk to over loopback.

One aiohttp server on 127.0.0.1 serves the REST routes the bot uses (tokens, bot info, send /
reply / patch messages, uploads, resource downloads) and the long-connection endpoint plus its
protobuf websocket. The same object delivers events to the bot, by signed and encrypted webhook
POSTs or by frames on the websocket, and records everything for assertions.

The server runs on the event loop that entered ``async with``. Anything blocking on that loop
cannot reach it: every *sync* SDK call, and the SDK's own tenant-token fetch inside its *async*
methods (a ``requests`` call) unless the client uses ``enable_set_token(True)`` and passes the
token per request. Run those in a thread (``asyncio.to_thread``) or the test deadlocks.

Errors use Feishu's envelope and codes: HTTP 400 with ``99991661`` (no token), ``99991663``
(unknown token), ``99991677`` (expired token), ``99992402`` (field validation), IM ``2300xx`` and
upload ``2340xx`` codes; rate limits are HTTP 429 with ``99991400`` and ``x-ogw-ratelimit-reset``
(injected), or ``230020`` when a chat gets more than 5 messages or a card more than 5 patches in a
second (``enforce_rate_limits``). Time-based rules (token expiry, the one-hour ``uuid`` window)
follow :meth:`FakeFeishu.now`, which tests can move with :meth:`FakeFeishu.advance_time`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from tests.fakes.feishu import crypto, frames
from tests.fakes.feishu.events import EventFactory, new_id
from tests.fakes.feishu.records import (
    ApiErrorRecord,
    FakeUser,
    PatchRecord,
    Route,
    SentMessage,
    UploadedFile,
    UploadedImage,
    WebhookResult,
    WsAck,
)

TOKEN_TTL = 7200
"""Seconds a tenant/app access token lives; Feishu hands out a new one when < 30 min remain."""
TOKEN_REISSUE_BELOW = 1800
UUID_WINDOW = 3600
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024
MAX_CARD_OR_POST_BYTES = 30 * 1024
MAX_TEXT_BYTES = 150 * 1024
MAX_PER_SECOND = 5

RECEIVE_ID_TYPES = frozenset({"open_id", "user_id", "union_id", "email", "chat_id"})
FILE_TYPES = frozenset({"opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"})
MEDIA_FILE_TYPE = {"media": "mp4", "audio": "opus"}
_UNAUTHENTICATED = frozenset({"tenant_access_token", "app_access_token", "ws_endpoint"})

_IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def image_mime(data: bytes) -> str | None:
    """MIME type from the magic bytes, ``None`` when Feishu would not recognise an image."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, mime in _IMAGE_SIGNATURES:
        if data.startswith(magic):
            return mime
    return None


class _ApiError(Exception):
    def __init__(
        self, status: int, code: int, msg: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(msg)
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}


def _invalid(detail: str) -> _ApiError:
    return _ApiError(
        400, 230001, f"Your request contains an invalid request parameter, ext={detail}"
    )


def _field_error(detail: str) -> _ApiError:
    return _ApiError(400, 99992402, f"field validation failed: {detail}")


@dataclass(frozen=True)
class WsClientConfig:
    """The ``ClientConfig`` the endpoint (and every pong) hands the SDK; intervals in seconds.

    Defaults suit tests: no random reconnect delay (``reconnect_nonce=0``) and a 1 s retry
    interval, where Feishu uses 30 s and 120 s.
    """

    reconnect_count: int = -1
    reconnect_interval: int = 1
    reconnect_nonce: int = 0
    ping_interval: int = 120

    def to_json(self) -> dict[str, int]:
        return {
            "ReconnectCount": self.reconnect_count,
            "ReconnectInterval": self.reconnect_interval,
            "ReconnectNonce": self.reconnect_nonce,
            "PingInterval": self.ping_interval,
        }


@dataclass
class _Injection:
    remaining: int
    error: _ApiError


@dataclass(frozen=True)
class _Resource:
    data: bytes
    resource_type: str
    file_name: str
    content_type: str


@dataclass(frozen=True)
class _Part:
    data: bytes
    filename: str | None

    @property
    def text(self) -> str:
        return self.data.decode()


@dataclass
class _PendingPush:
    event: dict[str, Any]
    trace_id: str
    sent_at: float = field(default_factory=time.monotonic)


class FakeFeishu:
    """Usage::

        async with FakeFeishu() as fake:
            client = lark.Client.builder().app_id(fake.app_id).app_secret(fake.app_secret) \\
                .domain(fake.domain).build()
            ...
            result = await fake.post_event(webhook_url, fake.events.dm_text("hi"))
            message = await fake.wait_for_message()

    ``app_id`` defaults to a fresh random id because lark-oapi caches tenant tokens process-wide
    per app_id (``TokenManager.cache``): a token issued by an earlier fake would be presented to a
    later one and rejected.
    """

    def __init__(
        self,
        *,
        app_id: str | None = None,
        app_secret: str | None = None,
        bot_open_id: str | None = None,
        bot_name: str = "IMA Bot",
        verification_token: str | None = None,
        encrypt_key: str | None = None,
        tenant_key: str | None = None,
        ws_client_config: WsClientConfig | None = None,
        enforce_rate_limits: bool = True,
        wait_timeout: float = 5.0,
    ) -> None:
        self.app_id = app_id or new_id("cli_", 16)
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verification_token = verification_token or secrets.token_hex(16)
        # "" is a real setting (no encryption, no signature); None means "make one up".
        self.encrypt_key = secrets.token_hex(16) if encrypt_key is None else encrypt_key
        self.tenant_key = tenant_key or new_id("", 16)
        self.ws_client_config = ws_client_config or WsClientConfig()
        self.enforce_rate_limits = enforce_rate_limits
        self.wait_timeout = wait_timeout
        bot = FakeUser(
            open_id=bot_open_id or new_id("ou_"), user_id="", union_id=new_id("on_"), name=bot_name
        )
        self.events = EventFactory(
            app_id=self.app_id,
            tenant_key=self.tenant_key,
            verification_token=self.verification_token,
            bot=bot,
        )

        self.messages: list[SentMessage] = []
        """Every message sent or replied, in order (a deduplicated ``uuid`` adds nothing)."""
        self.api_errors: list[ApiErrorRecord] = []
        self.ws_acks: list[WsAck] = []
        self.ws_pings = 0
        self.ws_connections_total = 0

        self._messages_by_id: dict[str, SentMessage] = {}
        self._messages_by_uuid: dict[str, tuple[SentMessage, float]] = {}
        self._images: dict[str, UploadedImage] = {}
        self._files: dict[str, UploadedFile] = {}
        self._resources: dict[tuple[str, str], _Resource] = {}
        self._tenant_tokens: dict[str, float] = {}
        self._app_tokens: dict[str, float] = {}
        self._calls: Counter[str] = Counter()
        self._injections: defaultdict[str, deque[_Injection]] = defaultdict(deque)
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._time_offset = 0.0

        self._service_id = secrets.randbelow(90_000_000) + 10_000_000
        self._push_seq = itertools.count(1)
        self._ws_tickets: set[str] = set()
        self._ws_conns: list[web.WebSocketResponse] = []
        self._pending_pushes: dict[str, _PendingPush] = {}

        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(middlewares=[self._middleware()], client_max_size=64 * 1024 * 1024)
        add = app.router.add_route
        auth = "/open-apis/auth/v3"
        add(
            "POST",
            f"{auth}/tenant_access_token/internal",
            self._tenant_token,
            name="tenant_access_token",
        )
        add("POST", f"{auth}/app_access_token/internal", self._app_token, name="app_access_token")
        add("GET", "/open-apis/bot/v3/info", self._bot_info, name="bot_info")
        add("POST", "/open-apis/im/v1/messages", self._send, name="send")
        add("POST", "/open-apis/im/v1/messages/{message_id}/reply", self._reply, name="reply")
        add("PATCH", "/open-apis/im/v1/messages/{message_id}", self._patch, name="patch")
        add("POST", "/open-apis/im/v1/images", self._upload_image, name="upload_image")
        add("POST", "/open-apis/im/v1/files", self._upload_file, name="upload_file")
        add(
            "GET",
            "/open-apis/im/v1/messages/{message_id}/resources/{file_key}",
            self._resource,
            name="resource",
        )
        add("POST", "/callback/ws/endpoint", self._ws_endpoint, name="ws_endpoint")
        add("GET", "/ws/v2", self._ws, name="ws")
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.drop_ws_connections()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def domain(self) -> str:
        """``http://127.0.0.1:<port>``, for ``lark.Client.builder().domain(...)`` and
        ``lark.ws.Client(domain=...)``."""
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot(self) -> FakeUser:
        return self.events.bot

    # --- test controls --------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock: wall time plus whatever :meth:`advance_time` added."""
        return time.time() + self._time_offset

    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock (token expiry, uuid window); no real waiting."""
        self._time_offset += seconds

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as a secret reset does; the next call gets 99991663."""
        self._tenant_tokens.clear()
        self._app_tokens.clear()

    def inject_error(
        self,
        route: Route,
        *,
        status: int,
        code: int,
        msg: str,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` with this error, before any other check.
        Injections queue up in order."""
        self._injections[route].append(_Injection(times, _ApiError(status, code, msg, headers)))

    def inject_rate_limit(self, route: Route, *, times: int = 1, reset_seconds: int = 1) -> None:
        """Feishu's gateway limit: HTTP 429, code 99991400, ``x-ogw-ratelimit-reset``."""
        self.inject_error(
            route,
            status=429,
            code=99991400,
            msg="request trigger frequency limit",
            times=times,
            headers={"x-ogw-ratelimit-limit": "50", "x-ogw-ratelimit-reset": str(reset_seconds)},
        )

    def add_message_resource(
        self,
        message_id: str,
        file_key: str,
        data: bytes,
        *,
        resource_type: str = "image",
        file_name: str | None = None,
    ) -> None:
        """Serve ``data`` at ``GET /im/v1/messages/{message_id}/resources/{file_key}?type=...``."""
        mime = image_mime(data) if resource_type == "image" else None
        self._resources[(message_id, file_key)] = _Resource(
            data=data,
            resource_type=resource_type,
            file_name=file_name or file_key,
            content_type=mime or "application/octet-stream",
        )

    def make_image_message(
        self, data: bytes, *, chat_type: str = "p2p", sender: FakeUser | None = None
    ) -> dict[str, Any]:
        """An ``image`` message event whose bytes the bot can download."""
        event = self.events.image(chat_type=chat_type, sender=sender)
        key = json.loads(event["event"]["message"]["content"])["image_key"]
        self.add_message_resource(EventFactory.message_id(event), key, data)
        return event

    def make_post_message(
        self,
        text: str,
        images: list[bytes],
        *,
        mention_bot: bool = True,
        chat_type: str = "group",
        sender: FakeUser | None = None,
    ) -> dict[str, Any]:
        """A ``post`` event (text, then one image per line) whose images the bot can download."""
        keys = [new_id("img_v3_", 36) for _ in images]
        event = self.events.post(
            text, keys, mention_bot=mention_bot, chat_type=chat_type, sender=sender
        )
        message_id = EventFactory.message_id(event)
        for key, data in zip(keys, images, strict=True):
            self.add_message_resource(message_id, key, data)
        return event

    # --- inspection -----------------------------------------------------------------------

    def call_count(self, route: Route) -> int:
        """Requests that reached ``route``, including rejected ones."""
        return self._calls[route]

    @property
    def token_requests(self) -> int:
        return self._calls["tenant_access_token"]

    def message(self, message_id: str) -> SentMessage:
        return self._messages_by_id[message_id]

    def patches(self, message_id: str) -> list[PatchRecord]:
        """Every content replacement of a card, oldest first."""
        return list(self._messages_by_id[message_id].patches)

    @property
    def images(self) -> list[UploadedImage]:
        return list(self._images.values())

    def image(self, image_key: str) -> UploadedImage:
        return self._images[image_key]

    @property
    def files(self) -> list[UploadedFile]:
        return list(self._files.values())

    def file(self, file_key: str) -> UploadedFile:
        return self._files[file_key]

    @property
    def ws_connected(self) -> bool:
        return any(not ws.closed for ws in self._ws_conns)

    @property
    def ws_unacked(self) -> list[str]:
        """Frame message_ids pushed over the long connection and not acked yet."""
        return list(self._pending_pushes)

    # --- waiting --------------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], what: str = "condition") -> None:
        """Wake on every state change until ``predicate()`` holds, or raise ``TimeoutError``
        after ``wait_timeout`` seconds (wrap the call in ``asyncio.timeout`` for a shorter one)."""
        try:
            async with asyncio.timeout(self.wait_timeout):
                while not predicate():
                    await self._changed.wait()
        except TimeoutError:
            raise TimeoutError(f"FakeFeishu: no {what} within {self.wait_timeout}s") from None

    async def wait_for_messages(self, count: int) -> list[SentMessage]:
        await self.wait_until(lambda: len(self.messages) >= count, what=f"{count} message(s)")
        return list(self.messages)

    async def wait_for_message(
        self, match: Callable[[SentMessage], bool] | None = None
    ) -> SentMessage:
        """The first message (ever sent, not only new ones) for which ``match`` holds."""

        def find() -> SentMessage | None:
            return next((m for m in self.messages if match is None or match(m)), None)

        await self.wait_until(lambda: find() is not None, what="matching message")
        found = find()
        assert found is not None
        return found

    async def wait_for_patches(self, message_id: str, count: int) -> list[PatchRecord]:
        def enough() -> bool:
            message = self._messages_by_id.get(message_id)
            return message is not None and len(message.patches) >= count

        await self.wait_until(enough, what=f"{count} patch(es) of {message_id}")
        return self.patches(message_id)

    async def wait_for_ws_connection(self, count: int = 1) -> None:
        """Until ``count`` connections were ever made and one is open (``count=2``: reconnected)."""
        await self.wait_until(
            lambda: self.ws_connections_total >= count and self.ws_connected,
            what=f"long connection #{count}",
        )

    async def wait_for_ack(self, message_id: str) -> WsAck:
        def find() -> WsAck | None:
            return next((a for a in self.ws_acks if a.message_id == message_id), None)

        await self.wait_until(lambda: find() is not None, what=f"ack of frame {message_id}")
        ack = find()
        assert ack is not None
        return ack

    # --- event delivery: webhook ----------------------------------------------------------

    async def post_event(
        self,
        url: str,
        event: dict[str, Any],
        *,
        encrypt: bool = True,
        tamper_signature: bool = False,
        timestamp: int | None = None,
    ) -> WebhookResult:
        """POST ``event`` to the bot's webhook as Feishu does and return its answer.

        With ``encrypt`` the body is ``{"encrypt": ...}``. Whenever the app has an encrypt key the
        body is signed (``X-Lark-Request-Timestamp/-Nonce``, ``X-Lark-Signature``);
        ``tamper_signature`` sends a wrong signature, ``timestamp`` (Unix seconds, default now)
        lets a test replay an old delivery. A card in the answer to a ``card.action.trigger`` is
        applied to that card like a patch (``source="callback"``).
        """
        assert self._session is not None, "use FakeFeishu as an async context manager"
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
        async with self._session.post(url, data=body, headers=headers) as response:
            content = await response.read()
            result = WebhookResult(response.status, content, dict(response.headers), event)
        if result.status == 200 and _event_type(event) == "card.action.trigger":
            self._apply_callback_card(event, json.loads(content))
        return result

    async def post_url_verification(self, url: str, *, encrypt: bool = True) -> WebhookResult:
        """The console's URL check; the answer must echo ``result.sent["challenge"]``."""
        return await self.post_event(url, self.events.url_verification(), encrypt=encrypt)

    # --- event delivery: long connection --------------------------------------------------

    async def send_ws_event(self, event: dict[str, Any]) -> str:
        """Push ``event`` as a data frame to the newest open connection; returns the frame's
        message_id (see :meth:`wait_for_ack`). Feishu delivers each event to one client only."""
        ws = next((ws for ws in reversed(self._ws_conns) if not ws.closed), None)
        if ws is None:
            raise RuntimeError("no long-connection client is connected")
        message_id = new_id("")
        trace_id = new_id("")
        headers = {
            "type": "event",
            "message_id": message_id,
            "trace_id": trace_id,
            "sum": "1",
            "seq": "0",
        }
        data = frames.build(
            method=frames.METHOD_DATA,
            service=self._service_id,
            headers=headers,
            payload=json.dumps(event, ensure_ascii=False).encode(),
            seq_id=next(self._push_seq),
        )
        self._pending_pushes[message_id] = _PendingPush(event, trace_id)
        await ws.send_bytes(data)
        return message_id

    async def push_event(self, event: dict[str, Any]) -> WsAck:
        """Push ``event`` over the long connection and wait for the client's ack."""
        return await self.wait_for_ack(await self.send_ws_event(event))

    async def drop_ws_connections(self) -> None:
        """Close every long connection from the server side (the SDK then reconnects)."""
        for ws in list(self._ws_conns):
            await ws.close(code=aiohttp.WSCloseCode.GOING_AWAY, message=b"server restart")

    # --- HTTP plumbing --------------------------------------------------------------------

    def _middleware(self) -> Middleware:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            route = request.match_info.route.name
            if route is None or route == "ws":
                return await handler(request)
            self._calls[route] += 1
            try:
                self._take_injection(route)
                if route not in _UNAUTHENTICATED:
                    self._check_token(request)
                response = await handler(request)
            except _ApiError as error:
                self.api_errors.append(ApiErrorRecord(route, error.status, error.code, error.msg))
                response = web.json_response(
                    {"code": error.code, "msg": error.msg}, status=error.status
                )
                response.headers.update(error.headers)
            response.headers["X-Tt-Logid"] = new_id("", 24)
            self._notify()
            return response

        return middleware

    def _take_injection(self, route: str) -> None:
        queue = self._injections.get(route)
        if not queue:
            return
        injection = queue[0]
        injection.remaining -= 1
        if injection.remaining <= 0:
            queue.popleft()
        raise injection.error

    def _check_token(self, request: web.Request) -> None:
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        if not token or token == "None":
            raise _ApiError(
                400,
                99991661,
                "Missing access token for authorization. "
                "Please make a request with token attached.",
            )
        expires_at = self._tenant_tokens.get(token)
        if expires_at is None:
            raise _ApiError(
                400,
                99991663,
                "Invalid access token for authorization. "
                "Please make a request with token attached.",
            )
        if expires_at <= self.now():
            raise _ApiError(400, 99991677, "Authentication token expired.")

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @staticmethod
    def _ok(data: Any) -> web.Response:
        return web.json_response({"code": 0, "msg": "success", "data": data})

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            raise _field_error("body is not JSON") from None
        if not isinstance(body, dict):
            raise _field_error("body is not a JSON object")
        return body

    @staticmethod
    def _required_str(body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise _field_error(f"{name} is required")
        return value

    @staticmethod
    async def _multipart(request: web.Request) -> dict[str, _Part]:
        """Parts by name. Reads raw part bytes, so a file part without ``filename`` (what the
        SDK's sync upload sends via requests-toolbelt) is as good as one with it."""
        if not request.content_type.startswith("multipart/"):
            raise _ApiError(400, 234001, "Invalid request param: multipart/form-data expected.")
        parts: dict[str, _Part] = {}
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
                raise _ApiError(400, 234001, "Invalid request param: unexpected part.")
            parts[part.name] = _Part(bytes(await part.read(decode=True)), part.filename)
        return parts

    # --- auth and bot ---------------------------------------------------------------------

    def _check_credentials(self, app_id: Any, app_secret: Any) -> None:
        if app_id != self.app_id:
            raise _ApiError(400, 10003, "invalid param: app_id not found")
        if app_secret != self.app_secret:
            raise _ApiError(400, 10014, "app secret invalid")

    def _issue(self, tokens: dict[str, float], prefix: str) -> tuple[str, int]:
        """Feishu returns the current token while it has ≥ 30 min left, else a new one."""
        now = self.now()
        for token, expires_at in tokens.items():
            if expires_at - now >= TOKEN_REISSUE_BELOW:
                return token, int(expires_at - now)
        token = new_id(prefix)
        tokens[token] = now + TOKEN_TTL
        return token, TOKEN_TTL

    async def _tenant_token(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        self._check_credentials(body.get("app_id"), body.get("app_secret"))
        token, expire = self._issue(self._tenant_tokens, "t-")
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire}
        )

    async def _app_token(self, request: web.Request) -> web.Response:
        """Self-built apps get both tokens from this route."""
        body = await self._json_body(request)
        self._check_credentials(body.get("app_id"), body.get("app_secret"))
        app_token, expire = self._issue(self._app_tokens, "a-")
        tenant_token, _ = self._issue(self._tenant_tokens, "t-")
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "app_access_token": app_token,
                "tenant_access_token": tenant_token,
                "expire": expire,
            }
        )

    async def _bot_info(self, request: web.Request) -> web.Response:
        """Unlike most APIs the payload is under ``bot``, not ``data``."""
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "bot": {
                    "activate_status": 2,
                    "app_name": self.bot.name,
                    "avatar_url": "https://example.invalid/bot-avatar.png",
                    "ip_white_list": [],
                    "open_id": self.bot.open_id,
                },
            }
        )

    # --- messages -------------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        receive_id_type = request.query.get("receive_id_type", "")
        if receive_id_type not in RECEIVE_ID_TYPES:
            raise _field_error("receive_id_type must be one of " + ", ".join(RECEIVE_ID_TYPES))
        body = await self._json_body(request)
        receive_id = self._required_str(body, "receive_id")
        msg_type = self._required_str(body, "msg_type")
        content = self._required_str(body, "content")
        uuid = body.get("uuid") or None
        if (existing := self._deduplicated(uuid)) is not None:
            return self._ok(self._message_data(existing))
        if receive_id_type == "chat_id":
            chat_id = receive_id
        else:
            chat_id = self.events.p2p_chat_id(receive_id)
        self._validate_content(msg_type, content)
        self._check_rate(f"chat:{chat_id}")
        message = self._store(
            chat_id=chat_id,
            msg_type=msg_type,
            content=content,
            uuid=uuid,
            receive_id=receive_id,
            receive_id_type=receive_id_type,
        )
        return self._ok(self._message_data(message))

    async def _reply(self, request: web.Request) -> web.Response:
        target = request.match_info["message_id"]
        body = await self._json_body(request)
        msg_type = self._required_str(body, "msg_type")
        content = self._required_str(body, "content")
        uuid = body.get("uuid") or None
        in_thread = bool(body.get("reply_in_thread", False))
        if (existing := self._deduplicated(uuid)) is not None:
            return self._ok(self._message_data(existing))
        if (sent := self._messages_by_id.get(target)) is not None:
            chat_id, root_id, thread_id = sent.chat_id, sent.root_id, sent.thread_id
        elif (incoming := self.events.incoming.get(target)) is not None:
            chat_id, root_id, thread_id = incoming.chat_id, None, None
        else:
            raise _invalid(f"message {target} not found")
        self._validate_content(msg_type, content)
        self._check_rate(f"chat:{chat_id}")
        message = self._store(
            chat_id=chat_id,
            msg_type=msg_type,
            content=content,
            uuid=uuid,
            reply_to=target,
            reply_in_thread=in_thread,
            root_id=root_id or target,
            thread_id=thread_id or (new_id("omt_", 16) if in_thread else None),
        )
        return self._ok(self._message_data(message))

    async def _patch(self, request: web.Request) -> web.Response:
        message_id = request.match_info["message_id"]
        body = await self._json_body(request)
        content = self._required_str(body, "content")
        message = self._messages_by_id.get(message_id)
        if message is None:
            raise _invalid(f"message {message_id} not found or not sent by this app")
        if message.msg_type != "interactive":
            raise _invalid("This message is NOT a card")
        if not _is_shared_card(json.loads(message.content)):
            raise _invalid("the sent card is not shared: config.update_multi must be true")
        card = self._validate_card(content)
        if not _is_shared_card(card):
            raise _invalid("the new card is not shared: config.update_multi must be true")
        self._check_rate(f"patch:{message_id}")
        self._add_patch(message, content, "api")
        return self._ok({})

    def _deduplicated(self, uuid: str | None) -> SentMessage | None:
        if uuid is None:
            return None
        hit = self._messages_by_uuid.get(uuid)
        if hit is None or self.now() - hit[1] >= UUID_WINDOW:
            return None
        return hit[0]

    def _check_rate(self, key: str) -> None:
        """Feishu allows 5 messages/s per chat and 5 updates/s per message (wall clock)."""
        if not self.enforce_rate_limits:
            return
        now = time.monotonic()
        window = self._recent[key]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= MAX_PER_SECOND:
            raise _ApiError(400, 230020, "This operation triggers the frequency limit.")
        window.append(now)

    def _validate_content(self, msg_type: str, content: str) -> None:
        try:
            parsed = json.loads(content)
        except ValueError:
            raise _invalid("content is not valid JSON") from None
        if not isinstance(parsed, dict):
            raise _invalid("content must be a JSON object")
        size = len(content.encode())
        if msg_type == "text":
            if not isinstance(parsed.get("text"), str):
                raise _invalid("text content needs a string 'text'")
            if size > MAX_TEXT_BYTES:
                raise _ApiError(400, 230025, "The message content exceeds the length limit.")
        elif msg_type == "post":
            _validate_post(parsed)
            if size > MAX_CARD_OR_POST_BYTES:
                raise _ApiError(400, 230025, "The message content exceeds the length limit.")
        elif msg_type == "interactive":
            self._validate_card(content)
        elif msg_type == "image":
            if parsed.get("image_key") not in self._images:
                raise _invalid("invalid image_key")
        elif msg_type in ("media", "audio", "file"):
            uploaded = self._files.get(parsed.get("file_key", ""))
            if uploaded is None:
                raise _invalid("invalid file_key")
            wanted = MEDIA_FILE_TYPE.get(msg_type)
            if wanted is not None and uploaded.file_type != wanted:
                raise _ApiError(
                    400,
                    230055,
                    f"The type of file upload does not match the type of message being sent: "
                    f"{msg_type} needs a file uploaded as {wanted}, got {uploaded.file_type}.",
                )
        else:
            raise _invalid(f"unsupported msg_type {msg_type}")

    @staticmethod
    def _validate_card(content: str) -> dict[str, Any]:
        try:
            card = json.loads(content)
        except ValueError:
            raise _invalid("card content is not valid JSON") from None
        if not isinstance(card, dict):
            raise _invalid("card content must be a JSON object")
        if len(content.encode()) > MAX_CARD_OR_POST_BYTES:
            raise _ApiError(400, 230025, "The card content exceeds the 30KB limit.")
        return card

    def _store(
        self,
        *,
        chat_id: str,
        msg_type: str,
        content: str,
        uuid: str | None,
        receive_id: str | None = None,
        receive_id_type: str | None = None,
        reply_to: str | None = None,
        reply_in_thread: bool = False,
        root_id: str | None = None,
        thread_id: str | None = None,
    ) -> SentMessage:
        message = SentMessage(
            message_id=new_id("om_"),
            chat_id=chat_id,
            msg_type=msg_type,
            original_content=content,
            content=content,
            uuid=uuid,
            receive_id=receive_id,
            receive_id_type=receive_id_type,
            reply_to=reply_to,
            reply_in_thread=reply_in_thread,
            root_id=root_id,
            thread_id=thread_id,
            create_time_ms=int(self.now() * 1000),
        )
        self.messages.append(message)
        self._messages_by_id[message.message_id] = message
        if uuid is not None:
            self._messages_by_uuid[uuid] = (message, self.now())
        return message

    def _add_patch(
        self, message: SentMessage, content: str, source: Literal["api", "callback"]
    ) -> None:
        message.patches.append(PatchRecord(content=content, source=source, at=self.now()))
        message.content = content
        self._notify()

    def _apply_callback_card(self, event: dict[str, Any], response: Any) -> None:
        """A callback answer ``{"card": {"type": "raw", "data": {...}}}`` replaces the card."""
        card = response.get("card") if isinstance(response, dict) else None
        if not isinstance(card, dict):
            return
        message = self._messages_by_id.get(event["event"]["context"]["open_message_id"])
        if message is None:
            return
        data = card.get("data") if card.get("type") == "raw" else card
        self._add_patch(message, json.dumps(data, ensure_ascii=False), "callback")

    def _message_data(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "root_id": message.root_id or "",
            "parent_id": message.reply_to or "",
            "msg_type": message.msg_type,
            "create_time": str(message.create_time_ms),
            "update_time": str(message.create_time_ms),
            "deleted": False,
            "updated": bool(message.patches),
            "chat_id": message.chat_id,
            "sender": {
                "id": self.app_id,
                "id_type": "app_id",
                "sender_type": "app",
                "tenant_key": self.tenant_key,
            },
            "body": {"content": message.content},
            "upper_message_id": "",
        }
        if message.thread_id:
            data["thread_id"] = message.thread_id
        return data

    # --- uploads and resources ------------------------------------------------------------

    async def _upload_image(self, request: web.Request) -> web.Response:
        parts = await self._multipart(request)
        image_type = parts["image_type"].text if "image_type" in parts else ""
        if image_type not in ("message", "avatar"):
            raise _ApiError(400, 234001, "Invalid request param: image_type.")
        image = parts.get("image")
        if image is None:
            raise _ApiError(400, 234001, "Invalid request param: image is required.")
        _check_size(image.data, MAX_IMAGE_BYTES)
        if image_mime(image.data) is None:
            raise _ApiError(400, 234011, "Can't recognize image format.")
        key = new_id("img_v3_", 36)
        self._images[key] = UploadedImage(key, image.data, image_type, image.filename)
        return self._ok({"image_key": key})

    async def _upload_file(self, request: web.Request) -> web.Response:
        parts = await self._multipart(request)
        file_type = parts["file_type"].text if "file_type" in parts else ""
        if file_type not in FILE_TYPES:
            raise _ApiError(400, 234001, f"Invalid request param: file_type {file_type!r}.")
        file_name = parts["file_name"].text if "file_name" in parts else ""
        if not file_name:
            raise _ApiError(400, 234001, "Invalid request param: file_name is required.")
        upload = parts.get("file")
        if upload is None:
            raise _ApiError(400, 234001, "Invalid request param: file is required.")
        _check_size(upload.data, MAX_FILE_BYTES)
        duration = None
        if "duration" in parts:
            try:
                duration = int(parts["duration"].text)
            except ValueError:
                raise _ApiError(400, 234001, "Invalid request param: duration.") from None
        key = new_id("file_v3_", 36)
        self._files[key] = UploadedFile(key, upload.data, file_type, file_name, duration)
        return self._ok({"file_key": key})

    async def _resource(self, request: web.Request) -> web.Response:
        resource_type = request.query.get("type", "")
        if resource_type not in ("image", "file"):
            raise _field_error("type must be image or file")
        key = (request.match_info["message_id"], request.match_info["file_key"])
        resource = self._resources.get(key)
        if resource is None:
            raise _ApiError(404, 234003, "File not in msg.")
        if resource.resource_type != resource_type:
            raise _ApiError(
                400, 234001, f"Invalid request param: resource is not a {resource_type}."
            )
        return web.Response(
            body=resource.data,
            content_type=resource.content_type,
            headers={"Content-Disposition": f'attachment; filename="{resource.file_name}"'},
        )

    # --- long connection ------------------------------------------------------------------

    async def _ws_endpoint(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if body.get("AppID") != self.app_id or body.get("AppSecret") != self.app_secret:
            # A ClientException for the SDK: start() raises instead of retrying forever.
            return web.json_response({"code": 10014, "msg": "app id or secret invalid"})
        ticket = secrets.token_urlsafe(16)
        self._ws_tickets.add(ticket)
        url = (
            f"ws://127.0.0.1:{self._port}/ws/v2?fpid=493&aid=552564"
            f"&device_id={new_id('', 16)}&access_key={new_id('', 32)}"
            f"&service_id={self._service_id}&ticket={ticket}"
        )
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "data": {"URL": url, "ClientConfig": self.ws_client_config.to_json()},
            }
        )

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._ws_tickets:
            return web.Response(
                status=403, headers={"handshake-status": "403", "handshake-msg": "invalid ticket"}
            )
        self._ws_tickets.discard(ticket)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws_conns.append(ws)
        self.ws_connections_total += 1
        self._notify()
        try:
            async for msg in ws:
                if msg.type is aiohttp.WSMsgType.BINARY:
                    await self._on_client_frame(ws, msg.data)
        finally:
            self._ws_conns.remove(ws)
            self._notify()
        return ws

    async def _on_client_frame(self, ws: web.WebSocketResponse, raw: bytes) -> None:
        frame = frames.parse(raw)
        if frame.method == frames.METHOD_CONTROL and frame.headers.get("type") == "ping":
            self.ws_pings += 1
            pong = frames.build(
                method=frames.METHOD_CONTROL,
                service=frame.service,
                headers={"type": "pong"},
                payload=json.dumps(self.ws_client_config.to_json()).encode(),
            )
            await ws.send_bytes(pong)
            self._notify()
        elif frame.method == frames.METHOD_DATA:
            self._record_ack(frame)

    def _record_ack(self, frame: frames.ParsedFrame) -> None:
        message_id = frame.headers.get("message_id", "")
        pending = self._pending_pushes.pop(message_id, None)
        if pending is None:
            return
        code, data = frames.decode_ack(frame.payload)
        biz_rt = frame.headers.get("biz_rt")
        event_type = _event_type(pending.event)
        self.ws_acks.append(
            WsAck(
                message_id=message_id,
                trace_id=pending.trace_id,
                event_type=event_type,
                code=code,
                data=data,
                biz_rt_ms=int(biz_rt) if biz_rt else None,
                latency=time.monotonic() - pending.sent_at,
            )
        )
        if code == 200 and event_type == "card.action.trigger":
            self._apply_callback_card(pending.event, data)
        self._notify()


def _event_type(event: dict[str, Any]) -> str | None:
    header = event.get("header")
    return header.get("event_type") if isinstance(header, dict) else None


def _is_shared_card(card: dict[str, Any]) -> bool:
    """Only shared cards can be patched. Card JSON 2.0 is always shared (update_multi defaults to
    true there); older cards must say ``config.update_multi: true``."""
    config = card.get("config")
    update_multi = config.get("update_multi") if isinstance(config, dict) else None
    if card.get("schema") == "2.0":
        return update_multi is not False
    return update_multi is True


def _validate_post(post: dict[str, Any]) -> None:
    """Sent posts are ``{"zh_cn": {"title": ..., "content": [[{"tag": ...}, ...], ...]}, ...}``."""
    if not post:
        raise _invalid("post content needs at least one locale")
    for locale in post.values():
        lines = locale.get("content") if isinstance(locale, dict) else None
        if not isinstance(lines, list) or not all(
            isinstance(line, list) and all(isinstance(el, dict) and "tag" in el for el in line)
            for line in lines
        ):
            raise _invalid("post content must be a list of lines of {tag: ...} elements")


def _check_size(data: bytes, limit: int) -> None:
    if not data:
        raise _ApiError(400, 234010, "File's size can't be 0.")
    if len(data) > limit:
        raise _ApiError(400, 234006, f"The file size exceeds the limit of {limit} bytes.")

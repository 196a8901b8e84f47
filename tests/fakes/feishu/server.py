"""``FakeFeishu``: a local Feishu open platform the real lark-oapi SDK talks to over loopback.

One aiohttp server on 127.0.0.1 serves the REST routes the bot uses (:mod:`.rest`: tokens, bot
info, send / reply / patch messages, uploads, resource downloads) and the long connection
(:mod:`.ws`: its endpoint and protobuf websocket). The same object delivers events to the bot,
by signed and encrypted webhook POSTs (:mod:`.webhook`) or by frames on a long connection, and
records everything for assertions (:mod:`.state`, :mod:`.records`).

The server runs on the event loop that entered ``async with``. Anything blocking on that loop
cannot reach it: every *sync* SDK call, and the SDK's own tenant-token fetch inside its *async*
methods (a ``requests`` call) unless the client uses ``enable_set_token(True)`` and passes the
token per request. Run those in a thread (``asyncio.to_thread``) or the test deadlocks.

Errors use Feishu's envelope and codes: HTTP 400 with ``99991661`` (no token), ``99991663``
(unknown token), ``99991677`` (expired token), ``99992402`` (field validation), IM ``2300xx`` and
upload ``2340xx`` codes (:mod:`.validation`); ``230110`` / ``230011`` for a deleted / recalled
message; rate limits are HTTP 429 with ``99991400`` and ``x-ogw-ratelimit-reset`` (injected), or
``230020`` when a chat gets more than 5 messages or a card more than 5 patches in a second
(``enforce_rate_limits``). Time-based rules (token expiry, the one-hour ``uuid`` window) follow
:meth:`FakeFeishu.now`, which tests can move with :meth:`FakeFeishu.advance_time`.

Every delivery is recorded as a :class:`~.records.Delivery` with the bot's answer (HTTP status
or ack code) and how long it took; an answer later than ``answer_deadline`` (3 s) counts as
failed, and a late card-callback answer is not applied to the card. An event not taken (no 200
in time) is delivered again on Feishu's schedule, 15 s, 5 min, 1 h and 6 h after
(:mod:`.redelivery`; ``redelivery_intervals`` compresses it), each attempt followed as a
:class:`~.records.Dispatch`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.feishu.errors import GATEWAY_RATE_LIMITED, FeishuError
from tests.fakes.feishu.events import EventFactory, new_id
from tests.fakes.feishu.records import (
    ApiErrorRecord,
    Delivery,
    Dispatch,
    FakeUser,
    PatchRecord,
    Route,
    SentMessage,
    UploadedFile,
    UploadedImage,
    WebhookResult,
    WsAck,
    WsConnection,
)
from tests.fakes.feishu.redelivery import RETRY_INTERVALS, Answer, Redelivery
from tests.fakes.feishu.rest import RestApi
from tests.fakes.feishu.state import FeishuState, Resource
from tests.fakes.feishu.validation import image_mime
from tests.fakes.feishu.webhook import WebhookSender
from tests.fakes.feishu.ws import MAX_CONNECTIONS, LongConnections, WsClientConfig
from tests.fakes.loopback import MAX_REQUEST_BYTES, LoopbackServer


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
    later one and rejected. ``ws_seed`` seeds the choice of long connection for each event
    (and each redelivery); ``redelivery_intervals`` are the seconds from a failed delivery to the
    next (Feishu's 15 s, 5 min, 1 h, 6 h unless compressed; ``()``: never again).
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
        ws_seed: int | None = None,
        max_ws_connections: int = MAX_CONNECTIONS,
        enforce_rate_limits: bool = True,
        redelivery_intervals: Sequence[float] = RETRY_INTERVALS,
        wait_timeout: float = 5.0,
    ) -> None:
        self.app_id = app_id or new_id("cli_", 16)
        self.app_secret = app_secret or secrets.token_hex(16)
        self.verification_token = verification_token or secrets.token_hex(16)
        # "" is a real setting (no encryption, no signature); None means "make one up".
        self.encrypt_key = secrets.token_hex(16) if encrypt_key is None else encrypt_key
        self.tenant_key = tenant_key or new_id("", 16)
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
        self.state = FeishuState(events=self.events, enforce_rate_limits=enforce_rate_limits)
        self.rest = RestApi(self.state, app_secret=self.app_secret)
        self.ws = LongConnections(
            self.state,
            app_secret=self.app_secret,
            client_config=ws_client_config or WsClientConfig(),
            seed=ws_seed,
            max_connections=max_ws_connections,
        )
        self.webhook = WebhookSender(self.state, encrypt_key=self.encrypt_key)
        self.redelivery = Redelivery(self.state, redelivery_intervals)
        app = web.Application(middlewares=[self.rest.middleware], client_max_size=MAX_REQUEST_BYTES)
        app.add_routes([*self.rest.routes, *self.ws.routes])
        self._server = LoopbackServer(app)

    # --- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self._server.start()
        await self.webhook.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.redelivery.close()
        await self.ws.drop()
        await self.webhook.close()
        await self._server.stop()

    @property
    def domain(self) -> str:
        """``http://127.0.0.1:<port>``, for ``lark.Client.builder().domain(...)`` and
        ``lark.ws.Client(domain=...)``."""
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def bot(self) -> FakeUser:
        return self.events.bot

    # --- settings that may change at any time ---------------------------------------------

    @property
    def enforce_rate_limits(self) -> bool:
        """Refuse more than 5 messages a second to a chat or 5 patches to a card (230020)."""
        return self.state.enforce_rate_limits

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, value: bool) -> None:
        self.state.enforce_rate_limits = value

    @property
    def answer_deadline(self) -> float:
        """Seconds the bot has to answer a delivery (Feishu: 3)."""
        return self.state.answer_deadline

    @answer_deadline.setter
    def answer_deadline(self, seconds: float) -> None:
        self.state.answer_deadline = seconds

    @property
    def redelivery_intervals(self) -> tuple[float, ...]:
        """Seconds from a failed delivery to the next attempt, for events delivered from now."""
        return self.redelivery.intervals

    @redelivery_intervals.setter
    def redelivery_intervals(self, intervals: Sequence[float]) -> None:
        self.redelivery.intervals = tuple(intervals)

    @property
    def ws_client_config(self) -> WsClientConfig:
        return self.ws.client_config

    @ws_client_config.setter
    def ws_client_config(self, config: WsClientConfig) -> None:
        self.ws.client_config = config

    @property
    def max_ws_connections(self) -> int:
        """Long connections the app may hold at once (Feishu: 50)."""
        return self.ws.max_connections

    @max_ws_connections.setter
    def max_ws_connections(self, count: int) -> None:
        self.ws.max_connections = count

    # --- test controls --------------------------------------------------------------------

    def now(self) -> float:
        """The fake's clock: wall time plus whatever :meth:`advance_time` added."""
        return self.state.now()

    def advance_time(self, seconds: float) -> None:
        """Move the fake's clock (token expiry, uuid window); no real waiting."""
        self.state.advance_time(seconds)

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as a secret reset does; the next call gets 99991663."""
        self.state.tenant_tokens.clear()
        self.state.app_tokens.clear()

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
        self.state.inject(route, FeishuError(status, code, msg, headers), times)

    def inject_rate_limit(self, route: Route, *, times: int = 1, reset_seconds: int = 1) -> None:
        """Feishu's gateway limit: HTTP 429, code 99991400, ``x-ogw-ratelimit-reset``."""
        self.inject_error(
            route,
            status=429,
            code=GATEWAY_RATE_LIMITED,
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
        self.state.resources[(message_id, file_key)] = Resource(
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

    def delete_message(self, message_id: str) -> None:
        """Delete a message the bot sent or a user sent: replying to it, patching it or
        downloading its files answers ``230110`` from now on."""
        self.state.remove(message_id, "deleted")

    def recall_message(
        self, message_id: str, *, recall_type: str = "message_owner"
    ) -> dict[str, Any]:
        """Recall a message: replying to it, patching it or downloading its files answers
        ``230011`` from now on. Returns the ``im.message.recalled_v1`` event Feishu sends the
        bot, for the test to deliver if it likes."""
        self.state.remove(message_id, "recalled")
        sent = self.state.messages_by_id.get(message_id)
        chat_id = sent.chat_id if sent else self.events.incoming[message_id].chat_id
        return self.events.message_recalled(message_id, chat_id, recall_type=recall_type)

    # --- inspection -----------------------------------------------------------------------

    @property
    def messages(self) -> list[SentMessage]:
        """Every message sent or replied, in order (a deduplicated ``uuid`` adds nothing)."""
        return self.state.messages

    @property
    def api_errors(self) -> list[ApiErrorRecord]:
        """Every request the fake answered with an error, in order."""
        return self.state.api_errors

    @property
    def deliveries(self) -> list[Delivery]:
        """Every event and callback delivered, by webhook or long connection, with the answer."""
        return self.state.deliveries

    @property
    def failed_deliveries(self) -> list[Delivery]:
        """Deliveries Feishu would not count as delivered: not 200, or answered too late."""
        return [d for d in self.state.deliveries if not d.ok]

    @property
    def dispatches(self) -> list[Dispatch]:
        """Every event handed to the bot (each call of :meth:`post_event` or
        :meth:`send_ws_event`), with its attempts: the first and Feishu's redeliveries."""
        return self.redelivery.dispatches

    def dispatch_of(self, event: dict[str, Any]) -> Dispatch:
        """The latest dispatch of ``event`` (matched by event id)."""
        event_id = EventFactory.event_id(event)
        for dispatch in reversed(self.redelivery.dispatches):
            if dispatch.event_id == event_id:
                return dispatch
        raise LookupError(f"event {event_id} was never delivered")

    def delivery_of(self, event: dict[str, Any]) -> Delivery:
        """The latest delivery of ``event`` (matched by event id)."""
        event_id = EventFactory.event_id(event)
        for delivery in reversed(self.state.deliveries):
            if delivery.event_id == event_id:
                return delivery
        raise LookupError(f"event {event_id} was not delivered (or not answered yet)")

    def answer_seconds(self, event: dict[str, Any]) -> float:
        """How long the bot took to answer the latest delivery of ``event``; for a card
        callback, compare with :attr:`answer_deadline` (Feishu never retries a callback)."""
        return self.delivery_of(event).seconds

    def call_count(self, route: Route) -> int:
        """Requests that reached ``route``, including rejected ones."""
        return self.state.calls[route]

    @property
    def token_requests(self) -> int:
        return self.state.calls["tenant_access_token"]

    def message(self, message_id: str) -> SentMessage:
        return self.state.messages_by_id[message_id]

    def patches(self, message_id: str) -> list[PatchRecord]:
        """Every content replacement of a card, oldest first."""
        return list(self.state.messages_by_id[message_id].patches)

    @property
    def images(self) -> list[UploadedImage]:
        return list(self.state.images.values())

    def image(self, image_key: str) -> UploadedImage:
        return self.state.images[image_key]

    @property
    def files(self) -> list[UploadedFile]:
        return list(self.state.files.values())

    def file(self, file_key: str) -> UploadedFile:
        return self.state.files[file_key]

    @property
    def ws_acks(self) -> list[WsAck]:
        return self.ws.acks

    @property
    def ws_pings(self) -> int:
        return self.ws.pings

    @property
    def ws_connections(self) -> list[WsConnection]:
        """Every long connection ever made, oldest first (``open`` says which still are)."""
        return list(self.ws.connections)

    @property
    def ws_connections_total(self) -> int:
        return len(self.ws.connections)

    @property
    def ws_connected(self) -> bool:
        return bool(self.ws.open_numbers())

    @property
    def ws_unacked(self) -> list[str]:
        """Frame message_ids pushed over the long connection and not acked yet."""
        return self.ws.unacked

    # --- waiting --------------------------------------------------------------------------

    async def wait_until(self, predicate: Callable[[], bool], what: str = "condition") -> None:
        """Wake on every state change until ``predicate()`` holds, or raise ``TimeoutError``
        after ``wait_timeout`` seconds (wrap the call in ``asyncio.timeout`` for a shorter one)."""
        await self.state.notifier.wait_for(predicate, self.wait_timeout, what)

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
            message = self.state.messages_by_id.get(message_id)
            return message is not None and len(message.patches) >= count

        await self.wait_until(enough, what=f"{count} patch(es) of {message_id}")
        return self.patches(message_id)

    async def wait_for_ws_connection(self, count: int = 1) -> None:
        """Until ``count`` connections were ever made and one is open (``count=2``: reconnected)."""
        await self.wait_until(
            lambda: self.ws_connections_total >= count and self.ws_connected,
            what=f"long connection #{count}",
        )

    async def wait_for_ws_connections(self, count: int) -> None:
        """Until ``count`` long connections are open at the same time."""
        await self.wait_until(
            lambda: len(self.ws.open_numbers()) >= count, what=f"{count} open long connections"
        )

    async def wait_for_taken(self, *events: dict[str, Any]) -> None:
        """Until the latest dispatch of each event was taken (answered 200 in time), however
        many attempts it took; ``AssertionError`` when Feishu gave one up."""

        def settled() -> bool:
            return all(self.dispatch_of(e).settled for e in events)

        await self.wait_until(settled, what=f"{len(events)} event(s) taken")
        given_up = [EventFactory.event_id(e) for e in events if self.dispatch_of(e).given_up]
        assert not given_up, f"Feishu gave up delivering {given_up}"

    async def wait_for_ack(self, message_id: str) -> WsAck:
        def find() -> WsAck | None:
            return next((a for a in self.ws.acks if a.message_id == message_id), None)

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
        lets a test replay an old delivery. A card in a timely 200 answer to a
        ``card.action.trigger`` is applied to that card like a patch (``source="callback"``).
        Unless the answer is a timely 200, Feishu posts the event again later (a new
        signature, the same event), in the background; the result returned is the first one's.
        """

        async def post() -> WebhookResult:
            return await self.webhook.post(
                url, event, encrypt=encrypt, tamper_signature=tamper_signature, timestamp=timestamp
            )

        async def again() -> Answer:
            return asyncio.ensure_future(_status(asyncio.ensure_future(post())))

        first = asyncio.ensure_future(post())
        self.redelivery.start(event, "webhook", asyncio.ensure_future(_status(first)), again)
        return await first

    async def post_url_verification(self, url: str, *, encrypt: bool = True) -> WebhookResult:
        """The console's URL check; the answer must echo ``result.sent["challenge"]``."""
        return await self.post_event(url, self.events.url_verification(), encrypt=encrypt)

    # --- event delivery: long connection --------------------------------------------------

    async def send_ws_event(self, event: dict[str, Any], *, connection: int | None = None) -> str:
        """Push ``event`` as a data frame and return the frame's message_id (see
        :meth:`wait_for_ack`). Like Feishu, it goes to one open connection picked at random
        (seeded by ``ws_seed``); ``connection`` (a :attr:`WsConnection.number`) picks one.
        Unless it is acked 200 in time, Feishu pushes it again later as a new frame, to an open
        connection picked at random (:mod:`.redelivery`)."""

        async def again() -> Answer:
            return (await self.ws.send(event))[1]

        message_id, answer = await self.ws.send(event, connection)
        self.redelivery.start(event, "ws", answer, again)
        return message_id

    async def push_event(self, event: dict[str, Any], *, connection: int | None = None) -> WsAck:
        """Push ``event`` over the long connection and wait for the client's ack."""
        return await self.wait_for_ack(await self.send_ws_event(event, connection=connection))

    async def drop_ws_connections(self) -> None:
        """Close every long connection from the server side (the SDK then reconnects)."""
        await self.ws.drop()


async def _status(result: asyncio.Future[WebhookResult]) -> int:
    """The HTTP status of a webhook delivery, once answered."""
    return (await result).status

"""Feishu (Lark) for ``ima-bot run``: events in by long connection or webhook, cards out.

Both modes feed one lark-oapi ``EventDispatcherHandler``, whose handlers are synchronous and run
off the main loop (on the long connection's thread, or on a worker thread for webhooks), with
one exception: a message delivered by webhook is decrypted with the SDK's cipher and handed on
right on the main loop (a worker thread per delivery, waiting there, capped the rate and took
the interpreter lock from the loop). Either way a message is handed to the main loop in
arrival order and Feishu is answered only once the engine has stored it (:data:`ACK_BUDGET` at
most), so nothing Feishu was told it delivered can be lost, and a message that can't be stored
(or arrives while the bot stops) is answered with an error and delivered again later. A card
button press is answered at once: a press by someone else gets its "not yours" toast straight
away (the button says whose card it is), everything else is done in a task after the answer.
Every other event (read receipts, recalls, reactions, the bot added to a chat, schema 1.0
events) is answered 200 and ignored: anything else Feishu retries for hours and counts against
the app.

Redeliveries (the same message under a new event id, too) are recognised by message id in the
engine, persistently.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from aiohttp import web
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from bot.base import BaseAdapter, verdict_key
from bot.feishu.api import FeishuApi, FeishuError, TooLargeError
from bot.feishu.config import FeishuSettings
from bot.feishu.event import (
    CARD_ACTION,
    MESSAGE_RECEIVED,
    PLATFORM,
    CardAction,
    UnusableMessage,
    parse_card_action,
    parse_message,
)
from bot.feishu.replier import CardPatcher, FeishuReplier, ReplyTarget
from core.door import ActionResult, Door, Platform
from core.ima.errors import ImageTooLargeError, ImageUnreachableError
from core.replier import Reply, Stage

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/feishu/events"
#: Signed webhook deliveries older (or newer) than this are refused as replays.
MAX_REQUEST_AGE = 300.0
#: How long an event handler waits for the engine to store the message (Feishu allows 3 s).
ACK_BUDGET = 2.5
#: Webhook deliveries other than messages (card presses, everything ignored) handled at once
#: by the SDK; none of them waits on the event loop.
HOOK_THREADS = 4
#: The long connection's endpoint request (lark-oapi sends it without a timeout).
ENDPOINT_TIMEOUT = 10.0
CONNECT_WAIT = 10.0
STOP_WAIT = 5.0


class NotTaking(Exception):
    """The adapter is not taking messages now: Feishu is told so and delivers it again."""


def _not_taking_told(record: logging.LogRecord) -> bool:
    """lark-oapi logs every handler exception with its traceback; :class:`NotTaking` is an
    answer, not an error (it is logged once, in a sentence, where it is raised)."""
    return not (record.exc_info and isinstance(record.exc_info[1], NotTaking))


logging.getLogger("Lark").addFilter(_not_taking_told)


class FeishuAdapter(BaseAdapter):
    name: ClassVar[str] = PLATFORM

    def __init__(self, door: Door, config: FeishuSettings, *, patch_interval: float = 1.0) -> None:
        """``patch_interval``: the least time between two updates of one card."""
        super().__init__(door)
        if not config.configured or config.app_id is None:
            raise ValueError("FEISHU_APP_ID and FEISHU_APP_SECRET are needed")
        self.config = config
        self.api = FeishuApi(config.app_id, config.secret, config.domain)
        self._patcher = CardPatcher(self.api, patch_interval)
        self._dispatcher = _dispatcher(config, self._message_arrived, self._button_pressed)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot_open_id = ""
        self._executor: ThreadPoolExecutor | None = None
        self._connection: _LongConnection | None = None

    # ── lifecycle ────────────────────────────────────────────────────────────────────────

    def platform(self) -> Platform:
        return Platform(PLATFORM, self._resumed_replier, self._fetch, self.config.access())

    async def connect(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._bot_open_id = await self.api.bot_open_id()  # also proves the credentials
        if self.config.mode == "webhook":
            if not self.config.encryption:
                log.warning(
                    "FEISHU_ENCRYPT_KEY is not set: webhook deliveries can't be checked for "
                    "forgery or replay, only by their verification token"
                )
            self._executor = ThreadPoolExecutor(
                max_workers=HOOK_THREADS, thread_name_prefix="feishu-hook"
            )
            return
        self._connection = _LongConnection(self.config, self._dispatcher)
        self._connection.start()
        await self._connection.wait_connected()

    async def stop_receiving(self) -> None:
        if self._connection is not None:
            await self._connection.stop()
            self._connection = None

    async def disconnect(self) -> None:
        await self.stop_receiving()
        await self._patcher.close()
        await self.api.close()
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

    def healthy(self) -> bool:
        if self._connection is not None:
            return self.accepting and self._connection.connected
        return self.accepting

    def routes(self) -> list[web.RouteDef]:
        if self.config.mode != "webhook":
            return []
        return [web.post(WEBHOOK_PATH, self._webhook)]

    # ── webhook ──────────────────────────────────────────────────────────────────────────

    async def _webhook(self, request: web.Request) -> web.Response:
        if not self.accepting or self._executor is None:
            return web.json_response({"msg": "not ready"}, status=503)  # Feishu retries later
        body = await request.read()
        verdict = _checked(self.config, request.headers, body)
        if isinstance(verdict, _Refused):
            # The same answer whatever is wrong (no oracle for forgers), one line in the log.
            log.warning("Feishu webhook delivery refused: %s", verdict.reason)
            return web.Response(status=401)
        if isinstance(verdict, _UrlCheck):
            return web.json_response({"challenge": verdict.challenge})
        message = _message_delivered(self.config, body)
        if message is not None:
            return await self._take(message)
        raw = lark.RawRequest()
        raw.uri = request.path
        raw.headers = request.headers  # case-insensitive: a plain dict breaks the signature lookup
        raw.body = body
        # The SDK checks the verification token, decrypts, checks the signature and calls our
        # handlers; on a worker thread, because a message handler waits there until stored.
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._executor, self._dispatcher.do, raw)
        if answer.status_code != 200:  # the SDK's answer names its exception: not for callers
            return web.json_response({"msg": "not handled"}, status=answer.status_code)
        return web.Response(
            status=answer.status_code, body=answer.content, content_type="application/json"
        )

    async def _take(self, payload: Mapping[str, Any]) -> web.Response:
        """A message delivered by webhook, on the main loop: 200 once it is stored, an error
        (Feishu delivers it again) when it can't be."""
        stored: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._hand_on(payload, stored)
        try:
            await asyncio.wait_for(asyncio.wrap_future(stored), ACK_BUDGET)
        except TimeoutError:
            _not_stored_in_time()
            return web.json_response({"msg": "not handled"}, status=500)
        except NotTaking:
            return web.json_response({"msg": "not handled"}, status=500)
        return web.json_response({"msg": "success"})

    # ── SDK handlers (run off the main loop) ─────────────────────────────────────────────

    def _message_arrived(self, data: Any) -> None:
        """Returns once the message is stored (the SDK then acknowledges it); raises when it
        can't be, so Feishu delivers it again."""
        payload = json.loads(lark.JSON.marshal(data))
        loop = self._loop
        if loop is None:
            raise NotTaking("not started")
        stored: concurrent.futures.Future[None] = concurrent.futures.Future()
        loop.call_soon_threadsafe(self._hand_on, payload, stored)
        try:
            stored.result(timeout=ACK_BUDGET)
        except TimeoutError:
            _not_stored_in_time()
            raise NotTaking("not stored in time") from None

    def _button_pressed(self, data: Any) -> P2CardActionTriggerResponse:
        payload = json.loads(lark.JSON.marshal(data))
        action = parse_card_action(payload)
        loop = self._loop
        if loop is None:
            return P2CardActionTriggerResponse({})
        if action is None:  # not a button of the bot's (a malformed or made-up press)
            text = self.door.text(self.door.default_locale, verdict_key(ActionResult.UNKNOWN))
            return P2CardActionTriggerResponse({"toast": {"type": "warning", "content": text}})
        if action.owner is not None and action.owner != action.user_id:
            return P2CardActionTriggerResponse(self._toast(action, ActionResult.NOT_YOURS))
        loop.call_soon_threadsafe(self._pressed, action)
        return P2CardActionTriggerResponse({})

    # ── on the main loop ─────────────────────────────────────────────────────────────────

    def _hand_on(self, payload: Mapping[str, Any], stored: concurrent.futures.Future[None]) -> None:
        message = parse_message(payload, self._bot_open_id)
        if message is None:
            stored.set_result(None)  # not for the bot: acknowledge and forget
            return
        if isinstance(message, UnusableMessage):
            stored.set_result(None)
            self._spawn(self._cannot_use(message))
            return
        target = ReplyTarget(message.message_id, message.chat_id)
        replier = self._replier(target, seed=message.message_id, requester=message.sender_id)

        async def ack() -> None:
            if not stored.done():
                stored.set_result(None)

        if not self.submit(message.request(), replier, ack):
            stored.set_exception(NotTaking("the bot is stopping"))

    def _pressed(self, action: CardAction) -> None:
        replier = self._replier(
            ReplyTarget(action.message_id, action.chat_id),
            seed=action.event_id,
            requester=action.user_id,
        )

        async def verdict(result: ActionResult) -> None:
            locale = self.door.locale_for(action.locale)
            text = self.door.text(locale, verdict_key(result))
            await replier.send(Reply(Stage.INFO, text, user_id=action.user_id, locale=locale))

        self.submit_press(action.press(), replier, verdict)

    async def _cannot_use(self, message: UnusableMessage) -> None:
        """One line on what the bot can take; sent once however often Feishu delivers it."""
        replier = self._replier(
            ReplyTarget(message.message_id, message.chat_id),
            seed=message.message_id,
            requester=message.sender_id,
        )
        locale = self.door.default_locale
        text = self.door.text(locale, "feishu.cannot_use")
        try:
            await replier.send(Reply(Stage.INFO, text, locale=locale))
        except FeishuError as exc:
            log.warning("message %s: no answer about its kind: %s", message.message_id, exc)

    def _toast(self, action: CardAction, result: ActionResult) -> dict[str, Any]:
        text = self.door.text(self.door.locale_for(action.locale), verdict_key(result))
        return {"toast": {"type": "warning", "content": text}}

    async def _fetch(self, ref: Mapping[str, Any], max_bytes: int) -> bytes:
        image_key = str(ref.get("image_key", ""))
        try:
            return await self.api.download_resource(
                str(ref.get("message_id", "")), image_key, kind="image", max_bytes=max_bytes
            )
        except TooLargeError as exc:
            raise ImageTooLargeError(f"{image_key}: {exc}") from None
        except FeishuError as exc:
            raise ImageUnreachableError(f"{image_key}: {exc}") from None

    # ── repliers ─────────────────────────────────────────────────────────────────────────

    def _replier(
        self, target: ReplyTarget, *, seed: str, requester: str | None = None
    ) -> FeishuReplier:
        return FeishuReplier(
            self.api,
            self._patcher,
            self.door.text,
            target,
            seed=seed,
            requester=requester,
            default_locale=self.door.default_locale,
        )

    def _resumed_replier(self, target: Mapping[str, Any]) -> FeishuReplier:
        reply_target = ReplyTarget.from_json(target)
        return self._replier(reply_target, seed=f"resumed:{reply_target.message_id}")


# ── the SDK's dispatcher ─────────────────────────────────────────────────────────────────


class _Ignored:
    """The processor of every event type the bot does not handle: nothing to do, and the SDK
    then answers 200."""

    def type(self) -> Any:
        return lark.CustomizedEvent

    def do(self, data: Any) -> None:
        return None


_IGNORED = _Ignored()


class _EveryEvent(dict[str, Any]):
    """The dispatcher's processors by ``schema.event_type``, with :data:`_IGNORED` for every
    type not registered (lark-oapi answers those 500 "processor not found")."""

    def get(self, key: str, default: Any = None) -> Any:
        found = super().get(key)
        return _IGNORED if found is None else found


class _CardCallback:
    """``card.action.trigger`` read as plain JSON. The SDK's own model types a button's value as
    an object, so a string value (which Feishu allows) fails to parse before any handler runs and
    is answered 500, and Feishu never retries a callback."""

    def __init__(self, handle: Callable[[Any], Any]) -> None:
        self._handle = handle

    def type(self) -> Any:
        return lark.CustomizedEvent

    def do(self, data: Any) -> Any:
        return self._handle(data)


def _dispatcher(
    config: FeishuSettings, on_message: Callable[[Any], None], on_press: Callable[[Any], Any]
) -> Any:
    """lark-oapi's dispatcher (verification token, decryption, signature) for both modes, with
    ``on_message`` for messages, ``on_press`` for card buttons and 200 for everything else.

    The builder has no way to register a catch-all or a callback of our own type, so the two
    maps it builds are changed after the fact (checked against lark-oapi 1.7.5; the Feishu tests
    deliver every kind of event in both modes and would fail first)."""
    dispatcher = (
        lark.EventDispatcherHandler.builder(config.encryption, config.verification)
        .register_p2_customized_event(MESSAGE_RECEIVED, on_message)
        .build()
    )
    dispatcher._processorMap = _EveryEvent(dispatcher._processorMap)
    dispatcher._callback_processor_map[f"p2.{CARD_ACTION}"] = _CardCallback(on_press)
    return dispatcher


def _not_stored_in_time() -> None:
    log.warning("a message was not stored within %.1fs: Feishu will send it again", ACK_BUDGET)


@dataclass(frozen=True)
class _Refused:
    reason: str


@dataclass(frozen=True)
class _UrlCheck:
    """Feishu's URL check, answered here: it comes unsigned even with an encrypt key."""

    challenge: str


def _checked(
    config: FeishuSettings, headers: Mapping[str, str], body: bytes
) -> _Refused | _UrlCheck | None:
    """Whether a webhook delivery is Feishu's, before anything of it reaches the SDK; None: it
    is, hand it on.

    With an encrypt key, Feishu signs every delivery but its URL check: a signed one must carry
    a valid signature over the exact body and a fresh timestamp (the signature covers it, so this
    stops replays), checked before anything is decrypted. An unsigned one can only be the URL
    check; it is decrypted here, and anything else it might be (garbage, bad padding, another
    event, a wrong token) is refused alike. Without an encrypt key only the verification token
    says who sent it."""
    key = config.encryption
    if not key:
        payload = _json_object(body)
        if payload is None or not _same(_token_of(payload), config.verification):
            return _Refused("wrong verification token")
        return None
    signature = headers.get("X-Lark-Signature")
    if signature is not None:
        timestamp = headers.get("X-Lark-Request-Timestamp", "")
        nonce = headers.get("X-Lark-Request-Nonce", "")
        expected = hashlib.sha256(f"{timestamp}{nonce}{key}".encode() + body).hexdigest()
        if not _same(signature, expected):
            return _Refused("bad signature")
        if not _fresh(timestamp):
            return _Refused("stale or malformed timestamp")
        return None
    check = _url_check(key, body)
    if check is None or not _same(_token_of(check), config.verification):
        return _Refused("unsigned, and not Feishu's URL check")
    challenge = check.get("challenge")
    return _UrlCheck(challenge) if isinstance(challenge, str) else _Refused("no challenge")


def _message_delivered(config: FeishuSettings, body: bytes) -> dict[str, Any] | None:
    """The event of a webhook delivery that :func:`_checked` let through, when it is a
    message (``im.message.receive_v1``) carrying the app's verification token; None for
    anything else, which the SDK's dispatcher handles (or refuses) as before."""
    payload = _json_object(body)
    encrypted = payload.get("encrypt") if payload else None
    if config.encryption and isinstance(encrypted, str):
        try:
            plaintext = lark.AESCipher(config.encryption).decrypt_str(encrypted)
            payload = _json_object(plaintext.encode())
        except Exception:  # not decryptable: the SDK answers it as it answers every such body
            return None
    if payload is None or not payload.get("schema"):
        return None
    header = payload.get("header")
    if not isinstance(header, dict) or header.get("event_type") != MESSAGE_RECEIVED:
        return None
    if config.verification and not _same(_token_of(payload), config.verification):
        return None
    return payload


def _url_check(key: str, body: bytes) -> dict[str, Any] | None:
    """An encrypted URL check's content; None for anything else, however it fails."""
    envelope = _json_object(body)
    encrypted = envelope.get("encrypt") if envelope else None
    if not isinstance(encrypted, str):
        return None
    try:
        payload = _json_object(lark.AESCipher(key).decrypt_str(encrypted).encode())
    except Exception:  # every way a forgery fails gets the same answer
        return None
    return payload if payload and payload.get("type") == "url_verification" else None


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _token_of(payload: Mapping[str, Any]) -> str:
    """The verification token: in the header of schema 2.0 events, at the top of the rest."""
    header = payload.get("header")
    token = header.get("token") if isinstance(header, dict) else payload.get("token")
    return token if isinstance(token, str) else ""


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def _fresh(timestamp: str) -> bool:
    try:
        return abs(time.time() - int(timestamp)) <= MAX_REQUEST_AGE
    except ValueError:
        return False


# ── the long connection ──────────────────────────────────────────────────────────────────

#: lark-oapi's long-connection client keeps its event loop in a module global, so only one can
#: run per process.
_ONE_CONNECTION = threading.Lock()


class _EndpointRequests:
    """Stands in for ``requests`` inside ``lark_oapi.ws.client``, which asks for its endpoint
    with ``requests.post`` and no timeout: a server that accepts and never answers would hang
    the connection thread (and every reconnect, and ``stop``) forever."""

    def __init__(self, real: Any, timeout: float) -> None:
        self._real = real
        self._timeout = timeout

    def post(self, url: str, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        return self._real.post(url, **kwargs)


class _LongConnection:
    """lark-oapi's ``ws.Client`` on its own thread and event loop.

    ``start()`` of the SDK never returns and reconnects by itself (every ``ReconnectInterval``
    the server sets). It runs on the module global ``lark_oapi.ws.client.loop``, which is pointed
    at this thread's loop for as long as it runs; its client must be built on that loop too (its
    cache schedules a task in ``__init__``). Stopping cancels every task on that loop:
    ``CancelledError`` is a ``BaseException``, so the SDK's ``except Exception`` reconnect paths
    let it through.
    """

    def __init__(self, config: FeishuSettings, dispatcher: Any) -> None:
        self._config = config
        self._dispatcher = dispatcher
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="feishu-ws", daemon=True)
        self._client: Any = None
        self.error: BaseException | None = None

    @property
    def connected(self) -> bool:
        # The SDK has no public state; ``_conn`` is set while a websocket is open.
        return self._thread.is_alive() and getattr(self._client, "_conn", None) is not None

    def start(self) -> None:
        if not _ONE_CONNECTION.acquire(blocking=False):
            raise RuntimeError("only one Feishu long connection can run per process")
        self._thread.start()

    async def wait_connected(self) -> None:
        """Until connected, for at most :data:`CONNECT_WAIT`; raises if the SDK gave up (bad
        credentials). A server that is only unreachable for now is left to the SDK's reconnects
        (``healthy()`` says so meanwhile)."""
        deadline = time.monotonic() + CONNECT_WAIT
        while not self.connected:
            if not self._thread.is_alive():
                raise FeishuError(f"long connection failed: {self.error!r}")
            if time.monotonic() > deadline:
                log.warning("Feishu long connection not up after %.0fs; still trying", CONNECT_WAIT)
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        def cancel_all() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        with contextlib.suppress(RuntimeError):  # the loop is closed: start() already failed
            self._loop.call_soon_threadsafe(cancel_all)
        # Joined from a worker thread: the closing handshake must not wait on a blocked loop.
        await asyncio.to_thread(self._thread.join, ENDPOINT_TIMEOUT + STOP_WAIT)
        if self._thread.is_alive():
            log.error("Feishu long connection thread did not stop")

    def _run(self) -> None:
        previous = lark_ws_client.loop, lark_ws_client.requests
        asyncio.set_event_loop(self._loop)
        lark_ws_client.loop = self._loop
        lark_ws_client.requests = _EndpointRequests(previous[1], ENDPOINT_TIMEOUT)
        try:
            self._client = lark.ws.Client(
                self._config.app_id,
                self._config.secret,
                event_handler=self._dispatcher,
                domain=self._config.domain,
                log_level=lark.LogLevel.WARNING,
            )
            self._client.start()
        except asyncio.CancelledError:
            pass
        except Exception as exc:
            self.error = exc
            log.error("Feishu long connection ended: %r", exc)
        finally:
            self._close_loop()
            lark_ws_client.loop, lark_ws_client.requests = previous
            _ONE_CONNECTION.release()

    def _close_loop(self) -> None:
        loop = self._loop
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        if self._client is not None:
            with contextlib.suppress(Exception):
                loop.run_until_complete(self._client._disconnect())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)

"""Feishu (Lark) for ``ima-bot run``: events in by long connection or webhook, cards out.

Both modes feed one lark-oapi ``EventDispatcherHandler``, whose handlers are synchronous and
run off the main loop (on the long connection's thread, or on a worker thread for webhooks).
They hand each event to the main loop and return at once, so Feishu gets its ack within its 3 s;
the generation then runs in a task the adapter tracks (and cancels on stop: unfinished jobs
resume at the next start). A card button press is the exception: its answer (a toast) rides on
the ack, so the handler waits up to :data:`CALLBACK_BUDGET` for the engine's verdict.

Redeliveries are dropped by event id (here) and by message id (the engine), both persistently.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
from aiohttp import web
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse

from bot.feishu.api import FeishuApi, FeishuError, TooLargeError
from bot.feishu.config import FeishuSettings, load_feishu_settings
from bot.feishu.event import (
    MESSAGE_RECEIVED,
    PLATFORM,
    MessageEvent,
    parse_card_action,
    parse_message,
)
from bot.feishu.replier import CardPatcher, FeishuReplier, ReplyTarget
from core.engine import ActionResult, Engine
from core.i18n import normalize_locale
from core.ima.errors import ImageTooLargeError, ImageUnreachableError
from core.replier import Reply, Stage
from core.request import Attachment, ChatRequest
from core.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/feishu/events"
#: Signed webhook deliveries older (or newer) than this are refused as replays.
MAX_REQUEST_AGE = 300.0
#: How long a button press may wait for the engine before Feishu's 3 s callback limit.
CALLBACK_BUDGET = 2.5
#: An image sent alone waits this long for the words that say what to do with it.
IMAGE_MEMORY = 600.0
MAX_REMEMBERED_IMAGES = 9
#: The long connection's endpoint request (lark-oapi sends it without a timeout).
ENDPOINT_TIMEOUT = 10.0
CONNECT_WAIT = 10.0
STOP_WAIT = 5.0


def build_feishu_adapter(settings: Settings, engine: Engine) -> FeishuAdapter | None:
    """For ``ima-bot run`` (``bot.adapters.ADAPTERS``): the adapter when FEISHU_APP_ID and
    FEISHU_APP_SECRET are set."""
    feishu_settings = load_feishu_settings()
    if not feishu_settings.configured:
        return None
    return FeishuAdapter(engine, feishu_settings)


class FeishuAdapter:
    name = PLATFORM

    def __init__(
        self, engine: Engine, config: FeishuSettings, *, patch_interval: float = 1.0
    ) -> None:
        """``patch_interval``: the least time between two updates of one card."""
        if not config.configured or config.app_id is None:
            raise ValueError("FEISHU_APP_ID and FEISHU_APP_SECRET are needed")
        self.config = config
        self.engine = engine
        self.api = FeishuApi(config.app_id, config.secret, config.domain)
        self._patcher = CardPatcher(self.api, patch_interval)
        self._dispatcher = (
            lark.EventDispatcherHandler.builder(config.encryption, config.verification_token or "")
            .register_p2_customized_event(MESSAGE_RECEIVED, self._message_arrived)
            .register_p2_card_action_trigger(self._button_pressed)
            .build()
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bot_open_id = ""
        self._receiving = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._connection: _LongConnection | None = None

    # ── the Adapter protocol ─────────────────────────────────────────────────────────────

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._bot_open_id = await self.api.bot_open_id()  # also proves the credentials
        self.engine.register_platform(PLATFORM, self._resumed_replier)
        if self.config.mode == "webhook":
            if not self.config.encryption:
                log.warning(
                    "FEISHU_ENCRYPT_KEY is not set: webhook deliveries can't be checked for "
                    "forgery or replay, only by their verification token"
                )
            self._executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="feishu-hook")
            self._receiving = True
            return
        self._receiving = True
        self._connection = _LongConnection(self.config, self._dispatcher)
        self._connection.start()
        await self._connection.wait_connected()

    async def stop(self) -> None:
        self._receiving = False
        if self._connection is not None:
            await self._connection.stop()
            self._connection = None
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_WAIT)
        await self._patcher.close()
        await self.api.close()
        if self._executor is not None:
            executor, self._executor = self._executor, None
            await asyncio.get_running_loop().run_in_executor(None, executor.shutdown)

    def healthy(self) -> bool:
        if self._connection is not None:
            return self._connection.connected
        return self._receiving

    def routes(self) -> list[web.RouteDef]:
        if self.config.mode != "webhook":
            return []
        return [web.post(WEBHOOK_PATH, self._webhook)]

    # ── webhook ──────────────────────────────────────────────────────────────────────────

    async def _webhook(self, request: web.Request) -> web.Response:
        if not self._receiving or self._executor is None:
            return web.json_response({"msg": "not ready"}, status=503)  # Feishu retries later
        if not _fresh(request.headers.get("X-Lark-Request-Timestamp")):
            return web.json_response({"msg": "stale or malformed timestamp"}, status=401)
        body = await request.read()
        if not _signed_by(self.config.encryption, request.headers, body):
            return web.json_response({"msg": "bad signature"}, status=401)
        raw = lark.RawRequest()
        raw.uri = request.path
        raw.headers = request.headers  # case-insensitive: a plain dict breaks the signature lookup
        raw.body = body
        # The SDK checks the verification token, decrypts, checks the signature and calls our
        # handlers; on a worker thread, because a button press waits there for the engine.
        loop = asyncio.get_running_loop()
        answer = await loop.run_in_executor(self._executor, self._dispatcher.do, raw)
        return web.Response(
            status=answer.status_code, body=answer.content, content_type="application/json"
        )

    # ── SDK handlers (run off the main loop) ─────────────────────────────────────────────

    def _message_arrived(self, data: Any) -> None:
        payload = json.loads(lark.JSON.marshal(data))
        loop = self._loop
        if loop is not None:
            loop.call_soon_threadsafe(self._spawn_handling, payload)

    def _button_pressed(self, data: Any) -> P2CardActionTriggerResponse:
        payload = json.loads(lark.JSON.marshal(data))
        if self._loop is None:
            return P2CardActionTriggerResponse({})
        future = asyncio.run_coroutine_threadsafe(self._press(payload), self._loop)
        try:
            answer = future.result(timeout=CALLBACK_BUDGET)
        except Exception as exc:  # too slow or failed: no toast; an accepted action carries on
            future.cancel()
            log.warning("button press answered without a verdict: %r", exc)
            answer = {}
        return P2CardActionTriggerResponse(answer)

    # ── on the main loop ─────────────────────────────────────────────────────────────────

    def _spawn_handling(self, payload: Mapping[str, Any]) -> None:
        if self._receiving:
            self._spawn(self._handle_message(payload))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._track(task)
        return task

    def _track(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("Feishu event handling failed", exc_info=error)

    async def _handle_message(self, payload: Mapping[str, Any]) -> None:
        message = parse_message(payload, self._bot_open_id)
        if message is None:
            return
        store = self.engine.store
        if not await store.first_seen(f"{PLATFORM}:event:{message.event_id}"):
            return
        target = ReplyTarget(message.message_id, message.chat_id)
        replier = self._replier(target, seed=message.message_id, requester=message.sender_id)
        if not message.text:  # an image alone: keep it for the words that follow
            await self._remember_images(message)
            locale = await self._usual_locale(message.sender_id)
            await replier.send(Reply(Stage.INFO, self.engine.text(locale, "feishu.image_saved")))
            return
        images = [*await self._take_images(message), *_images_of(message)]
        # A reply to one of the bot's result cards carries on from that result.
        origin = await store.job_by_handle(PLATFORM, message.reply_to) if message.reply_to else None
        request = ChatRequest(
            platform=PLATFORM,
            user_id=message.sender_id,
            chat_id=message.chat_id,
            reply_target=target.to_json(),
            text=message.text,
            attachments=tuple(self._attachment(mid, key) for mid, key in images),
            event_id=message.message_id,
            follow_up=origin.id if origin else None,
        )
        await self.engine.handle(request, replier)

    async def _press(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to a button press: nothing, or a toast when it can't be used."""
        if (this := asyncio.current_task()) is not None:  # started from another thread
            self._track(this)
        action = parse_card_action(payload)
        if action is None:
            return {}
        # A redelivered press is dropped here; a double click is the engine's to ignore.
        if not await self.engine.store.first_seen(f"{PLATFORM}:event:{action.event_id}"):
            return {}
        replier = self._replier(
            ReplyTarget(action.message_id, action.chat_id),
            seed=action.event_id,
            requester=action.user_id,
        )
        locale = normalize_locale(action.locale, self.engine.config.default_locale)
        work = self._spawn(
            self.engine.handle_action(PLATFORM, action.user_id, action.action, replier, locale)
        )
        # A refusal comes at once; an accepted retry runs a whole generation: don't wait for it.
        done, _ = await asyncio.wait({work}, timeout=CALLBACK_BUDGET - 0.5)
        if work not in done or work.cancelled() or work.exception() is not None:
            return {}
        result = work.result()
        if result is ActionResult.DONE:
            return {}
        key = "action.not_yours" if result is ActionResult.NOT_YOURS else "action.expired"
        return {"toast": {"type": "warning", "content": self.engine.text(locale, key)}}

    # ── images sent before their prompt ──────────────────────────────────────────────────

    async def _remember_images(self, message: MessageEvent) -> None:
        store, key = self.engine.store, f"images:{message.chat_id}"
        kept = await self._fresh_images(message.sender_id, key)
        images = [*kept, *_images_of(message)][-MAX_REMEMBERED_IMAGES:]
        await store.set_user_state(
            PLATFORM, message.sender_id, key, {"at": time.time(), "images": images}
        )

    async def _take_images(self, message: MessageEvent) -> list[tuple[str, str]]:
        key = f"images:{message.chat_id}"
        images = await self._fresh_images(message.sender_id, key)
        if images:
            await self.engine.store.set_user_state(PLATFORM, message.sender_id, key, None)
        return images

    async def _fresh_images(self, user_id: str, key: str) -> list[tuple[str, str]]:
        state = await self.engine.store.get_user_state(PLATFORM, user_id, key)
        if not isinstance(state, dict) or time.time() - float(state.get("at", 0)) > IMAGE_MEMORY:
            return []
        return [(str(m), str(k)) for m, k in state.get("images", [])]

    async def _usual_locale(self, user_id: str) -> str:
        """An image has no words to tell the language by: use the one of the user's last job."""
        recent = await self.engine.store.recent_jobs(PLATFORM, user_id, 1)
        return recent[0].locale if recent else self.engine.config.default_locale

    def _attachment(self, message_id: str, image_key: str) -> Attachment:
        async def fetch(max_bytes: int) -> bytes:
            try:
                return await self.api.download_resource(
                    message_id, image_key, kind="image", max_bytes=max_bytes
                )
            except TooLargeError as exc:
                raise ImageTooLargeError(f"{image_key}: {exc}") from None
            except FeishuError as exc:
                raise ImageUnreachableError(f"{image_key}: {exc}") from None

        return Attachment(name=image_key, fetch=fetch)

    # ── repliers ─────────────────────────────────────────────────────────────────────────

    def _replier(
        self, target: ReplyTarget, *, seed: str, requester: str | None = None
    ) -> FeishuReplier:
        return FeishuReplier(
            self.api,
            self._patcher,
            self.engine.text,
            target,
            seed=seed,
            requester=requester,
            default_locale=self.engine.config.default_locale,
        )

    def _resumed_replier(self, target: Mapping[str, Any]) -> FeishuReplier:
        reply_target = ReplyTarget.from_json(target)
        return self._replier(reply_target, seed=f"resumed:{reply_target.message_id}")


def _images_of(message: MessageEvent) -> list[tuple[str, str]]:
    return [(message.message_id, key) for key in message.image_keys]


def _signed_by(encrypt_key: str, headers: Mapping[str, str], body: bytes) -> bool:
    """A signed delivery's signature is Feishu's (else it is refused with a 401, not the SDK's
    500). Unsigned deliveries are left to the SDK, which answers Feishu's URL check and refuses
    unsigned events when an encrypt key is set."""
    signature = headers.get("X-Lark-Signature")
    if not encrypt_key or signature is None:
        return True
    timestamp = headers.get("X-Lark-Request-Timestamp", "")
    nonce = headers.get("X-Lark-Request-Nonce", "")
    expected = hashlib.sha256(f"{timestamp}{nonce}{encrypt_key}".encode() + body).hexdigest()
    return hmac.compare_digest(expected, signature)


def _fresh(timestamp: str | None) -> bool:
    """A missing timestamp is left to the SDK: with an encrypt key an unsigned delivery fails its
    signature check; a signed one's timestamp is covered by the signature, so checking its age
    here stops replays."""
    if timestamp is None:
        return True
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

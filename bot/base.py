"""What every chat adapter has in common: its lifecycle, its tasks, its gate and its last resort.

An adapter only translates: platform events into :class:`~core.request.ChatRequest` and
:class:`~core.door.Press` values, the engine's replies into platform messages. Everything else
is here, written once:

* :meth:`BaseAdapter.submit` / :meth:`BaseAdapter.submit_press` hand work to the engine in a
  task the adapter keeps, in arrival order (the engine keeps one person's messages in order);
* the gate: while the adapter is not taking requests (starting, stopping) nothing is handed
  on, and the adapter says so its platform's way;
* the last resort: when handling fails unexpectedly (a broken database, a bug), the platform is
  still told the request arrived and the person gets one plain sentence, never silence or an
  endless "thinking…"; a platform that drops requests acknowledged late (Discord) is told by
  its deadline, whatever the engine is waiting for;
* stopping in two steps: :meth:`pause` stops taking requests and lets the ones in flight be
  answered or admitted; after the engine has stopped its jobs, :meth:`close` disconnects.

Resuming jobs is not an adapter's business: ``ima-bot run`` does it once every adapter runs.
"""

from __future__ import annotations

import abc
import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from core.door import Ack, ActionResult, Door, Platform, Press, StoreError
from core.metrics import ACK_LATENCY
from core.replier import Handle, Replier, ReplierLimits, Reply, Stage
from core.request import ChatRequest

if TYPE_CHECKING:  # only the adapters that serve webhooks load the web server
    from aiohttp import web

log = logging.getLogger(__name__)

#: How long :meth:`BaseAdapter.pause` waits for requests in flight to be answered or admitted.
PAUSE_GRACE = 10.0

Verdict = Callable[[ActionResult], Awaitable[None]]
"""How an adapter tells a presser that a button can't be used (not theirs, no longer works)."""


class Adapter(Protocol):
    """What ``ima-bot run`` needs from every adapter."""

    #: Platform name: ``ChatRequest.platform`` and the key of its :class:`~core.door.Platform`.
    name: ClassVar[str]

    async def start(self) -> None: ...

    async def pause(self) -> None: ...

    async def close(self) -> None: ...

    def healthy(self) -> bool: ...

    def routes(self) -> list[web.RouteDef]: ...


class _Tracked:
    """A replier that remembers whether anything was said through it."""

    def __init__(self, inner: Replier) -> None:
        self._inner = inner
        self.limits: ReplierLimits = inner.limits
        self.answered = False

    async def send(self, reply: Reply) -> Handle:
        handle = await self._inner.send(reply)
        self.answered = True
        return handle

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        return await self._inner.edit(handle, reply)


class BaseAdapter(abc.ABC):
    name: ClassVar[str]
    #: Seconds after which a message is acknowledged even if the engine has not stored it yet
    #: (a slow or locked database), for platforms that drop a request acknowledged late; None:
    #: the platform delivers an unacknowledged request again, so it is better left unanswered.
    ack_deadline: ClassVar[float | None] = None

    def __init__(self, door: Door) -> None:
        self.door = door
        #: False until started and once pausing begins.
        self.accepting = False
        self._tasks: set[asyncio.Task[Any]] = set()

    # ── what a platform provides ──────────────────────────────────────────────────────────

    @abc.abstractmethod
    def platform(self) -> Platform:
        """How the engine rebuilds this platform's repliers and fetches its pictures."""

    @abc.abstractmethod
    async def connect(self) -> None:
        """Log in and start receiving."""

    @abc.abstractmethod
    async def disconnect(self) -> None:
        """Close every connection."""

    async def stop_receiving(self) -> None:  # noqa: B027 - most platforms have nothing to stop
        """Stop events from arriving, when the platform allows it (a long connection)."""

    def healthy(self) -> bool:
        return self.accepting

    def routes(self) -> list[web.RouteDef]:
        """HTTP routes to mount on the bot's server (webhooks); none by default."""
        return []

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────

    async def start(self) -> None:
        """Register with the engine and connect; requests are taken from the first event on
        (they can arrive before :meth:`connect` returns)."""
        self.door.register(self.platform())
        self.accepting = True
        try:
            await self.connect()
        except BaseException:
            self.accepting = False
            raise

    async def pause(self) -> None:
        """Take no new requests; give those in flight :data:`PAUSE_GRACE` to be answered."""
        self.accepting = False
        await self.stop_receiving()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=PAUSE_GRACE)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def close(self) -> None:
        await self.disconnect()

    async def drain(self) -> None:
        """Wait until every request handed on so far is answered (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # ── handing work to the engine ────────────────────────────────────────────────────────

    def submit(self, request: ChatRequest, replier: Replier, ack: Ack) -> bool:
        """Hand a message on (call it as the event arrives: that fixes its place in line).
        False while not accepting: the caller says so its platform's way."""
        if not self.accepting:
            return False
        self._spawn(self._deliver(request, replier, ack, time.monotonic()))
        return True

    def submit_press(self, press: Press, replier: Replier, verdict: Verdict) -> bool:
        """Hand a button press on; ``verdict`` is told when it can't be used."""
        if not self.accepting:
            return False
        self._spawn(self._press(press, replier, verdict))
        return True

    async def _deliver(
        self, request: ChatRequest, replier: Replier, ack: Ack, arrived: float
    ) -> None:
        acked = False
        deadline: asyncio.TimerHandle | None = None

        async def ack_once() -> None:
            nonlocal acked
            if not acked:
                acked = True
                if deadline is not None:  # a message waiting for its turn holds no timer
                    deadline.cancel()
                await ack()
                ACK_LATENCY.labels(self.name).observe(time.monotonic() - arrived)

        async def ack_late() -> None:
            try:
                await ack_once()
            except Exception:
                log.exception("%s: message %s could not be acknowledged", self.name, request.key)

        if self.ack_deadline is not None:
            deadline = asyncio.get_running_loop().call_later(
                self.ack_deadline, lambda: self._spawn(ack_late())
            )
        tracked = _Tracked(replier)
        try:
            await self.door.deliver(request, tracked, ack_once)
        except Exception as exc:
            if not isinstance(exc, StoreError):  # the store has logged that cause
                log.exception("%s: message %s could not be handled", self.name, request.key)
            locale = self.door.locale_for(request.locale, request.text)
            await self._last_resort(ack_once, tracked, locale)
        finally:
            if deadline is not None:
                deadline.cancel()

    async def _press(self, press: Press, replier: Replier, verdict: Verdict) -> None:
        tracked = _Tracked(replier)
        try:
            result = await self.door.press(press, tracked)
        except Exception as exc:
            if not isinstance(exc, StoreError):  # the store has logged that cause
                log.exception("%s: a button press could not be handled", self.name)
            locale = self.door.locale_for(press.locale)
            await self._last_resort(None, tracked, locale)
            return
        if result is not ActionResult.DONE:
            await verdict(result)

    async def _last_resort(self, ack: Ack | None, replier: _Tracked, locale: str) -> None:
        """Tell the platform the event arrived and the person that something went wrong."""
        try:
            if ack is not None:
                await ack()
            if not replier.answered:
                text = self.door.text(locale, "status.trouble")
                await replier.send(Reply(Stage.INFO, text, locale=locale))
        except Exception:
            log.exception("%s: even the plain answer could not be sent", self.name)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def verdict_key(result: ActionResult) -> str:
    """The sentence for a button that can't be used."""
    return "action.not_yours" if result is ActionResult.NOT_YOURS else "action.expired"

"""Status checks that wake their job's task only when it has something to do.

A running job checks its task every few seconds for minutes, and nearly every answer says
"still running" with nothing to show. Each such check used to resume the job's task twice (to
send, and to read the answer) through half a dozen coroutines, and to wait on a timer of its
own. Here a job's quiet checks run as plain callbacks: the grid (:class:`PollGrid`) wakes
them, the transport calls back with the answer, and the task is woken only for an answer that
needs it: the result, a failure, a cancel to notice or progress to show (``wanted``), the end
of the wait, or an error, which the task handles exactly as before (retries included).
Measured in ``docs/benchmarks.md`` §1.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from typing import Any

from core.ima.errors import IMAError
from core.ima.polling import read_detail
from core.ima.session import Call, IMASession

log = logging.getLogger(__name__)

#: Status checks wake on a grid of this fraction of their interval, shared by every job polling
#: at that interval: the checks of many jobs then run in one wake-up of the event loop, which
#: halves the CPU each costs against a wake-up of its own (measured by ``bench/inflight.py``).
POLL_GRID = 16

DETAIL_PATH = "/open/v1/tasks/detail"

_GridKey = tuple[asyncio.AbstractEventLoop, float, int]


class PollGrid:
    """Wake-ups on the :data:`POLL_GRID` grid of an interval, with one timer per point of the
    grid for everything waking there, not one per wait.

    A timer per wait (``asyncio.sleep``) put a thousand timers in the event loop's heap at
    1,000 jobs, each pushed, popped and cancelled once per check, comparing timers in Python.
    """

    def __init__(self) -> None:
        #: (loop, grid, point) → what wakes there; the loop is part of the key because its
        #: clock may be shared by another loop (a test's second ``asyncio.run``).
        self._points: dict[_GridKey, list[Callable[[], None]]] = {}

    def at(self, interval: float, delay: float, wake: Callable[[], None]) -> None:
        """Call ``wake()`` in ``delay`` seconds, lengthened to the next point of the grid of
        ``interval`` (by at most a sixteenth of it)."""
        loop = asyncio.get_running_loop()
        if interval <= 0:
            loop.call_later(delay, wake)
            return
        grid = interval / POLL_GRID
        point = math.ceil((loop.time() + delay) / grid)
        key = (loop, grid, point)
        waking = self._points.get(key)
        if waking is None:
            waking = self._points[key] = []
            loop.call_at(point * grid, self._wake, key)
        waking.append(wake)

    def _wake(self, key: _GridKey) -> None:
        for wake in self._points.pop(key):
            try:
                wake()
            except Exception:  # never the end of the others' wake-ups
                log.exception("a status check could not start")


#: What a job's task is woken with: the last answer's ``data``, or the error of its request.
Checked = tuple[Any, IMAError | None]


class Checks:
    """One job's status checks, between wake-ups of its task.

    :meth:`next` checks (now, or after a delay on the grid), then keeps checking quietly while
    the task is still running, ``wanted(elapsed)`` is false and ``max_wait`` is not reached;
    its future ends with the first answer that is none of these (the caller reads it again
    with :func:`~core.ima.polling.read_detail`, which is pure) or with the request's error.
    Cancelling that future (the task was cancelled) stops the checks and abandons one on
    its way.
    """

    __slots__ = (
        "_body",
        "_call",
        "_clock",
        "_expected",
        "_grid",
        "_interval",
        "_max_wait",
        "_outcome",
        "_session",
        "_start",
        "_wanted",
    )

    def __init__(
        self,
        session: IMASession,
        grid: PollGrid,
        *,
        body: bytes,
        expected: int,
        interval: float,
        max_wait: float,
        start: float,
        clock: Callable[[], float],
        wanted: Callable[[float], bool],
    ) -> None:
        self._session = session
        self._grid = grid
        self._body = body
        self._expected = expected
        self._interval = interval
        self._max_wait = max_wait
        self._start = start
        self._clock = clock
        self._wanted = wanted
        self._outcome: asyncio.Future[Checked] | None = None
        self._call: Call | None = None

    def delay(self, elapsed: float) -> float:
        """How long after a check ``elapsed`` seconds into the wait the next one comes."""
        return min(self._interval, max(self._max_wait - elapsed, 0.01))

    def next(self, delay: float | None) -> asyncio.Future[Checked]:
        """Check in ``delay`` seconds (None: now), and on quietly until the task is wanted."""
        outcome: asyncio.Future[Checked] = asyncio.get_running_loop().create_future()
        outcome.add_done_callback(self._stopped)
        self._outcome = outcome
        if delay is None:
            self._check()
        else:
            self._grid.at(self._interval, delay, self._check)
        return outcome

    def _check(self) -> None:
        outcome = self._outcome
        if outcome is None or outcome.done():  # cancelled while it waited
            return
        try:
            self._call = self._session.submit(
                "POST", DETAIL_PATH, json_body=self._body, then=self._answered
            )
        except Exception as exc:  # the session closed: the task sees it
            outcome.set_exception(exc)

    def _answered(self) -> None:
        """Called by the transport the moment the answer (or the error) is in."""
        call, self._call = self._call, None
        outcome = self._outcome
        if call is None or outcome is None or outcome.done():  # abandoned
            return
        try:
            data = self._session.data(call)
        except IMAError as exc:
            outcome.set_result((None, exc))
            return
        except Exception as exc:  # never into the transport's callback
            outcome.set_exception(exc)
            return
        try:
            elapsed = self._clock() - self._start
            quiet = (
                read_detail(data, self._expected) is None
                and elapsed < self._max_wait
                and not self._wanted(elapsed)
            )
        except IMAError:
            quiet = False  # a failed task: the task reads it again and fails
        except Exception as exc:
            outcome.set_exception(exc)
            return
        if quiet:
            self._grid.at(self._interval, self.delay(elapsed), self._check)
        else:
            outcome.set_result((data, None))

    def _stopped(self, outcome: asyncio.Future[Checked]) -> None:
        call = self._call
        if outcome.cancelled() and call is not None:
            self._call = None
            self._session.abandon(call)

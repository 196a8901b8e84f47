"""Feishu sends an event again until the bot takes it.

An attempt counts as taken when the bot answers 200 within the answer deadline (3 s): the HTTP
status of a webhook delivery, the ``code`` of a long-connection ack. Any other answer, an answer
after the deadline, no answer at all (the connection refused, or closed with the frame unacked)
fails it, and Feishu sends the same event (same ``event_id``, same body) again after
:data:`RETRY_INTERVALS`: 15 s, 5 min, 1 h and 6 h, each counted from the failure of the
attempt before (4 retries, about 7.1 h in all, the window Feishu tells bots to deduplicate in),
then gives up. On a long connection each attempt is a new frame (a new frame ``message_id``)
to one of the app's connections open at that moment, picked at random, so a retry may reach
another replica than the first attempt did; with none open, the attempt fails.

A late answer does not stop the retries, even though the bot did take the event: the bot must
deduplicate. Card callbacks (``card.action.trigger``) and the console's ``url_verification``
are never sent again.

Tests compress the schedule (``FakeFeishu(redelivery_intervals=(0.2, 0.5))``); the deadline is
the fake's ``answer_deadline``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

from tests.fakes.feishu.events import EventFactory
from tests.fakes.feishu.records import Dispatch
from tests.fakes.feishu.state import FeishuState

#: Feishu's published schedule: seconds from a failed attempt to the next one.
RETRY_INTERVALS: tuple[float, ...] = (15.0, 300.0, 3600.0, 21600.0)
#: Events Feishu delivers once, whatever the answer.
NEVER_RETRIED = frozenset({"card.action.trigger", "url_verification"})

#: The bot's answer to one attempt, once it comes: the HTTP status or the ack's code. An
#: exception means no answer will come (nothing listened, or the frame went nowhere).
Answer = asyncio.Future[int]
#: Makes one more attempt (a new request, or a new frame on a connection picked at random).
Attempt = Callable[[], Awaitable[Answer]]


class Redelivery:
    def __init__(self, state: FeishuState, intervals: Sequence[float]) -> None:
        self.state = state
        self.intervals = tuple(intervals)
        self.dispatches: list[Dispatch] = []
        """Every event handed to the bot, oldest first, with its attempts so far."""
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self,
        event: dict[str, Any],
        mode: Literal["webhook", "ws"],
        first: Answer,
        again: Attempt,
    ) -> Dispatch:
        """Follow the first attempt (already on its way) and make the retries it needs."""
        event_type = EventFactory.event_type(event)
        dispatch = Dispatch(EventFactory.event_id(event), event_type, mode)
        self.dispatches.append(dispatch)
        intervals = () if event_type in NEVER_RETRIED else self.intervals
        task = asyncio.create_task(self._keep_sending(dispatch, first, again, intervals))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return dispatch

    async def _keep_sending(
        self, dispatch: Dispatch, first: Answer, again: Attempt, intervals: tuple[float, ...]
    ) -> None:
        answer: Answer | None = first
        for wait in (None, *intervals):
            if wait is not None:
                await asyncio.sleep(wait)
                try:
                    answer = await again()
                except RuntimeError:  # no long connection open: this attempt reached nobody
                    answer = None
            dispatch.attempts += 1
            self.state.changed()
            if answer is not None and await self._taken(answer):
                dispatch.taken = True
                self.state.changed()
                return
        dispatch.given_up = True
        self.state.changed()

    async def _taken(self, answer: Answer) -> bool:
        """Whether the bot answered 200 within the deadline; a later answer still lands where
        the attempt records it, but this attempt has failed."""
        done, _ = await asyncio.wait({answer}, timeout=self.state.answer_deadline)
        if not done or answer.cancelled() or answer.exception() is not None:
            return False
        return answer.result() == 200

    async def close(self) -> None:
        """Stop every retry (the fake is shutting down)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

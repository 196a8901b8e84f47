"""One person's messages in one chat are understood and admitted in the order they arrived.

"Always use Nano Banana Pro" followed a moment later by "draw a cat" must draw with Nano Banana
Pro, although both are handled concurrently. :meth:`Turns.take` is called, synchronously, as a
message arrives; the turn it returns waits for the previous turn of the same line to end.
Generations themselves stay concurrent: a turn ends once its job is admitted. A turn taken but
never used (a redelivery, or a message that could not be stored) is given up with
:meth:`Turn.leave`, so the next one does not wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType


class Turn:
    def __init__(self, previous: asyncio.Future[None] | None, mine: asyncio.Future[None]) -> None:
        self._previous = previous
        self._mine = mine

    async def __aenter__(self) -> None:
        if self._previous is None:
            return
        try:
            await asyncio.shield(self._previous)
        except BaseException:
            self.leave()  # cancelled while waiting: the next goes after the one before
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.leave()

    def leave(self) -> None:
        """End this turn, entered or not: the next in line goes once those before it are done
        (a turn left without being entered ends when its previous one does)."""
        if self._mine.done():
            return
        if self._previous is None or self._previous.done():
            self._mine.set_result(None)
        else:
            self._previous.add_done_callback(lambda _: self._end())

    def _end(self) -> None:
        if not self._mine.done():
            self._mine.set_result(None)


class Turns:
    def __init__(self) -> None:
        self._last: dict[Hashable, asyncio.Future[None]] = {}

    def take(self, line: Hashable) -> Turn:
        """A place in ``line``, after everyone who took one before (call it as the message
        arrives, before any await)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous = self._last.get(line)
        self._last[line] = mine
        mine.add_done_callback(lambda _: self._forget(line, mine))
        return Turn(previous, mine)

    def _forget(self, line: Hashable, ended: asyncio.Future[None]) -> None:
        if self._last.get(line) is ended:
            del self._last[line]

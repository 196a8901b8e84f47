"""One person's messages in one chat are understood and admitted in the order they arrived.

"Always use Nano Banana Pro" followed a moment later by "draw a cat" must draw with Nano Banana
Pro, although both are handled concurrently. :meth:`Turns.take` is called, synchronously, as a
message arrives; the turn it returns waits for the previous turn of the same line to end.
Generations themselves stay concurrent: a turn ends once its job is admitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from types import TracebackType


class Turn:
    def __init__(
        self,
        turns: Turns,
        line: Hashable,
        previous: asyncio.Future[None] | None,
        mine: asyncio.Future[None],
    ) -> None:
        self._turns = turns
        self._line = line
        self._previous = previous
        self._mine = mine

    async def __aenter__(self) -> None:
        if self._previous is None:
            return
        try:
            await asyncio.shield(self._previous)
        except BaseException:
            self._end()  # never leave the next message waiting for a turn that won't come
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end()

    def _end(self) -> None:
        if not self._mine.done():
            self._mine.set_result(None)
        self._turns._release(self._line, self._mine)


class Turns:
    def __init__(self) -> None:
        self._last: dict[Hashable, asyncio.Future[None]] = {}

    def take(self, line: Hashable) -> Turn:
        """A place in ``line``, after everyone who took one before (call it as the message
        arrives, before any await)."""
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        previous = self._last.get(line)
        self._last[line] = mine
        return Turn(self, line, previous, mine)

    def _release(self, line: Hashable, future: asyncio.Future[None]) -> None:
        if self._last.get(line) is future:
            del self._last[line]

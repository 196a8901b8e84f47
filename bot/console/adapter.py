"""The console as a chat platform: one person, one message per line, edits redrawn in place.

Typing ``!N`` presses button N of the messages shown so far. Reading stops at the end of input;
:func:`run_console` returns once every request and job is done.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, TextIO

from bot.base import BaseAdapter
from bot.console.event import PLATFORM, button_number, parse_line, press
from bot.console.replier import ConsoleReplier, ConsoleScreen
from core.door import ActionResult, Door, Platform
from core.ima.upload import read_file


class ConsoleAdapter(BaseAdapter):
    name: ClassVar[str] = PLATFORM

    def __init__(self, door: Door, out: TextIO = sys.stdout) -> None:
        super().__init__(door)
        self.screen = ConsoleScreen(out=out, tty=out.isatty())
        self._lines = 0

    def platform(self) -> Platform:
        return Platform(PLATFORM, self._replier_for, self._fetch)

    async def connect(self) -> None:
        """Nothing to connect: the terminal is there."""

    async def disconnect(self) -> None:
        """Nothing to close."""

    def read(self, line: str) -> None:
        """One line typed: a press or a message, handed on in the order typed."""
        replier = ConsoleReplier(self.screen)
        number = button_number(line)
        if number is not None:
            buttons = self.screen.buttons
            if not 1 <= number <= len(buttons):
                self.screen.out.write(f"(there is no button {number})\n")
                return

            async def verdict(result: ActionResult) -> None:
                del result  # the only person at a console can't press someone else's button
                self.screen.out.write(f"(button {number} can't be used any more)\n")

            self.submit_press(press(buttons[number - 1].action), replier, verdict)
            return
        self._lines += 1
        self.submit(parse_line(line, number=self._lines), replier, _nothing)

    def _replier_for(self, target: Mapping[str, Any]) -> ConsoleReplier:
        return ConsoleReplier(self.screen)

    async def _fetch(self, ref: Mapping[str, Any], max_bytes: int) -> bytes:
        return await asyncio.to_thread(read_file, Path(str(ref.get("path", ""))), max_bytes)


async def _nothing() -> None:
    """A typed line needs no acknowledgement."""


async def run_console(
    adapter: ConsoleAdapter,
    jobs_done: Callable[[], Awaitable[None]],
    lines: TextIO = sys.stdin,
    *,
    echo: bool = False,
    sequential: bool = False,
) -> None:
    """Read lines until the input ends, then wait for every answer and job (``jobs_done``);
    ``sequential`` waits for each line's before reading the next, as scripts want."""
    while True:
        line = await asyncio.to_thread(lines.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if echo:
            adapter.screen.out.write(f"[you] {line}\n")
        adapter.read(line)
        if sequential:
            await adapter.drain()
            await jobs_done()
    await adapter.drain()
    await jobs_done()

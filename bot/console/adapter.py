"""The console loop: read lines, hand them to the engine, exit when input ends and jobs are done.

Typing ``!N`` presses button N of the messages shown so far.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from bot.console.event import PLATFORM, parse_line
from bot.console.replier import ConsoleReplier, ConsoleScreen
from core.engine import ActionResult, Engine

USER_ID = "console-user"


async def run_console(
    engine: Engine,
    lines: TextIO = sys.stdin,
    out: TextIO = sys.stdout,
    *,
    echo: bool = False,
    sequential: bool = False,
) -> None:
    """``sequential`` waits for each request to finish before reading the next (scripts)."""
    screen = ConsoleScreen(out=out, tty=out.isatty())

    def factory(target: Mapping[str, Any]) -> ConsoleReplier:
        return ConsoleReplier(screen)

    engine.register_platform(PLATFORM, factory)
    await engine.resume()
    running: set[asyncio.Task[Any]] = set()
    while True:
        line = await asyncio.to_thread(lines.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if echo:
            out.write(f"[you] {line}\n")
        task = asyncio.create_task(_one(engine, screen, line))
        running.add(task)
        task.add_done_callback(running.discard)
        if sequential:
            await task
    await asyncio.gather(*running)
    await engine.drain()


async def _one(engine: Engine, screen: ConsoleScreen, line: str) -> None:
    replier = ConsoleReplier(screen)
    stripped = line.strip()
    if stripped.startswith("!") and stripped[1:].isdigit():
        index = int(stripped[1:]) - 1
        if 0 <= index < len(screen.buttons):
            result = await engine.handle_action(
                PLATFORM, USER_ID, screen.buttons[index].action, replier
            )
            if result is not ActionResult.DONE:
                screen.out.write(f"(button {index + 1} can't be used any more)\n")
        return
    await engine.handle(parse_line(line, user_id=USER_ID), replier)

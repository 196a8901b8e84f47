"""Prints bot messages; on a terminal an edit redraws the message in place when it is the last
thing on screen, elsewhere (pipes, logs) each edit is printed as an update below."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TextIO

from core.replier import Button, Handle, ReplierLimits, Reply

_CLEAR_LINE_UP = "\x1b[1A\x1b[2K"


@dataclass
class ConsoleScreen:
    """What is on screen, shared by every replier of one console session."""

    out: TextIO
    tty: bool
    last_handle: str | None = None
    last_lines: int = 0
    buttons: list[Button] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def render(self, handle: str, reply: Reply, *, update: bool) -> None:
        lines = [f"[bot #{handle}]{' (updated)' if update and not self.tty else ''}"]
        lines += reply.text.splitlines()
        lines += [f"  📎 {m.url}" for m in reply.media]
        for button in reply.buttons:
            self.buttons.append(button)
            lines.append(f"  [{len(self.buttons)}] {button.label}")
        if update and self.tty and self.last_handle == handle:
            self.out.write(_CLEAR_LINE_UP * self.last_lines)
        self.out.write("\n".join(lines) + "\n")
        self.out.flush()
        self.last_handle, self.last_lines = handle, len(lines)

    def new_handle(self) -> str:
        return str(next(self._ids))


class ConsoleReplier:
    limits = ReplierLimits(buttons=50, action_bytes=64, file_bytes=0)

    def __init__(self, screen: ConsoleScreen) -> None:
        self.screen = screen

    async def send(self, reply: Reply) -> Handle:
        handle = self.screen.new_handle()
        self.screen.render(handle, reply, update=False)
        return Handle(handle)

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        self.screen.render(handle.message_id, reply, update=True)
        return handle

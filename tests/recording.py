"""A replier that records what the engine says, for tests of the engine and of adapters, and
other helpers those tests share."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import aiohttp

from core.replier import Handle, ReplierLimits, Reply, Stage


@dataclass
class RecordedMessage:
    handle: Handle
    history: list[Reply] = field(default_factory=list)

    @property
    def current(self) -> Reply:
        return self.history[-1]

    @property
    def stages(self) -> list[Stage]:
        return [r.stage for r in self.history]


#: Message ids are unique across repliers, as a platform's are.
_IDS = itertools.count(1)


class RecordingReplier:
    limits = ReplierLimits()

    def __init__(self) -> None:
        self.messages: list[RecordedMessage] = []

    async def send(self, reply: Reply) -> Handle:
        message = RecordedMessage(Handle(f"m{next(_IDS)}"), [reply])
        self.messages.append(message)
        return message.handle

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        found = next((m for m in self.messages if m.handle == handle), None)
        if found is None:  # a message sent before a restart, by another replier
            found = RecordedMessage(handle)
            self.messages.append(found)
        found.history.append(reply)
        return handle

    @property
    def last(self) -> Reply:
        return self.messages[-1].current

    def all_replies(self) -> list[Reply]:
        return [r for m in self.messages for r in m.history]


async def same_file(url_a: str, url_b: str) -> bool:
    """Both URLs serve the same bytes (a result, and its copy uploaded as an input)."""
    async with aiohttp.ClientSession() as http, http.get(url_a) as a, http.get(url_b) as b:
        return a.status == b.status == 200 and await a.read() == await b.read()

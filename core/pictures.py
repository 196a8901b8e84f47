"""Pictures sent on their own, kept for the words that say what to do with them.

In a Feishu group a picture can't @ the bot together with words in one tap, so people send the
picture first and the instruction next; on other platforms people do it too. The pictures are
remembered per person and chat, keyed by the platform's message id (a redelivered message adds
nothing twice), and the next message with words takes them.
"""

from __future__ import annotations

import dataclasses
import time

from core.request import Attachment, ChatRequest
from core.state import PICTURES, Pictures, UserState

#: Pictures wait this long for their instruction.
KEEP_FOR = 600.0
#: At most this many (the oldest go first).
MOST = 9


class PictureMemory:
    def __init__(self, state: UserState) -> None:
        self._state = state

    async def remember(self, request: ChatRequest) -> None:
        key = PICTURES.of(request.chat_id)
        kept = await self._fresh(request)
        by_message = dict(kept.by_message) if kept else {}
        by_message[request.message_id] = [dataclasses.asdict(a) for a in request.attachments]
        while sum(len(v) for v in by_message.values()) > MOST and len(by_message) > 1:
            del by_message[next(iter(by_message))]
        await self._state.set(
            request.platform, request.user_id, key, Pictures(time.time(), by_message)
        )

    async def peek(self, request: ChatRequest) -> tuple[Attachment, ...]:
        """The remembered pictures of this person in this chat; they stay remembered until a
        request uses them (:meth:`forget`), so a question in between loses none."""
        kept = await self._fresh(request)
        if kept is None:
            return ()
        return tuple(Attachment(**a) for a in kept.attachments())[-MOST:]

    async def forget(self, request: ChatRequest) -> None:
        """A request used the remembered pictures: the next one starts without them."""
        if await self._fresh(request) is not None:
            key = PICTURES.of(request.chat_id)
            await self._state.set(request.platform, request.user_id, key, None)

    async def _fresh(self, request: ChatRequest) -> Pictures | None:
        found = await self._state.get(
            request.platform, request.user_id, PICTURES.of(request.chat_id)
        )
        return found if found is not None and time.time() - found.at <= KEEP_FOR else None

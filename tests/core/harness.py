"""The engine as production builds it, on the simulator, with a platform "test" whose repliers
record what they are told."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.runtime import Wired
from core.actions import Action, Verb, decode
from core.door import Access, ActionResult, Platform, Press
from core.ima.tasks import MediaKind
from core.replier import Reply, Stage
from core.request import Attachment, ChatRequest, Options
from sim.app import RunningSimulator
from sim.media import render_png
from tests.recording import RecordingReplier
from tests.wiring import bot_on

SCALE = 0.001
PNG = render_png("input", 16, 16)
TECHNICAL = re.compile(
    r"\b(API|HTTP|script|polling|attribute_id|model_version|form_config|4\d\d|5\d\d|6\d{3})\b|轮询",
    re.IGNORECASE,
)
_MESSAGES = itertools.count(1)


async def _nothing() -> None:
    """Requests here need no acknowledgement."""


def attachment(name: str = "in.png") -> Attachment:
    return Attachment(name=name, ref={"bytes": "png"}, content_type="image/png", size=len(PNG))


def request(
    text: str,
    user: str = "u1",
    images: int = 0,
    message_id: str | None = None,
    options: Options | None = None,
    locale: str | None = None,
    *,
    chat: str = "chat",
    places: tuple[str, ...] = (),
    reply_to: str | None = None,
) -> ChatRequest:
    return ChatRequest(
        platform="test",
        user_id=user,
        chat_id=chat,
        reply_target={"user": user},
        text=text,
        message_id=message_id or f"msg-{next(_MESSAGES)}",
        attachments=tuple(attachment() for _ in range(images)),
        options=options or Options(),
        locale=locale,
        places=places,
        reply_to=reply_to,
    )


@dataclass
class Harness:
    sim: RunningSimulator
    bot: Wired
    db_path: Path
    #: Repliers the engine rebuilt from stored targets (after a restart), by user.
    rebuilt: dict[str, RecordingReplier] = field(default_factory=dict)

    @property
    def engine(self) -> Any:
        return self.bot.engine

    @property
    def store(self) -> Any:
        return self.bot.store

    def register(self, access: Access | None = None) -> None:
        self.engine.register(Platform("test", self._rebuild, self._fetch, access or Access()))

    def _rebuild(self, target: Mapping[str, Any]) -> RecordingReplier:
        return self.rebuilt.setdefault(str(target.get("user")), RecordingReplier())

    async def _fetch(self, ref: Mapping[str, Any], max_bytes: int) -> bytes:
        return PNG

    async def say(
        self,
        text: str,
        *,
        user: str = "u1",
        images: int = 0,
        replier: RecordingReplier | None = None,
        message_id: str | None = None,
        options: Options | None = None,
        locale: str | None = None,
        wait: bool = True,
        **where: Any,
    ) -> RecordingReplier:
        """Send a message; with ``wait``, return once its job (if any) has ended."""
        replier = replier or RecordingReplier()
        await self.engine.deliver(
            request(text, user, images, message_id, options, locale, **where), replier, _nothing
        )
        if wait:
            await self.engine.drain()
        return replier

    async def press(
        self, action: str, *, user: str = "u1", replier: RecordingReplier | None = None
    ) -> tuple[ActionResult, RecordingReplier]:
        replier = replier or RecordingReplier()
        result = await self.engine.press(Press("test", user, "chat", action), replier)
        await self.engine.drain()
        return result, replier

    @property
    def creates(self) -> list[dict[str, Any]]:
        return [c.body for c in self.sim.state.calls("create")]


@contextlib.asynccontextmanager
async def harness(
    sim: RunningSimulator,
    db: Path,
    *,
    access: Access | None = None,
    scale: float = SCALE,
    **settings: Any,
) -> AsyncIterator[Harness]:
    async with bot_on(sim, db, scale=scale, **settings) as bot:
        h = Harness(sim, bot, db)
        h.register(access)
        yield h
        await bot.engine.shutdown()


def actions(reply: Reply, verb: Verb) -> list[str]:
    return [b.action for b in reply.buttons if (a := decode(b.action)) and a.verb is verb]


def retry_with_model(reply: Reply) -> list[str]:
    """The reply's "retry with <another model>" buttons."""
    return [
        b.action
        for b in reply.buttons
        if (a := decode(b.action)) and a.verb is Verb.RETRY and a.model is not None
    ]


def action(reply: Reply, verb: Verb) -> Action:
    found = next(a for b in reply.buttons if (a := decode(b.action)) and a.verb is verb)
    return found


def assert_plain(text: str) -> None:
    assert not TECHNICAL.search(text), text


def assert_four_steps(replier: RecordingReplier, media: MediaKind, count: int = 1) -> None:
    """One message going through the four steps (a question to save a model the person
    named may follow it, a message of its own)."""
    message, *question = replier.messages
    assert [q.current.stage for q in question] in ([], [Stage.QUESTION])
    stages = message.stages
    assert stages[0] is Stage.BEFORE
    assert stages[-1] is Stage.SUCCESS
    assert set(stages[1:-1]) <= {Stage.PROGRESS}
    final = message.current
    assert len(final.media) == count
    assert all(m.kind is media for m in final.media)
    for reply in message.history:
        assert_plain(reply.text)

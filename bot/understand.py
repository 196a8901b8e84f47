"""``ima-bot understand``: what the bot would do with a message, as JSON, spending nothing.

Each item is a message by a person of its own, in a chat of its own. The messages of its
``context`` are really run first, in order — against the in-process simulator, so results and
saved preferences exist and nothing is charged — and then the item itself is read by the real
engine in a dry run (:mod:`core.verdict`): everything happens as in production up to the moment
a job would be stored, where the plan is reported instead.

With ``IMA_API_KEY`` (and ``IMA_BASE_URL``) set, the live product lists are read from there —
reading a catalog is free — and served by the in-process simulator, so the answers use the live
models and prices while every generation still happens against the simulator.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import SecretStr

from bot.runtime import Wired, wired
from core.door import Platform
from core.ima.session import IMASession
from core.ima.tasks import TaskType
from core.replier import Handle, ReplierLimits, Reply
from core.request import Attachment, ChatRequest
from core.settings import Settings
from core.verdict import Decision, Verdict, watching
from core.wants import Wants
from sim.app import start_simulator
from sim.media import render_png

PLATFORM = "understand"
#: The simulator runs this much faster than real generations; the bot polls it this often (its
#: own clock stays real, so what it says about times is what it would say in production).
SPEED = 0.001
POLL_SECONDS = 0.005
_PICTURE = render_png("understand", 32, 32)
#: Wishes reported under the corpus's canonical names.
_WISHES = ("duration", "aspect_ratio", "resolution", "size", "audio", "instrumental",
           "vocal_gender")  # fmt: skip


@dataclass(frozen=True)
class Item:
    id: str
    text: str
    images: int = 0
    lang: str = "en"
    context: tuple[str, ...] = ()
    reply_to_last: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any], number: int) -> Item:
        return cls(
            id=str(data.get("id", number)),
            text=str(data.get("text", "")),
            images=int(data.get("images") or 0),
            lang=str(data.get("lang") or "en"),
            context=tuple(str(c) for c in data.get("context") or ()),
            reply_to_last=bool(data.get("reply_to_last")),
        )


class _Recording:
    """A replier that keeps the id of the last message it sent (to reply to it)."""

    limits = ReplierLimits()

    def __init__(self, counter: list[int]) -> None:
        self._counter = counter

    async def send(self, reply: Reply) -> Handle:
        self._counter[0] += 1
        return Handle(f"msg-{self._counter[0]}")

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        return handle


class Understander:
    def __init__(self, bot: Wired) -> None:
        self._bot = bot
        self._messages = [0]
        self._count = 0

        async def fetch(ref: Mapping[str, Any], max_bytes: int) -> bytes:
            return _PICTURE

        bot.engine.register(Platform(PLATFORM, lambda target: _Recording(self._messages), fetch))

    async def understand(self, item: Item) -> dict[str, Any]:
        self._count += 1
        user, chat = f"person-{self._count}", f"chat-{self._count}"
        for number, text in enumerate(item.context):
            await self._deliver(self._request(item, user, chat, text, 0, f"{self._count}-{number}"))
            await self._bot.engine.drain()
        reply_to = await self._last_result(user) if item.reply_to_last else None
        request = self._request(item, user, chat, item.text, item.images, f"{self._count}")
        if reply_to is not None:
            request = dataclasses.replace(request, reply_to=reply_to)
        with watching(Verdict(dry=True)) as seen:
            await self._deliver(request)
        return _report(item, seen)

    def _request(
        self, item: Item, user: str, chat: str, text: str, images: int, message_id: str
    ) -> ChatRequest:
        return ChatRequest(
            platform=PLATFORM,
            user_id=user,
            chat_id=chat,
            reply_target={},
            text=text,
            message_id=message_id,
            attachments=tuple(Attachment(f"picture-{i}.png", {}) for i in range(images)),
            locale=item.lang,
        )

    async def _deliver(self, request: ChatRequest) -> None:
        async def ack() -> None:
            """Nothing to acknowledge."""

        await self._bot.engine.deliver(request, _Recording(self._messages), ack)

    async def _last_result(self, user: str) -> str | None:
        for job in await self._bot.store.recent_jobs(PLATFORM, user, 10):
            if job.result_urls and job.handle is not None:
                return job.handle.message_id
        return None


def _report(item: Item, seen: Verdict) -> dict[str, Any]:
    plan = seen.plan
    action = seen.action or Decision.CHAT
    if plan is not None:
        wants: Wants = plan.draft.wants
        raw = wants.to_json()
        wishes = {k: raw[k] for k in _WISHES if k in raw}
        if wants.lyrics:
            wishes["lyrics"] = True
        planned: dict[str, Any] = {
            "task_type": plan.task_type.value,
            "model": plan.model.name,
            "model_id": plan.model.model_id,
            "params": dict(plan.quote.params),
            "wishes": wishes,
            "n": plan.quote.n,
            "prompt": plan.draft.prompt,
            "credits": plan.quote.credits,
        }
    else:
        planned = dict.fromkeys(
            ("task_type", "model", "model_id", "params", "wishes", "n", "prompt", "credits")
        )
    preference = (
        {"op": seen.preference.value, "model": seen.preference_model}
        if seen.preference is not None
        else None
    )
    return {
        "id": item.id,
        "action": action.value,
        **planned,
        "continues": seen.continues,
        "preference": preference,
        "text": "\n".join(seen.texts),
    }


async def _live_product_lists(settings: Settings) -> dict[str, Any]:
    """Every category's product list from the configured IMA (reading it spends nothing)."""
    assert settings.ima_api_key is not None
    session = IMASession(
        settings.ima_api_key.get_secret_value(),
        base_url=settings.ima_base_url,
        upload_base_url=settings.ima_upload_base_url,
    )
    lists = {}
    async with session:
        for task_type in TaskType:
            data = await session.request(
                "GET",
                "/open/v1/product/list",
                params={"app": "ima", "platform": "web", "category": task_type.value},
            )
            lists[task_type.value] = {"code": 0, "message": "success", "data": data}
    return lists


@asynccontextmanager
async def understander(settings: Settings, *, live: bool) -> AsyncIterator[Understander]:
    """An engine on a throwaway database and the in-process simulator (serving the live
    product lists when ``live``)."""
    options: dict[str, Any] = {"speed": SPEED, "seed": 1}
    if live:
        options["product_lists"] = await _live_product_lists(settings)
    async with await start_simulator(**options) as sim:
        with tempfile.TemporaryDirectory(prefix="ima-bot-understand-") as tmp:
            dry_settings = settings.model_copy(
                update={
                    "ima_api_key": SecretStr("ima_understand_offline"),
                    "ima_base_url": sim.base_url,
                    "ima_upload_base_url": sim.base_url,
                    "ima_poll_interval": POLL_SECONDS,
                    "time_scale": 1.0,
                    "max_jobs_per_user": 100,
                }
            )
            async with wired(dry_settings, str(Path(tmp) / "understand.db")) as bot:
                await bot.engine.warm_up()
                yield Understander(bot)
                await bot.engine.shutdown()


def read_items(lines: Iterable[str]) -> list[Item]:
    items = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            items.append(Item.from_json(json.loads(line), number))
    return items


async def run_understand(settings: Settings, items: list[Item], out: TextIO, *, live: bool) -> None:
    async with understander(settings, live=live) as reader:
        for item in items:
            out.write(json.dumps(await reader.understand(item), ensure_ascii=False) + "\n")
            out.flush()

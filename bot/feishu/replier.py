"""The engine's replies as one Feishu card per request, patched in place; results as files.

``send`` replies to the user's message with a card (the handle is the card's message id);
``edit`` patches that card, and when Feishu no longer lets it (too old, recalled, deleted)
posts a new card and returns its handle instead. On success, images are uploaded and shown
inline in the card; videos are uploaded as mp4 and sent as ``media`` replies, music as ``file``
replies (Feishu's ``audio`` messages take opus only, IMA makes mp3); their message ids belong
to the handle, so a reply to them carries on from the result too. A result too large for
Feishu (images 10 MB, files 30 MB) or that cannot be fetched becomes a link button on the card.

Every message carries a ``uuid`` derived from ``Reply.key`` (stable per job and step), so a
delivery repeated after a crash or a retry is not posted twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import struct
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.feishu.api import FeishuApi, FeishuApiError, FeishuError
from bot.feishu.card import Link, build_card, with_mention
from core.ima.tasks import MediaKind
from core.replier import Handle, ReplierLimits, Reply, ResultMedia, Stage

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_FILE_BYTES = 30 * 1024 * 1024
#: The message to reply to was recalled, deleted or is not found: post in its chat instead.
GONE_CODES = frozenset({230011, 230110, 231003})
_UUIDS = uuid.UUID("5d1f3f9e-6a0b-4c1e-9a57-2f1d8c4b7e10")


class Texts(Protocol):
    """``Engine.text``: the adapter's own words from the locale catalogs."""

    def __call__(self, locale: str, key: str, /, **values: Any) -> str: ...


@dataclass(frozen=True)
class ReplyTarget:
    """Where replies go; stored with each job (JSON) to rebuild the replier after a restart."""

    message_id: str
    chat_id: str

    def to_json(self) -> dict[str, str]:
        return {"message_id": self.message_id, "chat_id": self.chat_id}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReplyTarget:
        return cls(str(data.get("message_id", "")), str(data.get("chat_id", "")))


# ── throttled card updates ───────────────────────────────────────────────────────────────


@dataclass
class _Card:
    last: float
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: dict[str, Any] | None = None
    flush: asyncio.Task[None] | None = None


class CardPatcher:
    """At most one PATCH per card every ``interval`` seconds (Feishu allows 5 a second; a
    progress line needs far fewer). Progress in between is coalesced into the latest state;
    a final state always goes out, after the interval. Shared by all repliers of an adapter."""

    def __init__(self, api: FeishuApi, interval: float = 1.0) -> None:
        self._api = api
        self._interval = interval
        self._cards: dict[str, _Card] = {}

    def sent(self, message_id: str) -> None:
        """A card was just posted: its first patch waits a full interval."""
        self._prune()
        self._cards[message_id] = _Card(time.monotonic())

    async def update(self, message_id: str, card: dict[str, Any], *, final: bool) -> None:
        """Non-final updates return at once (patched in the background, errors logged); a final
        one returns when Feishu has it, and raises if it could not be patched."""
        state = self._cards.setdefault(message_id, _Card(0.0))
        if not final:
            state.pending = card
            if state.flush is None or state.flush.done():
                state.flush = asyncio.create_task(self._flush(message_id, state))
            return
        self._cards.pop(message_id, None)
        state.pending = None
        if state.flush is not None and not state.flush.done():
            state.flush.cancel()
            await asyncio.wait({state.flush})
        async with state.lock:
            await self._slot(state)
            try:
                await self._api.patch(message_id, card)
            finally:
                state.last = time.monotonic()

    async def close(self) -> None:
        flushes = {s.flush for s in self._cards.values() if s.flush and not s.flush.done()}
        for task in flushes:
            task.cancel()
        if flushes:
            await asyncio.wait(flushes)
        self._cards.clear()

    async def _flush(self, message_id: str, state: _Card) -> None:
        async with state.lock:
            await self._slot(state)
            card, state.pending = state.pending, None
            if card is None:
                return
            try:
                await self._api.patch(message_id, card)
            except FeishuError as exc:
                log.warning("progress update of card %s failed: %s", message_id, exc)
            finally:
                state.last = time.monotonic()

    async def _slot(self, state: _Card) -> None:
        wait = state.last + self._interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _prune(self) -> None:
        """Forget cards whose interval is long over and that have nothing in flight."""
        horizon = time.monotonic() - max(60.0, self._interval)
        for message_id, state in list(self._cards.items()):
            if state.last < horizon and (state.flush is None or state.flush.done()):
                del self._cards[message_id]


# ── the replier ──────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class _Delivery:
    msg_type: str
    content: dict[str, Any]


class FeishuReplier:
    limits = ReplierLimits(buttons=20, action_bytes=64, file_bytes=MAX_FILE_BYTES)

    def __init__(
        self,
        api: FeishuApi,
        patcher: CardPatcher,
        texts: Texts,
        target: ReplyTarget,
        *,
        seed: str,
        requester: str | None = None,
        default_locale: str = "en",
    ) -> None:
        """``seed``: unique per incoming event; makes the uuids of replies without a key.
        ``requester``: whom to @ when a reply can't quote their message (for replies that don't
        name their user)."""
        self._api = api
        self._requester = requester
        self._patcher = patcher
        self._texts = texts
        self._target = target
        self._seed = seed
        self._default_locale = default_locale
        self._sends = itertools.count()

    async def send(self, reply: Reply) -> Handle:
        seed = reply.key or f"{self._seed}#{next(self._sends)}"
        card, deliveries = await self._render(reply)
        message_id = await self._post(card, _uuid(seed, "card"), reply)
        self._patcher.sent(message_id)
        others = await self._deliver(deliveries, seed)
        return Handle(message_id, also=others)

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        card, deliveries = await self._render(reply)
        if reply.stage is Stage.PROGRESS:
            await self._patcher.update(handle.message_id, card, final=False)
            return handle
        message_id = handle.message_id
        try:
            await self._patcher.update(message_id, card, final=True)
        except FeishuError as exc:
            # Too old, recalled or unreachable: say it in a new card rather than not at all.
            log.warning("card %s could not be updated (%s): sending a new one", message_id, exc)
            message_id = await self._post(card, _uuid(reply.key or message_id, "card"), reply)
            self._patcher.sent(message_id)
        others = await self._deliver(deliveries, reply.key or handle.message_id)
        return Handle(message_id, also=(*handle.also, *others))

    # ── building ─────────────────────────────────────────────────────────────────────────

    async def _render(self, reply: Reply) -> tuple[dict[str, Any], list[_Delivery]]:
        locale = reply.locale or self._default_locale
        images: list[str] = []
        links: list[Link] = []
        deliveries: list[_Delivery] = []
        for number, media in enumerate(reply.media, 1):
            try:
                if media.kind is MediaKind.IMAGE:
                    images.append(await self._image(media))
                else:
                    deliveries.append(await self._file(media))
            except FeishuError as exc:
                log.info("result %s goes as a link: %s", media.filename, exc)
                kind = self._texts(locale, f"media.{media.kind.value}")
                links.append(
                    Link(self._texts(locale, "feishu.open", kind=kind, number=number), media.url)
                )
        card = build_card(
            reply,
            title=self._texts(locale, f"feishu.title.{reply.stage.value}"),
            locale=locale,
            note=self._texts(locale, "feishu.too_large") if links else None,
            image_keys=images,
            links=links,
        )
        return card, deliveries

    async def _image(self, media: ResultMedia) -> str:
        data = await self._api.fetch(media.url, max_bytes=MAX_IMAGE_BYTES)
        return await self._api.upload_image(data, media.filename)

    async def _file(self, media: ResultMedia) -> _Delivery:
        data = await self._api.fetch(media.url, max_bytes=MAX_FILE_BYTES)
        if media.kind is not MediaKind.VIDEO:
            key = await self._api.upload_file(data, file_type="stream", file_name=media.filename)
            return _Delivery("file", {"file_key": key})
        key = await self._api.upload_file(
            data, file_type="mp4", file_name=media.filename, duration_ms=mp4_duration_ms(data)
        )
        content = {"file_key": key}
        if media.cover_url:
            try:
                cover = await self._api.fetch(media.cover_url, max_bytes=MAX_IMAGE_BYTES)
                content["image_key"] = await self._api.upload_image(cover, "cover.png")
            except FeishuError as exc:  # the video still plays without its cover
                log.info("no cover for %s: %s", media.filename, exc)
        return _Delivery("media", content)

    # ── posting ──────────────────────────────────────────────────────────────────────────

    async def _post(self, card: dict[str, Any], uuid_: str, reply: Reply) -> str:
        mention = None if reply.quiet else reply.user_id or self._requester
        return await self._reply("interactive", card, uuid_, mention=mention)

    async def _deliver(self, deliveries: list[_Delivery], seed: str) -> tuple[str, ...]:
        """The result files as messages of their own; returns their ids."""
        sent = []
        for index, delivery in enumerate(deliveries):
            uuid_ = _uuid(seed, f"{delivery.msg_type}{index}")
            sent.append(await self._reply(delivery.msg_type, delivery.content, uuid_))
        return tuple(sent)

    async def _reply(
        self, msg_type: str, content: dict[str, Any], uuid_: str, *, mention: str | None = None
    ) -> str:
        """Reply to the user's message; if it is gone, post in the chat (a card @s the user)."""
        try:
            return await self._api.reply(self._target.message_id, msg_type, content, uuid_)
        except FeishuApiError as exc:
            if exc.code not in GONE_CODES or not self._target.chat_id:
                raise
        if mention and msg_type == "interactive":
            content = with_mention(content, mention)
        return await self._api.send(self._target.chat_id, msg_type, content, uuid_)


def _uuid(seed: str, part: str) -> str:
    """Feishu's idempotency key (≤ 50 chars): the same seed and part, the same message."""
    return str(uuid.uuid5(_UUIDS, f"{seed}/{part}"))


def mp4_duration_ms(data: bytes) -> int | None:
    """Duration from the ``moov/mvhd`` box (Feishu shows 0:00 for a video sent without one)."""
    moov = _box(data, b"moov")
    mvhd = _box(moov, b"mvhd") if moov is not None else None
    if mvhd is None or len(mvhd) < 4:
        return None
    if mvhd[0] == 1:  # version 1: 64-bit times
        if len(mvhd) < 32:
            return None
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
    else:
        if len(mvhd) < 20:
            return None
        timescale, duration = struct.unpack(">II", mvhd[12:20])
    return round(duration * 1000 / timescale) if timescale else None


def _box(data: bytes, name: bytes) -> bytes | None:
    """The payload of the first box called ``name`` at this level of an ISO media file."""
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        header = 8
        if size == 1 and offset + 16 <= len(data):
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
            header = 16
        elif size == 0:
            size = len(data) - offset
        if size < header:
            return None
        if kind == name:
            return data[offset + header : offset + size]
        offset += size
    return None

"""The engine's replies as Discord messages.

One generation is one message: the deferred response to the slash command, edited through
the interaction token as the job goes (no more than one edit per ``edit_interval``; the final
state always goes out). Results are attached when they fit the upload limit, else linked.
Buttons are :class:`ActionButton` items whose ``custom_id`` carries the engine's action, so
any process can answer a press, also after a restart.

The token works for 15 minutes. After that (or when Discord says it no longer does: 401 /
50027) the token is never used again: the message is edited with the bot token, and when that
can't be done either (the message is gone, 10008, or out of the bot's reach) a final reply is
posted with the bot token in the channel, mentioning the user (unless the reply is quiet); when
the channel is gone or closed to the bot, it goes to the user's DMs. Progress is not worth a new
message and is dropped then. Every change of where the message is comes back as a new handle,
which the engine stores.

Private replies (``Reply.private``) are ephemeral while an interaction token lasts and go to
the user's DMs otherwise, never to the channel.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import aiohttp
import discord

from bot.discord.event import TOKEN_LIFETIME, Target
from core.ima.errors import InvalidInputError
from core.ima.tasks import MediaKind
from core.ima.upload import read_limited
from core.replier import Handle, ReplierLimits, Reply, ResultMedia, Stage

log = logging.getLogger(__name__)

MAX_CONTENT = 2000
MAX_CUSTOM_ID = 100
MAX_LABEL = 80
#: Five rows of five.
MAX_BUTTONS = 25
#: A link button's url (longer ones make Discord refuse the whole message).
MAX_URL = 512
#: Discord takes at most this much per message, whatever the per-file limit.
MAX_REQUEST_BYTES = 25 * 1024 * 1024
ACTION_PREFIX = "ima:"
#: Edits of one message are spaced at least this far apart (seconds).
EDIT_INTERVAL = 1.5
_STILL_CHANGING = (Stage.BEFORE, Stage.PROGRESS)
_INVALID_WEBHOOK_TOKEN = 50027

Text = Callable[..., str]
"""``engine.text``: ``(locale, key, **values) → str``."""


@runtime_checkable
class ButtonPresses(Protocol):
    """What the client answering component interactions offers :class:`ActionButton`."""

    async def on_button(self, interaction: discord.Interaction[Any], action: str) -> None: ...


class ActionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ima:(?P<action>.+)"):
    """A button that hands the engine's action back to it when pressed.

    A dynamic item: discord.py matches the ``custom_id`` of every press against the template,
    so no view needs to be kept in memory (or survive a restart) for the button to work.
    """

    def __init__(self, label: str, action: str, *, primary: bool = False) -> None:
        style = discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=label[:MAX_LABEL], custom_id=ACTION_PREFIX + action, style=style
            )
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: Any,
    ) -> ActionButton:
        return cls(getattr(item, "label", None) or "", match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if isinstance(interaction.client, ButtonPresses):
            await interaction.client.on_button(interaction, self.action)


@dataclass
class Rendered:
    """One reply as Discord message parts. Files are kept as bytes: each send needs new
    ``discord.File`` objects (discord.py closes them after a request)."""

    content: str
    embeds: list[discord.Embed]
    uploads: list[tuple[str, bytes]]
    view: discord.ui.View

    def files(self) -> list[discord.File]:
        return [discord.File(io.BytesIO(data), filename=name) for name, data in self.uploads]

    def mentioning(self, user_id: int) -> Rendered:
        return dataclasses.replace(self, content=_clip(f"<@{user_id}> {self.content}"))


def _clip(text: str) -> str:
    return text if len(text) <= MAX_CONTENT else text[: MAX_CONTENT - 1] + "…"


def _token_refused(exc: discord.HTTPException) -> bool:
    """The interaction token no longer works (401 / 50027, which discord.py's ``is_expired()``
    can't know about): it must never be used again."""
    return exc.status == 401 or exc.code == _INVALID_WEBHOOK_TOKEN


def _unreachable(exc: discord.HTTPException) -> bool:
    """The message or channel is gone or closed to the bot."""
    return isinstance(exc, discord.NotFound | discord.Forbidden)


class Courier:
    """Posts and edits messages for every replier of one adapter.

    Keeps when each message that is still changing was last edited, to space its edits.
    """

    def __init__(
        self,
        client: discord.Client,
        http: aiohttp.ClientSession,
        text: Text,
        *,
        edit_interval: float = EDIT_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.http = http
        self.text = text
        self.edit_interval = edit_interval
        self.clock = clock
        self._last_edit: dict[int, float] = {}
        #: Interaction tokens Discord refused, and when: another message answering the same
        #: interaction (a question after its result) never tries one again.
        self._refused: dict[str, float] = {}

    # ── the two operations ────────────────────────────────────────────────────────────────

    async def create(self, target: Target, reply: Reply) -> Target:
        """Send ``reply`` as a new message; returns where it is."""
        rendered = await self.render(reply, target)
        private = reply.private or target.ephemeral
        if target.token_usable(self.clock()) and target.token not in self._refused:
            try:
                message = await self._webhook(target).send(
                    content=rendered.content,
                    embeds=rendered.embeds,
                    files=rendered.files(),
                    view=rendered.view,
                    allowed_mentions=discord.AllowedMentions.none(),
                    ephemeral=private,
                    wait=True,
                )
            except discord.HTTPException as exc:
                if not (_token_refused(exc) or _unreachable(exc)):
                    raise
                log.info("interaction token refused (%s); using the bot token", exc.code)
                self._refuse(target)
                target = target.without_token()
            else:
                return self._sent(dataclasses.replace(target, message_id=message.id), reply)
        else:
            target = target.without_token()
        if private:
            direct = await self._direct(target, rendered, _person(reply, target), _nonced(reply))
            return self._sent(direct, reply)
        return self._sent(await self._post(target, rendered, reply), reply)

    async def update(self, handle: Target, reply: Reply) -> Target:
        """Show ``reply`` in the message behind ``handle``; returns where it is now: the same
        message, the same one reached without a dead token, or a new one."""
        message_id = handle.message_id
        if message_id is None:  # nothing could be shown before: only a final reply
            return handle if reply.stage is Stage.PROGRESS else await self.create(handle, reply)
        if reply.stage is Stage.PROGRESS and self._too_soon(message_id):
            return handle
        rendered = await self.render(reply, handle)
        if handle.window_over(self.clock()):
            handle = handle.without_token()
            if _announces(reply):
                # A result after the interaction window: a new message that notifies the person.
                self._last_edit.pop(message_id, None)
                posted = dataclasses.replace(handle, message_id=None, created_at=None)
                return await self.create(posted, reply)
        if handle.token is not None or not handle.ephemeral:
            await self._pace(message_id)
            try:
                await self._edit(handle, message_id, rendered)
            except discord.HTTPException as exc:
                if _token_refused(exc):
                    log.info("interaction token refused (%s): no more edits with it", exc.code)
                    self._refuse(handle)
                    ended = dataclasses.replace(handle.without_token(), created_at=0.0)
                    return await self.update(ended, reply)
                if not _unreachable(exc):
                    raise
                log.info("message %s can't be edited (%s)", message_id, exc.code)
            else:
                return self._sent(handle, reply)
        self._last_edit.pop(message_id, None)
        gone = dataclasses.replace(handle, message_id=None)
        if reply.stage is Stage.PROGRESS:
            return gone
        return await self.create(gone, reply)

    def _refuse(self, target: Target) -> None:
        """Never use ``target``'s token again (kept as long as a token lives)."""
        now = self.clock()
        self._refused = {t: at for t, at in self._refused.items() if now - at < TOKEN_LIFETIME}
        if target.token is not None:
            self._refused[target.token] = now

    async def _edit(self, handle: Target, message_id: int, rendered: Rendered) -> None:
        if handle.token is not None:
            await self._webhook(handle).edit_message(
                message_id,
                content=rendered.content,
                embeds=rendered.embeds,
                attachments=rendered.files(),
                view=rendered.view,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        else:
            channel = self.client.get_partial_messageable(handle.channel_id or 0)
            await channel.get_partial_message(message_id).edit(
                content=rendered.content,
                embeds=rendered.embeds,
                attachments=rendered.files(),
                view=rendered.view,
            )

    # ── pacing ────────────────────────────────────────────────────────────────────────────

    def _too_soon(self, message_id: int) -> bool:
        last = self._last_edit.get(message_id)
        return last is not None and time.monotonic() - last < self.edit_interval

    async def _pace(self, message_id: int) -> None:
        last = self._last_edit.get(message_id)
        if last is not None:
            await asyncio.sleep(max(0.0, last + self.edit_interval - time.monotonic()))

    def _sent(self, handle: Target, reply: Reply) -> Target:
        if handle.message_id is not None:
            if reply.stage in _STILL_CHANGING:
                self._last_edit[handle.message_id] = time.monotonic()
            else:
                self._last_edit.pop(handle.message_id, None)
        return handle

    # ── with the bot token ────────────────────────────────────────────────────────────────

    async def _post(self, target: Target, rendered: Rendered, reply: Reply) -> Target:
        """A new message with the bot token in the channel: replying to the user's message, or
        mentioning them (neither when the reply is quiet); else in their DMs."""
        user_id = _person(reply, target)
        posted = dataclasses.replace(target.without_token(), reply_to=None, created_at=None)
        if target.channel_id is None:
            return await self._direct(posted, rendered, user_id, _nonced(reply))
        # discord.py takes no "reference=None" (nor "nonce=None") from a caller
        extra = _nonced(reply)
        in_channel = rendered
        if target.reply_to is not None:
            extra["reference"] = discord.MessageReference(
                message_id=target.reply_to, channel_id=target.channel_id, fail_if_not_exists=False
            )
        elif not reply.quiet:
            in_channel = rendered.mentioning(user_id)
        mentions = (
            discord.AllowedMentions.none()
            if reply.quiet
            else discord.AllowedMentions(
                everyone=False, roles=False, users=[discord.Object(user_id)], replied_user=True
            )
        )
        try:
            message = await self.client.get_partial_messageable(target.channel_id).send(
                in_channel.content,
                embeds=in_channel.embeds,
                files=in_channel.files(),
                view=in_channel.view,
                allowed_mentions=mentions,
                **extra,
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            log.info(
                "channel %s refused the message (%s); trying a DM", target.channel_id, exc.code
            )
            return await self._direct(posted, rendered, user_id, _nonced(reply))
        return dataclasses.replace(posted, message_id=message.id)

    async def _direct(
        self, target: Target, rendered: Rendered, user_id: int, nonced: dict[str, Any]
    ) -> Target:
        """A new message in the user's DMs."""
        try:
            user = self.client.get_user(user_id) or await self.client.fetch_user(user_id)
            message = await user.send(
                rendered.content,
                embeds=rendered.embeds,
                files=rendered.files(),
                view=rendered.view,
                **nonced,
            )
        except discord.HTTPException as exc:
            log.warning("user %s can't be reached (%s %s)", user_id, exc.status, exc.code)
            raise
        return dataclasses.replace(
            target.without_token(),
            channel_id=message.channel.id,
            message_id=message.id,
            reply_to=None,
            ephemeral=False,
            created_at=None,
        )

    def _webhook(self, target: Target) -> discord.Webhook:
        """The interaction's webhook. Its token is an application webhook's, the only kind
        discord.py lets send ephemeral messages (``Interaction.followup`` is one too)."""
        if target.application_id is None or target.token is None:
            raise ValueError("not an interaction target")
        webhook = discord.Webhook.partial(target.application_id, target.token, client=self.client)
        webhook.type = discord.WebhookType.application
        return webhook

    # ── rendering ─────────────────────────────────────────────────────────────────────────

    async def render(self, reply: Reply, target: Target) -> Rendered:
        """Text as content; results as attachments (images shown in embeds) or links."""
        view = discord.ui.View(timeout=None)
        for index, button in enumerate(reply.buttons):
            view.add_item(ActionButton(button.label, button.action, primary=index == 0))
        embeds: list[discord.Embed] = []
        uploads: list[tuple[str, bytes]] = []
        budget = max(target.file_limit, MAX_REQUEST_BYTES)
        for number, media in enumerate(reply.media, start=1):
            data = await self._download(media, min(target.file_limit, budget))
            if data is not None:
                budget -= len(data)
                uploads.append((media.filename, data))
            if media.kind is MediaKind.IMAGE:
                source = f"attachment://{media.filename}" if data is not None else media.url
                embeds.append(discord.Embed().set_image(url=source))
            elif data is None:
                label = self._link_label(target.locale, media.kind, number, len(reply.media))
                if len(media.url) <= MAX_URL:
                    if media.cover_url and len(media.cover_url) <= MAX_URL:
                        embeds.append(discord.Embed(url=media.url).set_image(url=media.cover_url))
                    view.add_item(discord.ui.Button(label=label, url=media.url))
                else:  # too long for a link button: a link in an embed's text instead
                    embeds.append(discord.Embed(description=f"[{label}]({media.url})"))
        return Rendered(_clip(reply.text), embeds, uploads, view)

    async def _download(self, media: ResultMedia, limit: int) -> bytes | None:
        """The result file if it can be attached (fits ``limit``), else None: it gets a link."""
        if limit <= 0:
            return None
        try:
            return await read_limited(self.http, media.url, limit)
        except InvalidInputError as exc:
            log.info("result not attached (%s): %s", type(exc).__name__, exc)
            return None

    def _link_label(self, locale: str, kind: MediaKind, number: int, count: int) -> str:
        what = self.text(locale, f"media.{kind.value}")
        if count == 1:
            return self.text(locale, "discord.open_one", kind=what)
        return self.text(locale, "discord.open_many", kind=what, number=number)


def _nonced(reply: Reply) -> dict[str, Any]:
    """The ``nonce`` argument of a new bot-token message, from ``Reply.key`` (stable per job and
    step): discord.py sends it with ``enforce_nonce``, so Discord answers a repeat within a
    few minutes (a retry, another replica finishing a job it took over) with the message the
    first send made. 25 characters at most. Interaction followups take no nonce."""
    if reply.key is None:
        return {}  # discord.py makes up a random one
    return {"nonce": hashlib.sha256(reply.key.encode()).hexdigest()[:25]}


def _announces(reply: Reply) -> bool:
    """A final step worth a notification of its own (not when shown again after a restart)."""
    return reply.stage in (Stage.SUCCESS, Stage.FAILURE) and not reply.quiet


def _person(reply: Reply, target: Target) -> int:
    """Who the reply is for: the engine says (the requester), else who the target was for."""
    return int(reply.user_id) if reply.user_id and reply.user_id.isdigit() else target.user_id


class DiscordReplier:
    """The engine's :class:`~core.replier.Replier` for one Discord request.

    :meth:`fill` names the deferred response of an interaction: the first message goes there. Other
    messages are new ones (interaction followups while the token lasts). Handles carry the
    :class:`~bot.discord.event.Target` JSON, enough for another process to edit the message.
    """

    limits = ReplierLimits(
        buttons=MAX_BUTTONS,
        action_bytes=MAX_CUSTOM_ID - len(ACTION_PREFIX),
        file_bytes=MAX_REQUEST_BYTES,
    )

    def __init__(self, courier: Courier, target: Target) -> None:
        self.courier = courier
        self.target = target
        self._fill: int | None = None

    def fill(self, message_id: int | None) -> None:
        """The interaction was deferred: its "thinking…" message is the first one to show."""
        self._fill = message_id

    async def send(self, reply: Reply) -> Handle:
        if self._fill is not None:
            deferred = dataclasses.replace(self.target, message_id=self._fill)
            handle = (await self.courier.update(deferred, reply)).handle()
            self._fill = None  # only once shown: a retry fills it again, never posts another
            return handle
        return (await self.courier.create(self.target, reply)).handle()

    async def edit(self, handle: Handle, reply: Reply) -> Handle:
        return (await self.courier.update(Target.from_handle(handle), reply)).handle()

"""The Discord adapter: a discord.py client whose commands, buttons and messages feed the engine.

Every interaction is answered (deferred) at once, inside Discord's 3-second window; the
engine's work then runs in a task the adapter keeps. ``stop()`` only stops taking requests:
jobs still running are left to the next start, which resumes them from the database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
import discord
import yarl
from aiohttp import web
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord.commands import CommandTranslator, PrivateCall, build_commands
from bot.discord.config import DiscordSettings, load_discord_settings
from bot.discord.event import (
    PLATFORM,
    FileInfo,
    Invocation,
    Rejected,
    Target,
    check_images,
    command_request,
    job_in_custom_ids,
    message_request,
)
from bot.discord.replier import EDIT_INTERVAL, ActionButton, Courier, DiscordReplier
from core.engine import ActionResult, Engine
from core.i18n import normalize_locale
from core.ima.errors import IMAError
from core.ima.upload import read_limited
from core.replier import Reply, Stage
from core.request import ChatRequest, Options
from core.settings import Settings

log = logging.getLogger(__name__)

#: Discord's upload limit where nothing better is known (a DM without an interaction).
DEFAULT_FILE_LIMIT = 10 * 1024 * 1024

Interaction = discord.Interaction[Any]


class _Client(discord.Client):
    """discord.py's client, handing events and button presses to the adapter."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(**options)
        self.adapter = adapter

    async def on_ready(self) -> None:
        self.adapter.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        await self.adapter.on_message(message)

    async def on_button(self, interaction: Interaction, action: str) -> None:
        await self.adapter.on_button(interaction, action)


class DiscordAdapter:
    """Implements :class:`bot.base.Adapter` for Discord."""

    name = PLATFORM

    def __init__(
        self,
        engine: Engine,
        settings: DiscordSettings,
        *,
        edit_interval: float = EDIT_INTERVAL,
        ready_timeout: float = 60.0,
        guild_ready_timeout: float = 2.0,
    ) -> None:
        if settings.token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self._token = settings.token
        self.engine = engine
        self.settings = settings
        self.edit_interval = edit_interval
        self.ready_timeout = ready_timeout
        self.ready = asyncio.Event()
        # Slash commands and buttons arrive whatever the intents; messages only when wanted.
        free_text = settings.message_content
        intents = discord.Intents(
            guilds=True, guild_messages=free_text, dm_messages=free_text, message_content=free_text
        )
        self.client = _Client(
            self,
            intents=intents,
            guild_ready_timeout=guild_ready_timeout,
            max_messages=None,
            chunk_guilds_at_startup=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.client.add_dynamic_items(ActionButton)
        self.tree = app_commands.CommandTree(self.client)
        for command in build_commands(engine, self):
            self.tree.add_command(command)
        self._http: aiohttp.ClientSession | None = None
        self._courier: Courier | None = None
        self._connection: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: False until started and once stop() begins: interactions then get a short note.
        self.accepting = False

    @property
    def default_locale(self) -> str:
        return self.engine.config.default_locale

    @property
    def courier(self) -> Courier:
        if self._courier is None:
            raise RuntimeError("the Discord adapter is not started")
        return self._courier

    # ── Adapter ───────────────────────────────────────────────────────────────────────────

    async def start(self) -> None:
        """Log in, sync the commands, connect; once ready, resume the jobs left running."""
        # discord.py reads both from class attributes each time it builds a request or connects.
        Route.BASE = self.settings.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.gateway_url)
        self._http = aiohttp.ClientSession()
        self._courier = Courier(
            self.client, self._http, self.engine.text, edit_interval=self.edit_interval
        )
        self.engine.register_platform(PLATFORM, self._replier_for)
        await self.client.login(self._token.get_secret_value())
        await self.tree.set_translator(CommandTranslator(self.engine.text))
        await self._sync_commands()
        self.accepting = True
        self._connection = asyncio.create_task(self.client.connect(), name="discord-gateway")
        await self._until_ready(self._connection)
        await self.engine.resume()

    async def stop(self) -> None:
        """Stop taking requests and disconnect; running jobs are resumed at the next start."""
        self.accepting = False
        await self.client.close()
        if self._connection is not None:
            await asyncio.wait({self._connection}, timeout=5)
            if not self._connection.done():
                self._connection.cancel()
        if self._http is not None:
            await self._http.close()

    async def drain(self) -> None:
        """Wait until every request taken so far is answered (the engine's jobs included)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def healthy(self) -> bool:
        return self.accepting and self.client.is_ready() and not self.client.is_closed()

    def routes(self) -> list[web.RouteDef]:
        return []  # everything arrives over the gateway

    async def _until_ready(self, connection: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait(
            {waiter, connection}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter in done:
            return
        waiter.cancel()
        if connection in done:
            connection.result()  # a refused token or intent: raise it
            raise RuntimeError("the Discord connection ended before it was ready")
        log.warning("Discord is not ready after %ss; still trying", self.ready_timeout)

    async def _sync_commands(self) -> None:
        """Guilds in ``DISCORD_GUILD_IDS`` get the commands at once; else they are global."""
        try:
            if not self.settings.guild_ids:
                await self.tree.sync()
                return
            for guild_id in self.settings.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        except discord.HTTPException:
            log.exception("slash commands could not be synced; the last synced ones stay")

    # ── requests ──────────────────────────────────────────────────────────────────────────

    async def generate(
        self, interaction: Interaction, prompt: str, options: Options, files: list[FileInfo]
    ) -> None:
        """``/image``, ``/video``, ``/music``: defer, then run the engine."""
        if not await self._accepts(interaction):
            return
        invocation = _invocation(interaction)
        replier = await self._deferred(interaction, invocation, ephemeral=False)
        request = command_request(
            invocation,
            prompt=prompt,
            options=options,
            files=files,
            download=self._download,
            default_locale=self.default_locale,
        )
        self._spawn(self._serve(request, replier))

    async def refuse(self, interaction: Interaction, rejected: Rejected) -> None:
        text = self.engine.text(self._locale(interaction), rejected.key, **rejected.values)
        await interaction.response.send_message(text, ephemeral=True)

    async def privately(self, interaction: Interaction, call: PrivateCall) -> None:
        """``/preferences`` and ``/history``: answered privately (only the user sees them)."""
        if not await self._accepts(interaction):
            return
        invocation = _invocation(interaction)
        replier = await self._deferred(interaction, invocation, ephemeral=True)
        self._spawn(self._privately(invocation, replier, call))

    async def _privately(
        self, invocation: Invocation, replier: DiscordReplier, call: PrivateCall
    ) -> None:
        locale = normalize_locale(invocation.locale, self.default_locale)
        try:
            await call(replier, locale)
        except IMAError as exc:  # the catalog could not be read
            await replier.send(self._info(replier.target, exc.locale_key))

    async def on_button(self, interaction: Interaction, action: str) -> None:
        """A press of an :class:`ActionButton`; what it starts comes as new messages."""
        if not await self._accepts(interaction):
            return
        await interaction.response.defer()
        invocation = _invocation(interaction)
        replier = DiscordReplier(self.courier, invocation.target(self.default_locale))
        self._spawn(self._press(interaction, action, replier))

    async def _press(self, interaction: Interaction, action: str, replier: DiscordReplier) -> None:
        user = str(interaction.user.id)
        try:
            result = await self.engine.handle_action(
                PLATFORM, user, action, replier, interaction.locale.value
            )
        except IMAError as exc:  # the catalog could not be read: nothing was started
            log.warning("button %s failed: %s", action, exc.log_fields())
            key = exc.locale_key
        else:
            if result is ActionResult.DONE:
                return
            key = "action.not_yours" if result is ActionResult.NOT_YOURS else "action.expired"
        text = self.engine.text(replier.target.locale, key)
        await interaction.followup.send(text, ephemeral=True)

    async def on_message(self, message: discord.Message) -> None:
        """Free text, when enabled: DMs, and messages that mention the bot."""
        me = self.client.user
        if not (self.settings.message_content and self.accepting) or me is None:
            return
        if message.author.bot:
            return
        if message.guild is not None and all(user.id != me.id for user in message.mentions):
            return
        files = [FileInfo(a.filename, a.url, a.size, a.content_type) for a in message.attachments]
        replied = message.reference.resolved if message.reference else None
        custom_ids = (
            getattr(child, "custom_id", None) or ""
            for row in (replied.components if isinstance(replied, discord.Message) else ())
            for child in getattr(row, "children", ())
        )
        request = message_request(
            message_id=message.id,
            user_id=message.author.id,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            content=message.content,
            bot_id=me.id,
            files=files,
            file_limit=message.guild.filesize_limit if message.guild else DEFAULT_FILE_LIMIT,
            download=self._download,
            default_locale=self.default_locale,
            follow_up=job_in_custom_ids(custom_ids),
        )
        replier = DiscordReplier(self.courier, Target.from_json(request.reply_target))
        try:
            check_images(files)
        except Rejected as rejected:
            await replier.send(self._info(replier.target, rejected.key, **rejected.values))
            return
        self._spawn(self._serve(request, replier))

    async def _serve(self, request: ChatRequest, replier: DiscordReplier) -> None:
        try:
            await self.engine.handle(request, replier)
        except Exception:
            log.exception("request %s failed", request.event_id)
            if not replier.answered:  # never leave "IMA Bot is thinking…" forever
                await replier.send(self._info(replier.target, "error.unknown"))

    # ── helpers ───────────────────────────────────────────────────────────────────────────

    async def _accepts(self, interaction: Interaction) -> bool:
        if self.accepting:
            return True
        text = self.engine.text(self._locale(interaction), "discord.restarting")
        await interaction.response.send_message(text, ephemeral=True)
        return False

    def _locale(self, interaction: Interaction) -> str:
        return normalize_locale(interaction.locale.value, self.default_locale)

    async def _deferred(
        self, interaction: Interaction, invocation: Invocation, *, ephemeral: bool
    ) -> DiscordReplier:
        """Answer within Discord's 3 seconds ("thinking…"); the first reply will fill it."""
        callback = await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        message_id = callback.message_id if callback is not None else None
        return DiscordReplier(self.courier, invocation.target(self.default_locale), fill=message_id)

    def _info(self, target: Target, key: str, **values: Any) -> Reply:
        return Reply(Stage.INFO, self.engine.text(target.locale, key, **values))

    def _replier_for(self, target: Mapping[str, Any]) -> DiscordReplier:
        return DiscordReplier(self.courier, Target.from_json(target))

    async def _download(self, url: str, max_bytes: int) -> bytes:
        if self._http is None:
            raise RuntimeError("the Discord adapter is not started")
        return await read_limited(self._http, url, max_bytes)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("Discord request task failed", exc_info=exc)


def _invocation(interaction: Interaction) -> Invocation:
    return Invocation(
        id=interaction.id,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id,
        locale=interaction.locale.value,
        application_id=interaction.application_id,
        token=interaction.token,
        created_at=interaction.created_at.timestamp(),
        file_limit=interaction.filesize_limit,
    )


def build_discord_adapter(settings: Settings, engine: Engine) -> DiscordAdapter | None:
    """For ``ima-bot run`` (``bot.adapters.ADAPTERS``): the adapter when DISCORD_TOKEN is set."""
    discord_settings = load_discord_settings()
    if discord_settings.token is None:
        return None
    return DiscordAdapter(engine, discord_settings)

"""The slash commands: ``/image``, ``/video``, ``/music``, ``/preferences``, ``/history``.

Names, descriptions and choices come from the locale catalogs (``discord.*`` keys): English is
what Discord shows by default, :class:`CommandTranslator` adds the zh-CN names. The commands
only collect their options; :class:`CommandHandler` (the adapter) does the rest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from bot.discord.event import (
    PLATFORM,
    FileInfo,
    Rejected,
    check_images,
    video_frames,
)
from core.engine import ActionResult, Engine
from core.i18n import normalize_locale
from core.ima.catalog import name_key
from core.ima.errors import IMAError
from core.ima.tasks import MediaKind, TaskType
from core.replier import Replier, Reply, Stage
from core.request import Options

log = logging.getLogger(__name__)

SIZES = ("512px", "1K", "2K", "4K")
RESOLUTIONS = ("480p", "720p", "1080p", "2K", "4K")
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
MAX_CHOICES = 25
#: Discord locales that get names and descriptions of their own, and the catalog for each.
COMMAND_LOCALES = {discord.Locale.chinese: "zh"}

Interaction = discord.Interaction[Any]
AnyCommand = app_commands.Command[Any, ..., None] | app_commands.Group


PrivateCall = Callable[[Replier, str], Coroutine[Any, Any, object]]
"""What ``/preferences`` or ``/history`` asks of the engine, given a private replier and the
user's locale."""


class CommandHandler(Protocol):
    async def generate(
        self, interaction: Interaction, prompt: str, options: Options, files: list[FileInfo]
    ) -> None:
        """Run a generation with checked pictures."""
        ...

    async def refuse(self, interaction: Interaction, rejected: Rejected) -> None:
        """Say privately why a command can't run."""
        ...

    async def privately(self, interaction: Interaction, call: PrivateCall) -> None:
        """Answer privately (only the user sees it) what the engine answers to ``call``."""
        ...


class CommandTranslator(app_commands.Translator):
    """Command names, descriptions and choices in other languages, from the catalogs.

    Every text is a ``locale_str`` whose ``key`` extra names its catalog entry; ``text`` is
    ``engine.text``.
    """

    def __init__(self, text: Callable[..., str]) -> None:
        self._text = text

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = COMMAND_LOCALES.get(locale)
        if key is None or lang is None:
            return None
        return self._text(lang, key)


def _file(attachment: discord.Attachment | None) -> FileInfo | None:
    if attachment is None:
        return None
    return FileInfo(attachment.filename, attachment.url, attachment.size, attachment.content_type)


def build_commands(engine: Engine, handler: CommandHandler) -> list[AnyCommand]:
    """Every command, bound to ``handler``; ``model`` options complete from the live catalog."""

    def s(key: str) -> locale_str:
        """A command text: English by default, other languages through the translator."""
        return locale_str(engine.text("en", f"discord.{key}"), key=f"discord.{key}")

    def named(*keys: str) -> dict[str, locale_str]:
        return {key: s(f"option.{key}.name") for key in keys}

    def described(*keys: str) -> dict[str, locale_str]:
        return {key: s(f"option.{key}.description") for key in keys}

    def plain(values: Sequence[str]) -> list[Choice[str]]:
        return [Choice(name=v, value=v) for v in values]

    kinds = [Choice(name=s(f"choice.{m.value}"), value=m.value) for m in MediaKind]

    async def generate(
        interaction: Interaction,
        prompt: str,
        options: Options,
        pictures: Callable[[], list[FileInfo]],
    ) -> None:
        try:
            files = pictures()
        except Rejected as rejected:
            await handler.refuse(interaction, rejected)
            return
        await handler.generate(interaction, prompt, options, files)

    @app_commands.command(name=s("image.name"), description=s("image.description"))
    @app_commands.rename(**named("prompt", "model", "image", "size", "count"))
    @app_commands.describe(**described("prompt", "model", "image", "size", "count"))
    @app_commands.choices(size=plain(SIZES))
    async def image_command(
        interaction: Interaction,
        prompt: str,
        model: str | None = None,
        image: discord.Attachment | None = None,
        size: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
    ) -> None:
        picture = _file(image)
        options = Options(media=MediaKind.IMAGE, model=model, size=size, count=count)
        await generate(
            interaction, prompt, options, lambda: check_images([picture] if picture else [])
        )

    @app_commands.command(name=s("video.name"), description=s("video.description"))
    @app_commands.rename(
        image=s("option.first_frame.name"),
        **named("prompt", "model", "last_frame", "duration", "resolution", "aspect_ratio", "audio"),
    )
    @app_commands.describe(
        image=s("option.first_frame.description"),
        **described(
            "prompt", "model", "last_frame", "duration", "resolution", "aspect_ratio", "audio"
        ),
    )
    @app_commands.choices(resolution=plain(RESOLUTIONS), aspect_ratio=plain(ASPECT_RATIOS))
    async def video_command(
        interaction: Interaction,
        prompt: str,
        model: str | None = None,
        image: discord.Attachment | None = None,
        last_frame: discord.Attachment | None = None,
        duration: app_commands.Range[int, 1, 60] | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        audio: bool | None = None,
    ) -> None:
        first, last = _file(image), _file(last_frame)
        options = Options(
            media=MediaKind.VIDEO,
            model=model,
            duration=duration,
            resolution=resolution,
            aspect_ratio=aspect_ratio,
            audio=audio,
            first_last_frame=last is not None,
        )
        await generate(interaction, prompt, options, lambda: video_frames(first, last))

    @app_commands.command(name=s("music.name"), description=s("music.description"))
    @app_commands.rename(**named("prompt", "model", "lyrics", "instrumental", "vocal"))
    @app_commands.describe(**described("prompt", "model", "lyrics", "instrumental", "vocal"))
    @app_commands.choices(
        vocal=[Choice(name=s(f"choice.{v}"), value=v) for v in ("male", "female")]
    )
    async def music_command(
        interaction: Interaction,
        prompt: str,
        model: str | None = None,
        lyrics: str | None = None,
        instrumental: bool | None = None,
        vocal: str | None = None,
    ) -> None:
        options = Options(
            media=MediaKind.MUSIC,
            model=model,
            lyrics=lyrics,
            instrumental=instrumental,
            vocal_gender=vocal,
        )
        await generate(interaction, prompt, options, lambda: [])

    preferences = app_commands.Group(
        name=s("preferences.name"), description=s("preferences.description")
    )

    @preferences.command(
        name=s("preferences_show.name"), description=s("preferences_show.description")
    )
    async def show_command(interaction: Interaction) -> None:
        user = str(interaction.user.id)
        await handler.privately(
            interaction,
            lambda replier, locale: engine.preferences.show(PLATFORM, user, replier, locale),
        )

    @preferences.command(
        name=s("preferences_set.name"), description=s("preferences_set.description")
    )
    @app_commands.rename(kind=s("option.kind.name"), model=s("option.new_default.name"))
    @app_commands.describe(
        kind=s("option.kind.description"), model=s("option.new_default.description")
    )
    @app_commands.choices(kind=kinds)
    async def set_command(interaction: Interaction, kind: str, model: str) -> None:
        user = str(interaction.user.id)
        await handler.privately(
            interaction,
            lambda replier, locale: engine.preferences.set(
                PLATFORM, user, MediaKind(kind), model, replier, locale
            ),
        )

    @preferences.command(
        name=s("preferences_reset.name"), description=s("preferences_reset.description")
    )
    @app_commands.rename(kind=s("option.reset_kind.name"))
    @app_commands.describe(kind=s("option.reset_kind.description"))
    @app_commands.choices(kind=kinds)
    async def reset_command(interaction: Interaction, kind: str | None = None) -> None:
        user = str(interaction.user.id)
        media = MediaKind(kind) if kind else None
        await handler.privately(
            interaction,
            lambda replier, locale: engine.preferences.reset(
                PLATFORM, user, media, replier, locale
            ),
        )

    models = _ModelChoices(engine)
    image_command.autocomplete("model")(models.complete(_image_tasks))
    video_command.autocomplete("model")(models.complete(_video_tasks))
    music_command.autocomplete("model")(models.complete(lambda _: [TaskType.TEXT_TO_MUSIC]))
    set_command.autocomplete("model")(models.complete(_kind_tasks))

    @app_commands.command(name=s("history.name"), description=s("history.description"))
    @app_commands.rename(item=s("option.item.name"))
    @app_commands.describe(item=s("option.item.description"))
    async def history_command(interaction: Interaction, item: str | None = None) -> None:
        user = str(interaction.user.id)

        async def call(replier: Replier, locale: str) -> None:
            if item is None:
                await engine.history(PLATFORM, user, replier, locale)
                return
            shown = await engine.show_result(PLATFORM, user, item, replier, locale)
            if shown is not ActionResult.DONE:
                text = engine.text(locale, "action.expired")
                await replier.send(Reply(Stage.INFO, text, locale=locale))

        await handler.privately(interaction, call)

    @history_command.autocomplete("item")
    async def history_choices(interaction: Interaction, current: str) -> list[Choice[str]]:
        jobs = await engine.store.recent_jobs(PLATFORM, str(interaction.user.id), 50)
        wanted = current.casefold()
        return [
            Choice(name=f"{job.prompt[:70]} · {job.model_name}"[:100], value=job.id)
            for job in jobs
            if job.result_urls and wanted in job.prompt.casefold()
        ][:MAX_CHOICES]

    return [image_command, video_command, music_command, preferences, history_command]


# What the command's other options say about the task type the model is for.


def _given(namespace: app_commands.Namespace, name: str) -> bool:
    return getattr(namespace, name, None) is not None


def _image_tasks(namespace: app_commands.Namespace) -> list[TaskType]:
    return [TaskType.IMAGE_TO_IMAGE if _given(namespace, "image") else TaskType.TEXT_TO_IMAGE]


def _video_tasks(namespace: app_commands.Namespace) -> list[TaskType]:
    if _given(namespace, "last_frame"):
        return [TaskType.FIRST_LAST_FRAME_TO_VIDEO]
    return [TaskType.IMAGE_TO_VIDEO if _given(namespace, "image") else TaskType.TEXT_TO_VIDEO]


def _kind_tasks(namespace: app_commands.Namespace) -> list[TaskType]:
    kind = getattr(namespace, "kind", None)
    return [t for t in TaskType if kind is None or t.media.value == kind]


Completion = Callable[[Interaction, str], Coroutine[Any, Any, list[Choice[str]]]]


class _ModelChoices:
    """Models of the live catalog whose name contains what was typed, with their credits."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def complete(self, tasks: Callable[[app_commands.Namespace], list[TaskType]]) -> Completion:
        async def choices(interaction: Interaction, current: str) -> list[Choice[str]]:
            locale = normalize_locale(interaction.locale.value, self.engine.config.default_locale)
            return await self.choices(tasks(interaction.namespace), current, locale)

        return choices

    async def choices(
        self, task_types: Sequence[TaskType], current: str, locale: str
    ) -> list[Choice[str]]:
        """One choice per model name (a kind spans several task types), in catalog order."""
        prices: dict[str, tuple[int, int]] = {}
        wanted = name_key(current)
        for task_type in task_types:
            try:
                catalog = await self.engine.client.catalog(task_type)
            except IMAError as exc:
                log.warning("no models to suggest: %s", exc.log_fields())
                return []
            for model in catalog.models:
                if wanted not in name_key(model.name):
                    continue
                low, high = prices.get(model.name, (model.min_points, model.max_points))
                prices[model.name] = (min(low, model.min_points), max(high, model.max_points))
        return [
            Choice(
                name=self.engine.text(
                    locale,
                    "discord.model_choice",
                    model=name,
                    credits=str(low) if low == high else f"{low}–{high}",
                ),
                value=name,
            )
            for name, (low, high) in list(prices.items())[:MAX_CHOICES]
        ]

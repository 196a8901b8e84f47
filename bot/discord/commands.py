"""The slash commands: ``/image``, ``/video``, ``/music``, ``/preferences``, ``/history``.

Names, descriptions and choices come from the locale catalogs (``discord.*`` keys): English is
what Discord shows by default, :class:`CommandTranslator` adds the zh-CN names. The tree
declares them (and answers autocomplete); an invocation is read from the raw event by
:meth:`SlashCommands.read`, without discord.py's ``Interaction`` and its tree call (the adapter
acknowledges thousands a second at peak), into the plain values the adapter hands on.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, locale_str

from bot.discord.event import PLATFORM, FileInfo, check_images, video_frames
from core.door import Choice as DoorChoice
from core.door import Door
from core.ima.tasks import MediaKind, TaskType
from core.policy import MAX_LYRICS_CHARS, MAX_PROMPT_CHARS
from core.request import Explicit, Options

SIZES = ("512px", "1K", "2K", "4K")
#: Autocomplete choices' name and value (longer ones make Discord refuse the whole list).
MAX_CHOICE = 100
RESOLUTIONS = ("480p", "720p", "1080p", "2K", "4K")
ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:3", "3:4", "21:9")
MAX_CHOICES = 25
#: Discord locales that get names and descriptions of their own, and the catalog for each.
COMMAND_LOCALES = {discord.Locale.chinese: "zh"}

Interaction = discord.Interaction[Any]
#: Declared to Discord with the engine's limits, so a longer text can't even be sent.
Prompt = app_commands.Range[str, 1, MAX_PROMPT_CHARS]
Lyrics = app_commands.Range[str, 1, MAX_LYRICS_CHARS]
AnyCommand = app_commands.Command[Any, ..., None] | app_commands.Group


#: Raw option types: a subcommand, a group of them, and an attached file (whose value is the
#: attachment's id).
SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
ATTACHMENT = 11


@dataclass(frozen=True)
class Invoked:
    """One slash command as its options say: what to hand on, and how."""

    prompt: str
    options: Options
    #: The checked pictures; raises :class:`~bot.discord.event.Rejected` when one
    #: can't be used.
    pictures: Callable[[], list[FileInfo]]
    #: Answered privately (only the user sees it): preferences, history, usage.
    private: bool = False


#: Reads a command's option values (by parameter name; attachments as :class:`FileInfo`).
Reader = Callable[[Mapping[str, Any]], Invoked]


class SlashCommands:
    """The commands as declared to Discord, and how their invocations are read."""

    def __init__(self, declared: list[AnyCommand], readers: Mapping[AnyCommand, Reader]) -> None:
        self.declared = declared
        #: By qualified name ("preferences set"), with Discord's option names → parameter names.
        self._readers = {
            command.qualified_name: (
                reader,
                {p.display_name: p.name for p in command.parameters}
                if isinstance(command, app_commands.Command)
                else {},
            )
            for command, reader in readers.items()
        }

    def read(self, data: Mapping[str, Any]) -> Invoked | None:
        """``data`` of a chat-input command's ``INTERACTION_CREATE``; None when it is none of
        these commands (an old one Discord still shows)."""
        path = [str(data["name"])]
        options: list[Mapping[str, Any]] = list(data.get("options") or [])
        while len(options) == 1 and options[0]["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            path.append(str(options[0]["name"]))
            options = list(options[0].get("options") or [])
        found = self._readers.get(" ".join(path))
        if found is None:
            return None
        reader, names = found
        files = (data.get("resolved") or {}).get("attachments") or {}
        values = {
            names[o["name"]]: _attached(files[str(o["value"])])
            if o["type"] == ATTACHMENT
            else o["value"]
            for o in options
            if o["name"] in names
        }
        return reader(values)


def _attached(raw: Mapping[str, Any]) -> FileInfo:
    return FileInfo(
        str(raw["filename"]), str(raw["url"]), int(raw["size"]), raw.get("content_type")
    )


class CommandTranslator(app_commands.Translator):
    """Command names, descriptions and choices in other languages, from the catalogs.

    Every text is a ``locale_str`` whose ``key`` extra names its catalog entry; ``text`` is
    the door's ``text``.
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


def build_commands(door: Door) -> SlashCommands:
    """Every command; ``model`` options complete from the live catalog. The callbacks only
    declare the options (their signatures are what is synced): :meth:`SlashCommands.read`
    reads an invocation."""

    def s(key: str) -> locale_str:
        """A command text: English by default, other languages through the translator."""
        return locale_str(door.text("en", f"discord.{key}"), key=f"discord.{key}")

    def named(*keys: str) -> dict[str, locale_str]:
        return {key: s(f"option.{key}.name") for key in keys}

    def described(*keys: str) -> dict[str, locale_str]:
        return {key: s(f"option.{key}.description") for key in keys}

    def plain(values: Sequence[str]) -> list[Choice[str]]:
        return [Choice(name=v, value=v) for v in values]

    kinds = [Choice(name=s(f"choice.{m.value}"), value=m.value) for m in MediaKind]

    @app_commands.command(name=s("image.name"), description=s("image.description"))
    @app_commands.rename(**named("prompt", "model", "image", "size", "count"))
    @app_commands.describe(**described("prompt", "model", "image", "size", "count"))
    @app_commands.choices(size=plain(SIZES))
    async def image_command(
        interaction: Interaction,
        prompt: Prompt,
        model: str | None = None,
        image: discord.Attachment | None = None,
        size: str | None = None,
        count: app_commands.Range[int, 1, 4] | None = None,
    ) -> None:
        """Declared; read by :func:`_image`."""

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
        prompt: Prompt,
        model: str | None = None,
        image: discord.Attachment | None = None,
        last_frame: discord.Attachment | None = None,
        duration: app_commands.Range[int, 1, 60] | None = None,
        resolution: str | None = None,
        aspect_ratio: str | None = None,
        audio: bool | None = None,
    ) -> None:
        """Declared; read by :func:`_video`."""

    @app_commands.command(name=s("music.name"), description=s("music.description"))
    @app_commands.rename(**named("prompt", "model", "lyrics", "instrumental", "vocal"))
    @app_commands.describe(**described("prompt", "model", "lyrics", "instrumental", "vocal"))
    @app_commands.choices(
        vocal=[Choice(name=s(f"choice.{v}"), value=v) for v in ("male", "female")]
    )
    async def music_command(
        interaction: Interaction,
        prompt: Prompt,
        model: str | None = None,
        lyrics: Lyrics | None = None,
        instrumental: bool | None = None,
        vocal: str | None = None,
    ) -> None:
        """Declared; read by :func:`_music`."""

    preferences = app_commands.Group(
        name=s("preferences.name"), description=s("preferences.description")
    )

    @preferences.command(
        name=s("preferences_show.name"), description=s("preferences_show.description")
    )
    async def show_command(interaction: Interaction) -> None:
        """Declared; read by :func:`_private`."""

    @preferences.command(
        name=s("preferences_set.name"), description=s("preferences_set.description")
    )
    @app_commands.rename(kind=s("option.kind.name"), model=s("option.new_default.name"))
    @app_commands.describe(
        kind=s("option.kind.description"), model=s("option.new_default.description")
    )
    @app_commands.choices(kind=kinds)
    async def set_command(interaction: Interaction, kind: str, model: str) -> None:
        """Declared; read by :func:`_set_default`."""

    @preferences.command(
        name=s("preferences_reset.name"), description=s("preferences_reset.description")
    )
    @app_commands.rename(kind=s("option.reset_kind.name"))
    @app_commands.describe(kind=s("option.reset_kind.description"))
    @app_commands.choices(kind=kinds)
    async def reset_command(interaction: Interaction, kind: str | None = None) -> None:
        """Declared; read by :func:`_reset_defaults`."""

    image_command.autocomplete("model")(_models(door, _image_tasks))
    video_command.autocomplete("model")(_models(door, _video_tasks))
    music_command.autocomplete("model")(_models(door, lambda _: [TaskType.TEXT_TO_MUSIC]))
    set_command.autocomplete("model")(_models(door, _kind_tasks))

    @app_commands.command(name=s("history.name"), description=s("history.description"))
    @app_commands.rename(item=s("option.item.name"))
    @app_commands.describe(item=s("option.item.description"))
    async def history_command(interaction: Interaction, item: str | None = None) -> None:
        """Declared; read by :func:`_history`."""

    @history_command.autocomplete("item")
    async def history_choices(interaction: Interaction, current: str) -> list[Choice[str]]:
        found = await door.history_choices(PLATFORM, str(interaction.user.id), current)
        return _clipped(found)

    @app_commands.command(name=s("usage.name"), description=s("usage.description"))
    async def usage_command(interaction: Interaction) -> None:
        """Declared; read by :func:`_private`."""

    readers: dict[AnyCommand, Reader] = {
        image_command: _image,
        video_command: _video,
        music_command: _music,
        show_command: _private(Explicit.PREFERENCES),
        set_command: _set_default,
        reset_command: _reset_defaults,
        history_command: _history,
        usage_command: _private(Explicit.USAGE),
    }
    declared: list[AnyCommand] = [
        image_command,
        video_command,
        music_command,
        preferences,
        history_command,
        usage_command,
    ]
    return SlashCommands(declared, readers)


# What each command's options become.


def _image(values: Mapping[str, Any]) -> Invoked:
    picture: FileInfo | None = values.get("image")
    options = Options(
        media=MediaKind.IMAGE,
        model=values.get("model"),
        size=values.get("size"),
        count=values.get("count"),
    )
    return Invoked(values["prompt"], options, lambda: check_images([picture] if picture else []))


def _video(values: Mapping[str, Any]) -> Invoked:
    first: FileInfo | None = values.get("image")
    last: FileInfo | None = values.get("last_frame")
    options = Options(
        media=MediaKind.VIDEO,
        model=values.get("model"),
        duration=values.get("duration"),
        resolution=values.get("resolution"),
        aspect_ratio=values.get("aspect_ratio"),
        audio=values.get("audio"),
        first_last_frame=last is not None,
    )
    return Invoked(values["prompt"], options, lambda: video_frames(first, last))


def _music(values: Mapping[str, Any]) -> Invoked:
    options = Options(
        media=MediaKind.MUSIC,
        model=values.get("model"),
        lyrics=values.get("lyrics"),
        instrumental=values.get("instrumental"),
        vocal_gender=values.get("vocal"),
    )
    return Invoked(values["prompt"], options, list)


def _privately(options: Options) -> Invoked:
    return Invoked("", options, list, private=True)


def _private(explicit: Explicit) -> Reader:
    """A private command without options."""
    return lambda values: _privately(Options(explicit=explicit))


def _set_default(values: Mapping[str, Any]) -> Invoked:
    kind = MediaKind(values["kind"])
    return _privately(Options(explicit=Explicit.SET_DEFAULT, media=kind, model=values["model"]))


def _reset_defaults(values: Mapping[str, Any]) -> Invoked:
    kind = values.get("kind")
    return _privately(
        Options(explicit=Explicit.RESET_DEFAULTS, media=MediaKind(kind) if kind else None)
    )


def _history(values: Mapping[str, Any]) -> Invoked:
    item = values.get("item")
    if item is None:
        return _privately(Options(explicit=Explicit.HISTORY))
    return _privately(Options(explicit=Explicit.SHOW, item=item))


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


def _models(door: Door, tasks: Callable[[app_commands.Namespace], list[TaskType]]) -> Completion:
    """Models of the live catalog whose name contains what was typed, with their credits."""

    async def choices(interaction: Interaction, current: str) -> list[Choice[str]]:
        locale = door.locale_for(interaction.locale.value)
        return _clipped(await door.model_choices(tasks(interaction.namespace), current, locale))

    return choices


def _clipped(found: Sequence[DoorChoice]) -> list[Choice[str]]:
    """At most 25 choices, names and values within Discord's 100 characters: one choice too
    long makes Discord refuse the whole list. A value too long to send back is left out."""
    return [
        Choice(name=_clip(c.label, MAX_CHOICE), value=c.value)
        for c in found
        if len(c.value) <= MAX_CHOICE
    ][:MAX_CHOICES]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"

"""From a read message (and a slash command's options) to what it asks to make.

:func:`core.parse.parse_message` says what the words say; this module adds what the request
itself says (options, attachments) and decides the task type and the wishes, one rule each.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.ima.catalog import Catalog
from core.ima.tasks import TaskType, task_for
from core.parse import ParsedMessage
from core.request import Options
from core.wants import Wants


def task_type(
    options: Options, parsed: ParsedMessage, images: int, catalogs: Iterable[Catalog]
) -> TaskType | None:
    """The task: the options' media wins over the words; a named model implies its media."""
    if options.media is None and parsed.task_type is not None:
        return parsed.task_type
    media = options.media or parsed.media
    if media is None and (named := options.model or parsed.model):
        kinds = {c.task_type.media for c in catalogs if c.find(named) is not None}
        media = kinds.pop() if len(kinds) == 1 else None
    if media is None:
        return None
    asked = TaskType.FIRST_LAST_FRAME_TO_VIDEO if options.first_last_frame else parsed.task_type
    return task_for(media, images, asked=asked)


def wants(options: Options, parsed: ParsedMessage) -> Wants:
    """What the person wants of any model; the options win over the words."""
    o = options
    return Wants(
        duration=o.duration or parsed.duration,
        resolution=o.resolution or parsed.resolution,
        aspect_ratio=o.aspect_ratio or parsed.aspect_ratio or parsed.custom_ratio,
        size=o.size or parsed.size,
        wants_8k=parsed.wants_8k,
        count=o.count or parsed.count_requested or parsed.count,
        audio=o.audio if o.audio is not None else parsed.audio,
        lyrics=o.lyrics or parsed.lyrics,
        instrumental=o.instrumental if o.instrumental is not None else parsed.instrumental,
        vocal_gender=o.vocal_gender or parsed.vocal_gender,
        music_duration=parsed.music_duration,
        negative_prompt=parsed.negative_prompt,
        seed=parsed.seed,
    )

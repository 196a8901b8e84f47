"""The task types the bot offers and the media they make: one record each, the one place their
rules live.

A record says everything the rest of the bot needs to know about a task type or a medium: how
many input pictures it takes, how many results one request may ask for, the recommended model,
the fallbacks after a failure, how long it takes and how often to poll, and how its results are
named. ``tests/core/ima/test_tasks.py`` walks every member against every table and locale key
family, so adding a task type without its entries fails with its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    MUSIC = "music"


class TaskType(StrEnum):
    """IMA task types; the value is also the product-list ``category``."""

    TEXT_TO_IMAGE = "text_to_image"
    IMAGE_TO_IMAGE = "image_to_image"
    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_TO_VIDEO = "image_to_video"
    FIRST_LAST_FRAME_TO_VIDEO = "first_last_frame_to_video"
    REFERENCE_IMAGE_TO_VIDEO = "reference_image_to_video"
    TEXT_TO_MUSIC = "text_to_music"

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self]

    @property
    def media(self) -> MediaKind:
        return TASKS[self].media

    @property
    def image_range(self) -> tuple[int, int | None]:
        """How many input images the task takes: (minimum, maximum or None for no maximum)."""
        spec = TASKS[self]
        return spec.min_images, spec.max_images


@dataclass(frozen=True)
class Timing:
    """How long a generation is expected to take and how often to poll and report, in seconds."""

    estimate_low: int
    estimate_high: int
    poll_every: float
    progress_every: float
    max_wait: float


@dataclass(frozen=True)
class MediaSpec:
    kind: MediaKind
    #: The extension result files get ("image-<job>-1.png").
    extension: str
    #: The spec's table row used when a model has no row of its own.
    timing: Timing


@dataclass(frozen=True)
class TaskSpec:
    task_type: TaskType
    media: MediaKind
    min_images: int
    #: None: no upper limit.
    max_images: int | None
    #: Results one request may ask for (the create's ``n``).
    max_outputs: int
    #: The spec's recommended model (a ``model_id``), used when the person has no preference.
    recommended: str
    #: Name keys (:func:`core.ima.models.name_key`) suggested after any model of this task type
    #: failed, when the failed model has no row of its own in :mod:`core.ima.models`.
    fallbacks: tuple[str, ...]
    #: Whether the result can be the picture of a follow-up (vary, animate, a video frame).
    result_is_picture: bool = False
    #: Progress is reported at least this far apart, whatever the model's row says.
    min_progress_every: float = 0.0
    #: Made only when the words ask for it (first and last frame), not for the pictures alone.
    only_when_asked: bool = False


# The longest the spec's script waits before giving up, per media.
_IMAGE_WAIT, _VIDEO_WAIT, _MUSIC_WAIT = 600.0, 2400.0, 480.0

MEDIA: Final = MappingProxyType(
    {
        MediaKind.IMAGE: MediaSpec(MediaKind.IMAGE, "png", Timing(25, 60, 5, 20, _IMAGE_WAIT)),
        MediaKind.VIDEO: MediaSpec(MediaKind.VIDEO, "mp4", Timing(60, 120, 8, 30, _VIDEO_WAIT)),
        MediaKind.MUSIC: MediaSpec(MediaKind.MUSIC, "mp3", Timing(20, 45, 5, 15, _MUSIC_WAIT)),
    }
)

_IMAGE_FALLBACKS = ("seedream45", "nanobanana2")
_FRAME_FALLBACKS = ("klingo1", "googleveo31")

TASKS: Final = MappingProxyType(
    {
        TaskType.TEXT_TO_IMAGE: TaskSpec(
            TaskType.TEXT_TO_IMAGE,
            MediaKind.IMAGE,
            min_images=0,
            max_images=0,
            max_outputs=4,
            recommended="doubao-seedream-4.5",
            fallbacks=_IMAGE_FALLBACKS,
            result_is_picture=True,
        ),
        TaskType.IMAGE_TO_IMAGE: TaskSpec(
            TaskType.IMAGE_TO_IMAGE,
            MediaKind.IMAGE,
            min_images=1,
            max_images=1,  # the spec: "single input image"
            max_outputs=4,
            recommended="doubao-seedream-4.5",
            fallbacks=_IMAGE_FALLBACKS,
            result_is_picture=True,
        ),
        TaskType.TEXT_TO_VIDEO: TaskSpec(
            TaskType.TEXT_TO_VIDEO,
            MediaKind.VIDEO,
            min_images=0,
            max_images=0,
            max_outputs=4,
            recommended="wan2.6-t2v",
            fallbacks=("wan26", "hailuo20"),
        ),
        TaskType.IMAGE_TO_VIDEO: TaskSpec(
            TaskType.IMAGE_TO_VIDEO,
            MediaKind.VIDEO,
            min_images=1,
            max_images=1,
            max_outputs=4,
            recommended="wan2.6-i2v",
            fallbacks=("wan26", "viduq2pro"),
            # The spec reports image-to-video progress every 40 s whatever the model.
            min_progress_every=40,
        ),
        TaskType.FIRST_LAST_FRAME_TO_VIDEO: TaskSpec(
            TaskType.FIRST_LAST_FRAME_TO_VIDEO,
            MediaKind.VIDEO,
            min_images=2,
            max_images=2,
            max_outputs=4,
            recommended="kling-video-o1",
            fallbacks=_FRAME_FALLBACKS,
            min_progress_every=40,
            only_when_asked=True,
        ),
        TaskType.REFERENCE_IMAGE_TO_VIDEO: TaskSpec(
            TaskType.REFERENCE_IMAGE_TO_VIDEO,
            MediaKind.VIDEO,
            min_images=1,
            max_images=None,
            max_outputs=4,
            recommended="kling-video-o1",
            fallbacks=_FRAME_FALLBACKS,
            min_progress_every=40,
        ),
        TaskType.TEXT_TO_MUSIC: TaskSpec(
            TaskType.TEXT_TO_MUSIC,
            MediaKind.MUSIC,
            min_images=0,
            max_images=0,
            max_outputs=2,  # the spec: 1-2 songs per request
            recommended="sonic",
            fallbacks=("suno", "doubaobgm"),
        ),
    }
)


def task_for(media: MediaKind, images: int, *, asked: TaskType | None = None) -> TaskType:
    """The task that makes ``media`` from ``images`` pictures: the first in the table whose
    picture count fits (``asked``: a task the words named, when it fits); with more pictures
    than any takes, the one taking the most (it will ask for fewer)."""
    tasks = [spec for spec in TASKS.values() if spec.media is media]
    fitting = [
        spec
        for spec in tasks
        if spec.min_images <= images
        and (spec.max_images is None or images <= spec.max_images)
        and (not spec.only_when_asked or spec.task_type is asked)
    ]
    if asked is not None and any(spec.task_type is asked for spec in fitting):
        return asked
    if fitting:
        return fitting[0].task_type
    if len(tasks) == 1:  # pictures it can't use (a song): made from the words
        return tasks[0].task_type
    return max((s for s in tasks if not s.only_when_asked), key=lambda s: s.min_images).task_type

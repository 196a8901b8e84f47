"""How long a generation is expected to take and how often to poll and report (the spec's table).

The live ``EET`` tag of a model wins over the table for the estimate (the product list is the
truth in production); the cadence of polls and progress messages comes from the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.ima.catalog import Model, name_key
from core.ima.tasks import MediaKind, TaskType


@dataclass(frozen=True)
class Timing:
    estimate_low: int
    estimate_high: int
    poll_every: float
    progress_every: float
    max_wait: float


# The longest the spec's script waits before giving up, per media.
MAX_WAIT: dict[MediaKind, float] = {
    MediaKind.IMAGE: 600.0,
    MediaKind.VIDEO: 2400.0,
    MediaKind.MUSIC: 480.0,
}

_DEFAULT: dict[MediaKind, Timing] = {
    MediaKind.IMAGE: Timing(25, 60, 5, 20, MAX_WAIT[MediaKind.IMAGE]),
    MediaKind.VIDEO: Timing(60, 120, 8, 30, MAX_WAIT[MediaKind.VIDEO]),
    MediaKind.MUSIC: Timing(20, 45, 5, 15, MAX_WAIT[MediaKind.MUSIC]),
}

_IMAGE = {
    "seedream45": Timing(25, 60, 5, 20, MAX_WAIT[MediaKind.IMAGE]),
    "nanobanana2": Timing(20, 40, 5, 15, MAX_WAIT[MediaKind.IMAGE]),
    "nanobananapro": Timing(60, 120, 5, 30, MAX_WAIT[MediaKind.IMAGE]),
}
_VIDEO_FAST = Timing(60, 120, 8, 30, MAX_WAIT[MediaKind.VIDEO])
_VIDEO_MID = Timing(90, 180, 8, 40, MAX_WAIT[MediaKind.VIDEO])
_VIDEO_SLOW = Timing(180, 360, 8, 60, MAX_WAIT[MediaKind.VIDEO])
_VIDEO_PREFIXES: tuple[tuple[str, Timing], ...] = (
    ("wan", _VIDEO_FAST),
    ("hailuo", _VIDEO_FAST),
    ("vidu", _VIDEO_FAST),
    ("pixverse", _VIDEO_FAST),
    ("seedance", _VIDEO_MID),
    ("kling26", _VIDEO_MID),
    ("googleveo", _VIDEO_MID),
    ("klingo1", _VIDEO_SLOW),
    ("sora", _VIDEO_SLOW),
)
_MUSIC = {
    "doubaobgm": Timing(10, 25, 5, 10, MAX_WAIT[MediaKind.MUSIC]),
    "doubaosong": Timing(10, 25, 5, 10, MAX_WAIT[MediaKind.MUSIC]),
    "suno": Timing(20, 45, 5, 15, MAX_WAIT[MediaKind.MUSIC]),
}


def _from_table(model: Model) -> Timing:
    key = name_key(model.name)
    media = model.task_type.media
    if media is MediaKind.IMAGE:
        return _IMAGE.get(key, _DEFAULT[media])
    if media is MediaKind.MUSIC:
        return _MUSIC.get(key, _DEFAULT[media])
    timing = next((t for prefix, t in _VIDEO_PREFIXES if key.startswith(prefix)), _DEFAULT[media])
    if model.task_type in (
        TaskType.FIRST_LAST_FRAME_TO_VIDEO,
        TaskType.REFERENCE_IMAGE_TO_VIDEO,
    ) and key.startswith(("klingo1", "googleveo")):
        return _VIDEO_SLOW
    if model.task_type is not TaskType.TEXT_TO_VIDEO:
        # The spec reports image-to-video progress every 40 s whatever the model.
        return replace(timing, progress_every=max(timing.progress_every, 40))
    return timing


def timing_for_media(media: MediaKind) -> Timing:
    """The table's middle row for a media, when the model itself is no longer known."""
    return _DEFAULT[media]


def timing_for(model: Model) -> Timing:
    timing = _from_table(model)
    if model.eet is not None:
        low, high = model.eet
        timing = replace(timing, estimate_low=low, estimate_high=max(high, low, 1))
    return timing

"""The models the bot knows by name: what people call them, how good they are, how long they
take and what to suggest when they fail. One row per model family, the one place these facts live.

The live product list stays the truth about which models exist, their ids and their prices: a row
here only adds what the list doesn't say, and a model missing from the list is never offered. Rows
are matched by :func:`name_key` of the catalog's display name; a ``family`` row also matches every
name that starts with its key (all Pixverse versions share the Pixverse timings).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from core.ima.tasks import MEDIA, TASKS, MediaKind, TaskType, Timing


def name_key(text: str) -> str:
    """Comparison key for model names: case, spaces, dashes, dots and underscores ignored."""
    return re.sub(r"[\s\-_.·]+", "", text).casefold()


@dataclass(frozen=True)
class KnownModel:
    #: :func:`name_key` of the display name ("Kling O1" → "klingo1").
    key: str
    media: MediaKind
    #: Other names people type. When several rows share an alias, the first row in
    #: :data:`KNOWN` whose model is in the catalog wins ("kling" → Kling O1, then Kling 2.6).
    aliases: tuple[str, ...] = ()
    #: Lower is better: the order "the best model" is picked in (None: not ranked).
    rank: int | None = None
    #: Estimated time and cadence, when it differs from the medium's row of the spec's table.
    timing: Timing | None = None
    #: Per task type, where it differs from the rest of the row.
    timing_by_task: Mapping[TaskType, Timing] = field(default_factory=dict)
    #: Name keys to suggest after this model failed, per task type ("*": every other one).
    fallbacks: Mapping[TaskType | str, tuple[str, ...]] = field(default_factory=dict)
    #: Also matches display names that start with ``key`` (all versions of a family).
    family: bool = False

    def matches(self, key: str) -> bool:
        return key == self.key or (self.family and key.startswith(self.key))

    def timing_for(self, task_type: TaskType) -> Timing | None:
        return self.timing_by_task.get(task_type) or self.timing

    def fallbacks_for(self, task_type: TaskType) -> tuple[str, ...] | None:
        return self.fallbacks.get(task_type) or self.fallbacks.get("*")


def _t(low: int, high: int, poll: float, progress: float, media: MediaKind) -> Timing:
    return Timing(low, high, poll, progress, MEDIA[media].timing.max_wait)


_I, _V, _M = MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.MUSIC
_VIDEO_FAST = _t(60, 120, 8, 30, _V)
_VIDEO_MID = _t(90, 180, 8, 40, _V)
_VIDEO_SLOW = _t(180, 360, 8, 60, _V)
_FRAME_TASKS = (TaskType.FIRST_LAST_FRAME_TO_VIDEO, TaskType.REFERENCE_IMAGE_TO_VIDEO)
_SLOW_FRAMES = {task_type: _VIDEO_SLOW for task_type in _FRAME_TASKS}

#: The spec's model tables, its "premium" picks and its failure fallback table.
KNOWN: Final[tuple[KnownModel, ...]] = (
    # ── images ──
    KnownModel(
        "seedream45",
        _I,
        aliases=("seedream", "即梦", "豆包绘图", "豆包画图", "豆包", "doubao"),
        rank=2,
        timing=_t(25, 60, 5, 20, _I),
        fallbacks={"*": ("nanobanana2", "nanobananapro")},
    ),
    KnownModel(
        "nanobanana2",
        _I,
        aliases=("nanobanana", "香蕉", "gemini flash", "nano banana flash"),
        rank=3,
        timing=_t(20, 40, 5, 15, _I),
        fallbacks={"*": ("seedream45", "nanobananapro")},
    ),
    KnownModel(
        "nanobananapro",
        _I,
        aliases=("nanobanana", "gemini", "gemini pro", "香蕉pro"),
        rank=1,
        timing=_t(60, 120, 5, 30, _I),
        fallbacks={"*": ("seedream45", "nanobanana2")},
    ),
    KnownModel("midjourney", _I, aliases=("mj", "midjourny", "mid journey")),
    # ── videos ──
    KnownModel(
        "wan26",
        _V,
        aliases=("wan", "万相", "通义万相"),
        timing=_VIDEO_FAST,
        family=True,
        fallbacks={TaskType.IMAGE_TO_VIDEO: ("klingo1", "hailuo20")},
    ),
    KnownModel(
        "klingo1",
        _V,
        aliases=("kling", "可灵", "可灵o1", "kling 1"),
        rank=1,
        timing=_VIDEO_SLOW,
        fallbacks={
            TaskType.TEXT_TO_VIDEO: ("wan26", "viduq2"),
            TaskType.FIRST_LAST_FRAME_TO_VIDEO: ("kling26", "googleveo31"),
            TaskType.REFERENCE_IMAGE_TO_VIDEO: ("kling26", "googleveo31"),
        },
    ),
    KnownModel(
        "googleveo31",
        _V,
        aliases=("veo", "veo31", "veo 3", "谷歌veo", "google veo"),
        rank=2,
        timing=_VIDEO_MID,
        timing_by_task=_SLOW_FRAMES,
        fallbacks={TaskType.TEXT_TO_VIDEO: ("klingo1", "sora2pro")},
    ),
    KnownModel("sora2pro", _V, aliases=("sora", "sora2", "sora 2"), rank=3, timing=_VIDEO_SLOW),
    KnownModel(
        "kling26", _V, aliases=("kling", "可灵", "可灵26", "kling 2"), rank=4, timing=_VIDEO_MID
    ),
    # "seedance" alone means the cheaper 1.5 Pro first: the row order decides shared aliases.
    KnownModel("seedance15pro", _V, aliases=("seedance", "seedance 1.5"), timing=_VIDEO_MID),
    KnownModel(
        "seedance20", _V, aliases=("seedance", "seedance2", "即梦视频"), rank=5, timing=_VIDEO_MID
    ),
    KnownModel("seedance20fast", _V, aliases=("seedance fast",), timing=_VIDEO_MID),
    KnownModel(
        "hailuo23", _V, aliases=("hailuo", "海螺", "海螺23", "minimax"), rank=6, timing=_VIDEO_FAST
    ),
    KnownModel(
        "hailuo20",
        _V,
        aliases=("hailuo", "海螺", "hailuo2", "hailuo02", "海螺20", "minimax"),
        timing=_VIDEO_FAST,
    ),
    KnownModel("viduq2", _V, aliases=("vidu",), timing=_VIDEO_FAST, family=True),
    KnownModel(
        "pixverse", _V, aliases=("pixverse", "pix verse", "拍我"), timing=_VIDEO_FAST, family=True
    ),
    # ── music ──
    KnownModel(
        "suno",
        _M,
        aliases=("sonic", "suno ai"),
        rank=1,
        timing=_t(20, 45, 5, 15, _M),
        fallbacks={"*": ("doubaobgm", "doubaosong")},
    ),
    KnownModel(
        "doubaosong",
        _M,
        aliases=("豆包音乐", "豆包歌曲", "doubao song", "gensong", "豆包", "doubao"),
        rank=2,
        timing=_t(10, 25, 5, 10, _M),
        fallbacks={"*": ("suno", "doubaobgm")},
    ),
    KnownModel(
        "doubaobgm",
        _M,
        aliases=("豆包音乐", "豆包bgm", "doubao bgm", "genbgm", "豆包", "doubao"),
        rank=3,
        timing=_t(10, 25, 5, 10, _M),
        fallbacks={"*": ("suno", "doubaosong")},
    ),
)


def known(model_name: str, media: MediaKind) -> KnownModel | None:
    """The row of a catalog model (by its display name), if the bot knows it."""
    key = name_key(model_name)
    exact = next((k for k in KNOWN if k.media is media and k.key == key), None)
    return exact or next((k for k in KNOWN if k.media is media and k.matches(key)), None)


def alias_targets(alias: str) -> tuple[KnownModel, ...]:
    """The rows that claim ``alias`` (compared by :func:`name_key`), in preference order."""
    key = name_key(alias)
    return tuple(k for k in KNOWN if key in ALIAS_KEYS.get(k.key, ()))


#: Row key → name keys of its aliases, computed once.
ALIAS_KEYS: Final = MappingProxyType(
    {k.key: frozenset(name_key(a) for a in k.aliases) for k in KNOWN}
)


def timing(model_name: str, task_type: TaskType) -> Timing:
    """The spec's timing row for a model of ``task_type`` (the medium's row if unknown)."""
    spec = TASKS[task_type]
    row = known(model_name, spec.media)
    found = (row.timing_for(task_type) if row else None) or MEDIA[spec.media].timing
    if found.progress_every < spec.min_progress_every:
        return Timing(
            found.estimate_low,
            found.estimate_high,
            found.poll_every,
            spec.min_progress_every,
            found.max_wait,
        )
    return found


def static_names() -> tuple[str, ...]:
    """Names of every model the bot knows, whatever the catalog says: they let the message
    parser recognise models before (or without) reading the live catalog."""
    return tuple(sorted({n for k in KNOWN for n in (k.key, *k.aliases)}, key=len, reverse=True))

"""Which model to use: recommended defaults, best, cheapest, fallbacks and alternatives.

Everything here works on the LIVE catalog: a model that is not in it is never offered, and
prices come from its credit rules, never from a table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.ima.catalog import Catalog, Model, name_key
from core.ima.defaults import RECOMMENDED
from core.ima.rules import Quote, quote
from core.ima.tasks import MediaKind, TaskType

#: Name keys, best first: the spec's "premium" picks per media.
QUALITY_RANK: Mapping[MediaKind, tuple[str, ...]] = {
    MediaKind.IMAGE: ("nanobananapro", "seedream45", "nanobanana2"),
    MediaKind.VIDEO: ("klingo1", "googleveo31", "sora2pro", "kling26", "seedance20", "hailuo23"),
    MediaKind.MUSIC: ("suno", "doubaosong", "doubaobgm"),
}

#: The spec's failure fallback table: failed model → alternatives, per task type ("*" = any).
_IMAGE_FALLBACK = {
    "seedream45": ("nanobanana2", "nanobananapro"),
    "nanobanana2": ("seedream45", "nanobananapro"),
    "nanobananapro": ("seedream45", "nanobanana2"),
    "*": ("seedream45", "nanobanana2"),
}
_FRAMES_FALLBACK = {"klingo1": ("kling26", "googleveo31"), "*": ("klingo1", "googleveo31")}
FALLBACK: Mapping[TaskType, Mapping[str, tuple[str, ...]]] = {
    TaskType.TEXT_TO_IMAGE: _IMAGE_FALLBACK,
    TaskType.IMAGE_TO_IMAGE: _IMAGE_FALLBACK,
    TaskType.TEXT_TO_VIDEO: {
        "klingo1": ("wan26", "viduq2"),
        "googleveo31": ("klingo1", "sora2pro"),
        "*": ("wan26", "hailuo20"),
    },
    TaskType.IMAGE_TO_VIDEO: {
        "wan26": ("klingo1", "hailuo20"),
        "*": ("wan26", "viduq2pro"),
    },
    TaskType.FIRST_LAST_FRAME_TO_VIDEO: _FRAMES_FALLBACK,
    TaskType.REFERENCE_IMAGE_TO_VIDEO: _FRAMES_FALLBACK,
    TaskType.TEXT_TO_MUSIC: {
        "suno": ("doubaobgm", "doubaosong"),
        "doubaobgm": ("suno", "doubaosong"),
        "doubaosong": ("suno", "doubaobgm"),
        "*": ("suno", "doubaobgm"),
    },
}

#: Above this many credits the first message names a cheaper model (unless premium was asked).
EXPENSIVE = 50


def _by_key(catalog: Catalog, key: str) -> Model | None:
    return next((m for m in catalog.models if name_key(m.name) == key), None)


def recommended(catalog: Catalog) -> Model | None:
    """The spec's default for the category, or the catalog's first model if it is gone."""
    return catalog.find(RECOMMENDED[catalog.task_type]) or next(iter(catalog.models), None)


def best(catalog: Catalog) -> Model | None:
    for key in QUALITY_RANK[catalog.task_type.media]:
        found = _by_key(catalog, key)
        if found is not None:
            return found
    return max(catalog.models, key=lambda m: m.max_points, default=None)


def cheapest(catalog: Catalog) -> Model | None:
    return min(catalog.models, key=lambda m: m.min_points, default=None)


def _distinct(models: Sequence[Model | None], exclude: Model, count: int) -> list[Model]:
    out: list[Model] = []
    for model in models:
        if model is not None and model != exclude and model not in out:
            out.append(model)
        if len(out) == count:
            break
    return out


def alternatives(catalog: Catalog, failed: Model, count: int = 2) -> list[Model]:
    """Models to suggest after ``failed`` failed: the fallback table, then popular ones."""
    table = FALLBACK[catalog.task_type]
    keys = table.get(name_key(failed.name), table["*"])
    candidates = [_by_key(catalog, k) for k in keys]
    candidates += [recommended(catalog), cheapest(catalog), best(catalog), *catalog.models]
    return _distinct(candidates, failed, count)


def cheaper_than(
    catalog: Catalog, chosen: Quote, params: Mapping[str, Any]
) -> tuple[Model, Quote] | None:
    """The cheapest other model for the same request, if it costs less than ``chosen``."""
    offers = [
        (m, quote(m, params, chosen.n))
        for m in catalog.models
        if m.version_id != chosen.model.version_id
    ]
    offers = [o for o in offers if o[1].credits < chosen.credits]
    if not offers:
        return None
    preferred = recommended(catalog)
    for model, offer in offers:  # the recommended model is the friendliest suggestion
        if model == preferred:
            return model, offer
    return min(offers, key=lambda o: o[1].credits)

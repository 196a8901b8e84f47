"""Which model to use: recommended defaults, best, cheapest, fallbacks and alternatives.

Everything here works on the LIVE catalog: a model that is not in it is never offered, and
prices come from its credit rules, never from a table. The facts behind the choices (ranks,
fallback rows, recommended models) live in :mod:`core.ima.models` and :mod:`core.ima.tasks`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.ima import models
from core.ima.catalog import Catalog, Model
from core.ima.rules import Quote, quote

#: Above this many credits the first message names a cheaper model (unless premium was asked).
EXPENSIVE = 50


def _by_key(catalog: Catalog, key: str) -> Model | None:
    return next((m for m in catalog.models if models.name_key(m.name) == key), None)


def recommended(catalog: Catalog) -> Model | None:
    """The spec's default for the category, or the catalog's first model if it is gone."""
    found = catalog.find(catalog.task_type.spec.recommended)
    return found or next(iter(catalog.models), None)


def best(catalog: Catalog) -> Model | None:
    """The best-ranked model on offer, else the most expensive one."""
    media = catalog.task_type.media
    ranked = [
        (row.rank, m)
        for m in catalog.models
        if (row := models.known(m.name, media)) is not None and row.rank is not None
    ]
    if ranked:
        return min(ranked, key=lambda pair: pair[0])[1]
    return max(catalog.models, key=lambda m: m.max_points, default=None)


def cheapest(catalog: Catalog) -> Model | None:
    """The model that costs least as it would be used: at its form's defaults, the price the
    bot shows (Nano Banana 2 starts at 4 credits for 512px, but makes 1K pictures for 6)."""
    return min(catalog.models, key=lambda m: (quote(m, {}).credits, m.min_points), default=None)


def _distinct(candidates: Sequence[Model | None], exclude: Model, count: int) -> list[Model]:
    out: list[Model] = []
    for model in candidates:
        if model is not None and model != exclude and model not in out:
            out.append(model)
        if len(out) == count:
            break
    return out


def alternatives(catalog: Catalog, failed: Model, count: int = 2) -> list[Model]:
    """Models to suggest after ``failed`` failed: the fallback table, then popular ones."""
    task_type = catalog.task_type
    row = models.known(failed.name, task_type.media)
    keys = (row.fallbacks_for(task_type) if row else None) or task_type.spec.fallbacks
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


def tag(catalog: Catalog, model: Model) -> str | None:
    """How a suggested model is described: "budget", "premium" or "popular"."""
    if model == cheapest(catalog):
        return "budget"
    if model == best(catalog):
        return "premium"
    if model == recommended(catalog):
        return "popular"
    return None

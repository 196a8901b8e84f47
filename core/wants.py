"""What the user asked for, independent of any model, and how it maps onto one model's fields.

``Wants`` is stored with a job, so a retry with another model maps the same wishes again. Mapping
either succeeds (parameters for that model, plus notes such as "4K is not offered, using 1080P")
or refuses with the spec's advice before anything is spent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from core.ima.catalog import Catalog, Model
from core.ima.rules import normalise, quote
from core.ima.tasks import MediaKind


@dataclass(frozen=True)
class Wants:
    duration: int | None = None
    resolution: str | None = None
    aspect_ratio: str | None = None
    size: str | None = None
    wants_8k: bool = False
    #: A vector file (SVG): the models make PNG/JPG pictures only.
    vector: bool = False
    count: int | None = None
    audio: bool | None = None
    lyrics: str | None = None
    instrumental: bool | None = None
    vocal_gender: str | None = None
    music_duration: int | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    #: The person insisted on what they asked ("一定要 21:9", "must be 4K"): a format or size
    #: the model lacks is refused, naming the models that offer it, not left out with a note.
    strict: bool = False

    def to_json(self) -> dict[str, Any]:
        """The wishes made: every field not at its default ("no sound", ``audio`` False, is a
        wish)."""
        return {f.name: v for f in fields(self) if (v := getattr(self, f.name)) != f.default}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Wants:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in known})

    def over(self, base: Wants) -> Wants:
        """These wishes on top of ``base``'s: what a follow-up ("make it 10s") asks of an
        earlier request."""
        return Wants.from_json({**base.to_json(), **self.to_json()})

    def outputs(self, most: int) -> int:
        """How many results to make: what was asked, within 1..``most``."""
        return max(1, min(self.count or 1, most))


@dataclass(frozen=True)
class Message:
    """A localisable sentence: a key in ``locales/`` and its values (a value may be a message
    itself), and optionally a sentence that follows it."""

    key: str
    values: Mapping[str, Any] = field(default_factory=dict)
    tail: Message | None = None


@dataclass(frozen=True)
class Mapped:
    params: dict[str, Any]
    notes: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Alternative:
    """What the advice suggests instead: ``model`` with ``wants`` (one tap makes it)."""

    model: Model
    wants: Wants


class Refused(Exception):
    """The request can't be done as asked; ``message`` is the advice for the user, and
    ``alternative`` the closest thing that can be made, when there is one."""

    def __init__(self, message: Message, alternative: Alternative | None = None) -> None:
        super().__init__(message.key)
        self.message = message
        self.alternative = alternative


_AUDIO_FIELDS = ("generate_audio", "audio", "sound")
_RES_NUMBER = re.compile(r"(\d+)")


def _options(model: Model, name: str) -> tuple[Any, ...]:
    return model.options(name)


def _has(model: Model, name: str) -> bool:
    return model.field(name) is not None or model.virtual_field(name) is not None


def _pick(model: Model, name: str, value: Any) -> Any | None:
    """The model's spelling of ``value`` for a real or virtual field, if it offers it."""
    wanted = normalise(value)
    return next((o for o in _options(model, name) if normalise(o) == wanted), None)


def _resolution_number(value: Any) -> int:
    text = normalise(value)
    if text.endswith("K"):
        return {"2K": 1440, "4K": 2160}.get(text, 2160)
    m = _RES_NUMBER.search(text)
    return int(m.group(1)) if m else 0


def _names(models: Sequence[Model]) -> str:
    return ", ".join(dict.fromkeys(m.name for m in models))


def map_wants(model: Model, wants: Wants, catalog: Catalog) -> Mapped:
    """Parameters for ``model``; raises :class:`Refused` with advice when it can't be done."""
    params: dict[str, Any] = {}
    notes: list[Message] = []
    media = model.task_type.media

    if wants.music_duration is not None and media is MediaKind.MUSIC:
        anyway = Alternative(model, replace(wants, music_duration=None))
        raise Refused(Message("advice.music_length"), anyway)

    most = model.task_type.spec.max_outputs
    if wants.count is not None and wants.count > most:
        notes.append(Message("advice.count", {"max": most}))

    if wants.duration is not None and media is MediaKind.VIDEO:
        choice = _pick(model, "duration", wants.duration)
        if choice is None:
            raise _duration_advice(model, wants, wants.duration, catalog)
        params["duration"] = choice

    if wants.resolution is not None and media is MediaKind.VIDEO:
        field_name = "resolution" if _has(model, "resolution") else "quality"
        offered = _options(model, field_name)
        if offered:
            choice = _pick(model, field_name, wants.resolution)
            if choice is None and wants.strict:
                raise _offered_elsewhere(model, wants, field_name, wants.resolution, catalog)
            if choice is None:
                target = _resolution_number(wants.resolution)
                choice = min(offered, key=lambda o: abs(_resolution_number(o) - target))
                notes.append(
                    Message(
                        "advice.resolution",
                        {
                            "model": model.name,
                            "options": "/".join(str(o) for o in offered),
                            "chosen": choice,
                        },
                    )
                )
            params[field_name] = choice

    if wants.wants_8k:
        raise (
            _eight_k_video_advice(model, wants, catalog)
            if media is MediaKind.VIDEO
            else (_eight_k_advice(wants, catalog))
        )
    if wants.vector:
        raise Refused(Message("advice.no_vector", {}))

    size_field = model.field("size")
    if wants.size is not None and media is MediaKind.IMAGE:
        if wants.strict and _pick(model, "size", wants.size) is None:
            raise _offered_elsewhere(model, wants, "size", wants.size, catalog)
        if size_field is not None:
            choice = _pick(model, "size", wants.size)
            if choice is None:
                sizes = [
                    str(o.value) for o in size_field.options if normalise(o.value)[-1:] in "KX"
                ]
                notes.append(
                    Message(
                        "advice.resolution",
                        {
                            "model": model.name,
                            "options": "/".join(sizes),
                            "chosen": size_field.default,
                        },
                    )
                )
            else:
                params["size"] = choice

    if wants.aspect_ratio is not None and media in (MediaKind.IMAGE, MediaKind.VIDEO):
        choice = _pick(model, "aspect_ratio", wants.aspect_ratio)
        if choice is None:
            raise _ratio_advice(model, wants, wants.aspect_ratio, catalog)
        params["aspect_ratio"] = choice

    if wants.audio is not None and media is MediaKind.VIDEO:
        audio_field = next((f for f in _AUDIO_FIELDS if model.field(f) is not None), None)
        if audio_field is None:
            if wants.audio:
                capable = [m for m in catalog.models if any(m.field(f) for f in _AUDIO_FIELDS)]
                raise Refused(
                    Message("advice.audio", {"model": model.name, "models": _names(capable)}),
                    _first(capable, wants, catalog),
                )
        else:
            default = model.field(audio_field).default  # type: ignore[union-attr]
            if isinstance(default, str):
                params[audio_field] = "on" if wants.audio else "off"
            else:
                params[audio_field] = wants.audio

    if media is MediaKind.MUSIC:
        if wants.instrumental is not None and model.field("make_instrumental") is not None:
            params["make_instrumental"] = wants.instrumental
        if wants.lyrics and model.field("custom_mode") is not None:
            params["custom_mode"] = True
            params["lyrics"] = wants.lyrics
        if wants.vocal_gender and model.field("vocal_gender") is not None:
            params["vocal_gender"] = wants.vocal_gender

    if wants.negative_prompt and model.field("negative_prompt") is not None:
        params["negative_prompt"] = wants.negative_prompt
    if wants.seed is not None and model.field("seed") is not None:
        params["seed"] = wants.seed
    return Mapped(params, tuple(notes))


def _first(models: Sequence[Model], wants: Wants, catalog: Catalog) -> Alternative | None:
    """The model to suggest among ``models``: the recommended one if it is there."""
    if not models:
        return None
    preferred = catalog.find(catalog.task_type.spec.recommended)
    return Alternative(
        preferred if preferred is not None and preferred in models else models[0], wants
    )


def _duration_advice(model: Model, wants: Wants, seconds: int, catalog: Catalog) -> Refused:
    capable = [m for m in catalog.models if _pick(m, "duration", seconds) is not None]
    if capable:
        message = Message(
            "advice.duration",
            {
                "model": model.name,
                "durations": "/".join(str(o) for o in _options(model, "duration")),
                "seconds": seconds,
                "models": _names(capable),
            },
        )
        return Refused(message, _first(capable, wants, catalog))
    longest = max(
        (int(normalise(o)) for m in catalog.models for o in _options(m, "duration")
         if normalise(o).isdigit()),
        default=0,
    )  # fmt: skip
    best = [
        m
        for m in catalog.models
        if any(normalise(o) == str(longest) for o in _options(m, "duration"))
    ]
    with_price = ", ".join(
        f"{m.name} ({quote(m, {'duration': longest}).credits})" for m in best[:3]
    )
    message = Message("advice.duration_none", {"max": longest, "models": with_price})
    return Refused(message, _first(best, replace(wants, duration=longest), catalog))


def _eight_k_advice(wants: Wants, catalog: Catalog) -> Refused:
    """Point at the model and price of the largest image size there is."""
    best: tuple[Model, int] | None = None
    for model in catalog.models:
        if _pick(model, "size", "4K") is not None:
            credits = quote(model, {"size": "4K"}).credits
            if best is None or credits > best[1]:
                best = (model, credits)
    if best is None:
        return Refused(Message("advice.no_8k", {"model": "-", "credits": "-"}))
    four_k = replace(wants, wants_8k=False, size="4K")
    return Refused(
        Message("advice.no_8k", {"model": best[0].name, "credits": best[1]}),
        Alternative(best[0], four_k),
    )


def _eight_k_video_advice(model: Model, wants: Wants, catalog: Catalog) -> Refused:
    """Offer the highest video resolution there is: on ``model`` when it has it, else on the
    first model that does."""

    def resolutions(m: Model) -> tuple[Any, ...]:
        return _options(m, "resolution" if _has(m, "resolution") else "quality")

    highest = max(
        (_resolution_number(o) for m in catalog.models for o in resolutions(m)), default=0
    )
    able = [
        m for m in catalog.models if any(_resolution_number(o) == highest for o in resolutions(m))
    ]
    if not able:
        return Refused(Message("advice.no_8k_video_at_all"))
    best = model if model in able else able[0]
    chosen = next(o for o in resolutions(best) if _resolution_number(o) == highest)
    field_name = "resolution" if _has(best, "resolution") else "quality"
    credits = quote(best, {field_name: chosen}).credits
    values = {"resolution": normalise(chosen), "model": best.name, "credits": credits}
    offered = replace(wants, wants_8k=False, resolution=normalise(chosen))
    return Refused(Message("advice.no_8k_video", values), Alternative(best, offered))


def _offered_elsewhere(
    model: Model, wants: Wants, field_name: str, value: str, catalog: Catalog
) -> Refused:
    """A size or resolution insisted on that ``model`` lacks: the models that offer it; when
    none does, what it offers, and the offer to make it with that."""
    capable = [m for m in catalog.models if _pick(m, field_name, value) is not None]
    offered = "/".join(str(o) for o in _options(model, field_name)) or "—"
    if not capable:
        values = {"model": model.name, "value": normalise(value), "options": offered}
        anyway = Alternative(model, replace(wants, strict=False))
        return Refused(Message("advice.size_none", values), anyway)
    values = {"model": model.name, "value": normalise(value), "models": _names(capable)}
    return Refused(Message("advice.size_elsewhere", values), _first(capable, wants, catalog))


def _ratio_advice(model: Model, wants: Wants, ratio: str, catalog: Catalog) -> Refused:
    """Name the models that offer the ratio; else what this model offers (never invented)."""
    capable = [m for m in catalog.models if _pick(m, "aspect_ratio", ratio) is not None]
    if capable:
        return Refused(
            Message(
                "advice.ratio_elsewhere",
                {"model": model.name, "ratio": ratio, "models": _names(capable)},
            ),
            _first(capable, wants, catalog),
        )
    ratios = [str(o) for o in _options(model, "aspect_ratio") if ":" in str(o)]
    values = {"model": model.name, "ratio": ratio, "ratios": " / ".join(ratios)}
    key = "advice.ratio_none" if ratios else "advice.ratio_none_at_all"
    if model.task_type.media is MediaKind.IMAGE:
        return Refused(Message(key, values, tail=Message("advice.ratio_frame_tip")))
    return Refused(Message(key, values))

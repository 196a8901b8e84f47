"""Answers to questions, from the live catalog and the ledger: nothing here spends anything.

Prices and times per model for a medium, which models do something (a ratio, 4K, sound,
first/last frame, reference pictures, lyrics), what the bot can do, the longest video and the
biggest picture, and how many credits are left under the operator's caps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from core import choice
from core.ima.catalog import Catalog, Model
from core.ima.client import IMAClient
from core.ima.errors import IMAError
from core.ima.rules import normalise, quote
from core.ima.tasks import MediaKind, TaskType
from core.ima.timing import timing_for
from core.jobs import JobState
from core.messages import duration
from core.parse import Quality, QuestionTopic
from core.policy import Policy
from core.store import Store
from core.wants import Message, Refused, Wants, map_wants

#: Models listed in one answer, at most.
MOST = 6
_AUDIO_FIELDS = ("generate_audio", "audio", "sound")
#: The task a medium is asked about as, when nothing else says.
_PLAIN = {
    MediaKind.IMAGE: TaskType.TEXT_TO_IMAGE,
    MediaKind.VIDEO: TaskType.TEXT_TO_VIDEO,
    MediaKind.MUSIC: TaskType.TEXT_TO_MUSIC,
}
#: Features answered by a task type of their own.
_FEATURE_TASKS = {
    "first_last_frame": TaskType.FIRST_LAST_FRAME_TO_VIDEO,
    "reference": TaskType.REFERENCE_IMAGE_TO_VIDEO,
    "image_to_video": TaskType.IMAGE_TO_VIDEO,
    "image_to_image": TaskType.IMAGE_TO_IMAGE,
}

#: Features pictures and videos both have: asked about with no medium, both are answered.
_PICTURES_AND_VIDEOS = ("aspect_ratio", "4k")
#: Features only one medium has: "which models can do sound?" is about videos.
_FEATURE_MEDIA = {
    "audio": MediaKind.VIDEO,
    "lyrics": MediaKind.MUSIC,
    "instrumental": MediaKind.MUSIC,
    "vocals": MediaKind.MUSIC,
}


@dataclass(frozen=True)
class Asked:
    """What a question is about."""

    topic: QuestionTopic
    media: MediaKind | None = None
    feature: str | None = None
    model: str | None = None
    wants: Wants = field(default_factory=Wants)
    #: "Which model is the best / the cheapest (for videos)?"
    quality: Quality | None = None


class Answers:
    def __init__(self, client: IMAClient, store: Store, policy: Policy) -> None:
        self._client = client
        self._store = store
        self._policy = policy

    async def answer(
        self, asked: Asked, *, platform: str, user_id: str, chat_id: str, now: float, admin: bool
    ) -> list[Message]:
        """The sentences answering ``asked``."""
        topic = asked.topic
        if topic is QuestionTopic.CREDITS:  # how credits work, and this person's today
            how = Message("answer.credits_how")
            return [how, *await self.credits(platform, user_id, chat_id, now, admin=admin)]
        if topic is QuestionTopic.ABOUT_INPUT or (
            topic is QuestionTopic.OTHER and asked.quality is None
        ):
            return [Message(f"answer.{topic.value}")]
        vague = asked.media is None and asked.model is None and asked.feature is None
        if vague and topic is QuestionTopic.CAPABILITIES and asked.quality is None:
            return [Message("help.text")]
        if vague and topic is QuestionTopic.MODELS and asked.quality is None:
            return await self._every_model()
        if asked.media is None and asked.model is None and asked.feature in _PICTURES_AND_VIDEOS:
            return await self._capable_per_medium(asked)
        catalog, model = await self._subject(asked)
        if catalog is None:
            return [Message("help.text")]
        if topic is QuestionTopic.PRICE:
            return self._prices(catalog, model, asked.wants)
        if topic is QuestionTopic.TIME:
            return self._times(catalog, model)
        if topic is QuestionTopic.LIMITS or asked.feature == "count":
            return await self._limits(catalog)
        if asked.quality is not None and model is None and asked.feature is None:
            return _by_quality(catalog, asked.quality)
        return self._capable(catalog, model, asked)

    async def credits(
        self, platform: str, user_id: str, chat_id: str, now: float, *, admin: bool
    ) -> list[Message]:
        """The credits used in the caps' window and what remains under each cap, when they
        reset, and the person's jobs being made and waiting."""
        caps = await self._policy.caps_in(self._store, platform, chat_id, admin=admin)
        window = caps.window
        since = window.start(now)
        per, this = Message(f"window.per_{window}"), Message(f"window.this_{window}")
        mine = await self._store.spent(since, platform, user_id=user_id)
        lines = [Message("answer.credits_used", {"credits": mine, "this": this})]
        if not caps.credits_capped:
            lines.append(Message("answer.credits_no_cap"))
        if caps.user_credits is not None:
            left = max(0, caps.user_credits - mine)
            values = {"cap": caps.user_credits, "left": left, "per": per}
            lines.append(Message("answer.credits_user_cap", values))
        if caps.chat_credits is not None:
            chat = await self._store.spent(since, platform, chat_id=chat_id)
            left = max(0, caps.chat_credits - chat)
            values = {"cap": caps.chat_credits, "left": left, "per": per}
            lines.append(Message("answer.credits_chat_cap", values))
        if caps.credits_capped:
            reset = duration(window.end(now) - now)
            lines.append(Message("answer.credits_reset", {"reset": reset}))
        counts = await self._store.active_counts(platform, user_id)
        queued = counts.pop(JobState.QUEUED, 0)
        running = sum(counts.values())
        if queued or running:
            lines.append(Message("answer.credits_jobs", {"running": running, "queued": queued}))
        return lines

    async def _every_model(self) -> list[Message]:
        """The models of each medium, the recommended one first."""
        lines = [Message("answer.models_title")]
        for task_type in _PLAIN.values():
            try:
                catalog = await self._client.catalog(task_type)
            except IMAError:
                continue
            names = _join([m.name for m in _ordered(catalog)][:MOST])
            kind = Message(f"media.{task_type.media.value}")
            lines.append(Message("answer.models_line", {"kind": kind, "models": names}))
        return lines if len(lines) > 1 else [Message("help.text")]

    async def _subject(self, asked: Asked) -> tuple[Catalog | None, Model | None]:
        """The catalog the question is about, and the model it names (if any)."""
        task_type = _FEATURE_TASKS.get(asked.feature or "")
        media = asked.media
        if media is None and asked.model is None:
            media = _FEATURE_MEDIA.get(asked.feature or "")
        if task_type is None and media is not None:
            task_type = _PLAIN[media]
        candidates = [task_type] if task_type is not None else list(_PLAIN.values())
        for candidate in candidates:
            try:
                catalog = await self._client.catalog(candidate)
            except IMAError:
                continue
            model = catalog.find(asked.model) if asked.model else None
            if model is not None or task_type is not None or asked.model is None:
                return catalog, model
        return None, None

    async def _capable_per_medium(self, asked: Asked) -> list[Message]:
        """ "Which models do 21:9?" with no medium said: the pictures' and the videos'."""
        label = _label(asked.feature, asked.wants)
        test = _feature_test(asked.feature, asked.wants)
        lines = [Message("answer.models_can_title", {"feature": label})]
        for media in (MediaKind.IMAGE, MediaKind.VIDEO):
            try:
                catalog = await self._client.catalog(_PLAIN[media])
            except IMAError:
                continue
            capable = [m.name for m in _ordered(catalog) if test is None or test(m)]
            names = _join(capable[:MOST]) if capable else Message("answer.no_model")
            kind = Message(f"media.{media.value}")
            lines.append(Message("answer.models_line", {"kind": kind, "models": names}))
        return lines if len(lines) > 1 else [Message("help.text")]

    def _prices(self, catalog: Catalog, model: Model | None, wants: Wants) -> list[Message]:
        kind = Message(f"kind.{catalog.task_type.value}")
        models = [model] if model is not None else _ordered(catalog)
        lines = [Message("answer.prices", {"kind": kind})]
        for candidate in models[:MOST]:
            if wants.to_json():
                try:
                    params = map_wants(candidate, wants, catalog).params
                except Refused:
                    continue
                credits = str(quote(candidate, params).credits)
            else:
                low, high = candidate.min_points, candidate.max_points
                credits = str(low) if low == high else f"{low}–{high}"
            lines.append(
                Message("answer.price_line", {"model": candidate.name, "credits": credits})
            )
        return lines + _more(models)

    def _times(self, catalog: Catalog, model: Model | None) -> list[Message]:
        kind = Message(f"kind.{catalog.task_type.value}")
        models = [model] if model is not None else _ordered(catalog)
        lines = [Message("answer.times", {"kind": kind})]
        for candidate in models[:MOST]:
            timing = timing_for(candidate)
            lines.append(
                Message(
                    "answer.time_line",
                    {
                        "model": candidate.name,
                        "low": timing.estimate_low,
                        "high": timing.estimate_high,
                    },
                )
            )
        return lines + _more(models)

    async def _limits(self, catalog: Catalog) -> list[Message]:
        lines: list[Message] = []
        media = catalog.task_type.media
        if media is MediaKind.VIDEO:
            longest, which = _longest(catalog)
            lines.append(Message("answer.longest_video", {"seconds": longest, "models": which}))
        elif media is MediaKind.IMAGE:
            biggest = [m.name for m in catalog.models if _offers(m, "size", "4K")]
            lines.append(Message("answer.biggest_picture", {"models": _join(biggest)}))
        else:
            lines.append(Message("advice.music_length"))
        most = catalog.task_type.spec.max_outputs
        lines.append(Message("answer.most_outputs", {"count": most}))
        return lines

    def _capable(self, catalog: Catalog, model: Model | None, asked: Asked) -> list[Message]:
        """Which models do what was asked about (or, with a model named, whether it does)."""
        feature = asked.feature
        test = _feature_test(feature, asked.wants)
        if test is None:  # what the bot can do with this medium at all
            kind = Message(f"kind.{catalog.task_type.value}")
            best = choice.best(catalog)
            return [
                Message(
                    "answer.can_make",
                    {
                        "kind": kind,
                        "models": _join([m.name for m in _ordered(catalog)][:MOST]),
                        "best": best.name if best else "-",
                    },
                )
            ]
        capable = [m.name for m in _ordered(catalog) if test(m)]
        label = _label(feature, asked.wants)
        if model is not None:
            key = "answer.model_can" if test(model) else "answer.model_cannot"
            lines = [Message(key, {"model": model.name, "feature": label})]
            if not test(model) and capable:
                lines.append(Message("answer.models_that_can", {"models": _join(capable[:MOST])}))
            return lines
        if not capable:
            return [Message("answer.none_can", {"feature": label})]
        return [Message("answer.models_can", {"feature": label, "models": _join(capable[:MOST])})]


def _label(feature: str | None, wants: Wants) -> Message:
    """What a feature asked about is called, with the value asked when there is one ("21:9",
    "10 seconds")."""
    if feature == "aspect_ratio" and wants.aspect_ratio:
        return Message("answer.feature.ratio_of", {"ratio": wants.aspect_ratio})
    if feature == "duration" and wants.duration:
        return Message("answer.feature.duration_of", {"seconds": wants.duration})
    return Message(f"answer.feature.{feature}") if feature else Message("answer.feature.that")


def _by_quality(catalog: Catalog, quality: Quality) -> list[Message]:
    """ "Which is the cheapest (the best) model for videos?": that model and its price."""
    found = choice.cheapest(catalog) if quality is Quality.CHEAPEST else choice.best(catalog)
    if found is None:
        return [Message("help.text")]
    values = {
        "kind": Message(f"kind.{catalog.task_type.value}"),
        "model": found.name,
        "credits": quote(found, {}).credits,  # as it would be used: its form's defaults
    }
    return [Message(f"answer.{quality.value}", values)]


def _more(listed: Sequence[Model]) -> list[Message]:
    """The models an answer left out, by name (so none seems missing from the catalog)."""
    rest = [m.name for m in listed[MOST:]]
    return [Message("answer.more", {"models": _join(rest)})] if rest else []


def _ordered(catalog: Catalog) -> list[Model]:
    """The recommended model first, then the catalog's order."""
    first = choice.recommended(catalog)
    ordered = [first] if first is not None else []
    return ordered + [m for m in catalog.models if m != first]


def _offers(model: Model, name: str, value: object) -> bool:
    wanted = normalise(value)
    return any(normalise(o) == wanted for o in model.options(name))


def _longest(catalog: Catalog) -> tuple[int, str]:
    durations = {
        m.name: max((int(normalise(o)) for o in m.options("duration") if normalise(o).isdigit()),
                    default=0)
        for m in catalog.models
    }  # fmt: skip
    longest = max(durations.values(), default=0)
    return longest, _join([name for name, d in durations.items() if d == longest][:MOST])


Test = Callable[[Model], bool]


def _feature_test(feature: str | None, wants: Wants) -> Test | None:
    """A test of whether a model has ``feature``, or None when nothing specific is asked."""
    ratio = wants.aspect_ratio
    tests: dict[str, Test | None] = {
        "aspect_ratio": (lambda m: _offers(m, "aspect_ratio", ratio)) if ratio else None,
        "4k": lambda m: _offers(m, "size", "4K") or _offers(m, "resolution", "4K"),
        "audio": lambda m: any(m.field(f) is not None for f in _AUDIO_FIELDS),
        "lyrics": lambda m: m.field("lyrics") is not None or m.field("custom_mode") is not None,
        "instrumental": lambda m: m.field("make_instrumental") is not None,
        "duration": (
            (lambda m: _offers(m, "duration", wants.duration)) if wants.duration else None
        ),
    }
    if feature in _FEATURE_TASKS:
        return lambda m: True  # every model of that task's catalog does it
    return tests.get(feature or "")


def _join(names: Sequence[str]) -> str:
    return ", ".join(dict.fromkeys(names)) or "-"

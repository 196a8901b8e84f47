"""Every sentence the engine says, built from the locale catalogs: the four steps and the rest.

Only model names, times, credits, results and plain words go in. Technical details (error codes,
server messages) never reach these functions; errors arrive as locale keys.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from core.actions import Action, Verb, encode
from core.i18n import Translator
from core.ima.catalog import Model
from core.ima.tasks import MEDIA, MediaKind, TaskType
from core.jobs import Job, ModelSource
from core.replier import Button, Reply, ResultMedia, Stage
from core.wants import Message


@dataclass(frozen=True)
class Offer:
    """A model to suggest, with its price for this request."""

    model: Model
    credits: int
    tag: str | None = None  # "budget" / "premium" / "popular"


def _job_reply(
    job: Job,
    stage: Stage,
    lines: Sequence[str],
    buttons: Sequence[Button] = (),
    media: Sequence[ResultMedia] = (),
) -> Reply:
    """One step of a job's message: keyed by job and step, in the job's language."""
    return Reply(
        stage,
        "\n".join(lines),
        tuple(buttons),
        tuple(media),
        key=f"{job.id}:{stage.value}",
        user_id=job.user_id,
        locale=job.locale,
    )


def _timed(key: str, estimate: tuple[int, int]) -> str:
    """The message key: a range ("12~20s"), or "about" for an estimate of a single number."""
    return f"{key}_about" if estimate[0] == estimate[1] else key


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(seconds: float) -> Message:
    """A wait in the largest unit that reads naturally: minutes, hours or days."""
    minutes = max(1, math.ceil(seconds / 60))
    if minutes < 60:
        return Message("time.minutes", {"n": minutes})
    hours = round(seconds / 3600)
    if hours < 48:
        return Message("time.hours", {"n": hours})
    return Message("time.days", {"n": round(seconds / 86400)})


def progress_percent(elapsed: float, estimate_high: float) -> int:
    """The spec's formula: P = min(95, floor(elapsed / estimated_max × 100))."""
    return min(95, math.floor(elapsed / max(estimate_high, 1) * 100))


class Messages:
    def __init__(self, translator: Translator) -> None:
        self._t = translator

    def text(self, locale: str, message: Message) -> str:
        """``message`` in ``locale``; values that are messages themselves are worded too."""
        values = {
            k: self.text(locale, v) if isinstance(v, Message) else v
            for k, v in message.values.items()
        }
        text = self._t.t(locale, message.key, **values)
        return f"{text} {self.text(locale, message.tail)}" if message.tail else text

    def info(self, locale: str, *lines: Message, buttons: Sequence[Button] = ()) -> Reply:
        text = "\n".join(self.text(locale, m) for m in lines)
        return Reply(Stage.INFO, text, tuple(buttons), locale=locale)

    def question(self, locale: str, *lines: Message, buttons: Sequence[Button] = ()) -> Reply:
        text = "\n".join(self.text(locale, m) for m in lines)
        return Reply(Stage.QUESTION, text, tuple(buttons), locale=locale)

    def join(self, locale: str, items: Sequence[str]) -> str:
        """A list in running text: "a, b" / "a、b"."""
        return ("、" if locale == "zh" else ", ").join(items)

    def kind(self, locale: str, task_type: TaskType) -> str:
        return self._t.t(locale, f"kind.{task_type.value}")

    def media(self, locale: str, media: MediaKind) -> str:
        return self._t.t(locale, f"media.{media.value}")

    # ── step 1: before ────────────────────────────────────────────────────────────────────

    def before(
        self,
        job: Job,
        *,
        estimate: tuple[int, int],
        each: int,
        notes: Sequence[Message] = (),
        cheaper: Offer | None = None,
    ) -> Reply:
        t, loc = self._t, job.locale
        media = job.task_type.media
        lines = [self.text(loc, n) for n in notes]
        lines.append(t.t(loc, f"before.{media.value}"))
        if job.source in _USUAL:
            lines.append(t.t(loc, "before.usual", model=job.model_name))
        lines += self._details(job, estimate, each)
        if job.source is ModelSource.BEST:
            lines.append(t.t(loc, "before.premium", model=job.model_name))
        elif job.source is ModelSource.CHEAPEST:
            lines.append(t.t(loc, "before.budget", model=job.model_name))
        elif cheaper is not None:
            lines.append(
                t.t(loc, "before.cheaper", model=cheaper.model.name, credits=cheaper.credits)
            )
        if media is MediaKind.VIDEO:
            lines.append(t.t(loc, "before.video_note"))
        return _job_reply(job, Stage.BEFORE, lines)

    def _details(self, job: Job, estimate: tuple[int, int], each: int) -> list[str]:
        """Model, time and credits, as the first message lists them."""
        t, loc = self._t, job.locale
        key = "before.model_usual" if job.source in _USUAL else "before.model"
        lines = [t.t(loc, key, model=job.model_name)]
        lines.append(t.t(loc, _timed("before.time", estimate), low=estimate[0], high=estimate[1]))
        if job.n > 1:
            lines.append(t.t(loc, "before.credits_n", credits=job.credits, each=each, n=job.n))
        else:
            lines.append(t.t(loc, "before.credits", credits=job.credits))
        return lines

    # ── step 0: waiting for a slot ────────────────────────────────────────────────────────

    def queued(
        self,
        job: Job,
        *,
        position: int,
        wait: float,
        estimate: tuple[int, int],
        each: int,
        notes: Sequence[Message] = (),
    ) -> Reply:
        """A job waiting its turn: its place, when it should start, and a button to leave."""
        t, loc = self._t, job.locale
        lines = [self.text(loc, n) for n in notes]
        lines.append(t.t(loc, f"queue.{job.task_type.media.value}"))
        lines.append(t.t(loc, "queue.position", position=position))
        minutes = math.ceil(wait / 60)
        if minutes <= 1:
            lines.append(t.t(loc, "queue.starts_soon"))
        else:
            lines.append(t.t(loc, "queue.starts_in", minutes=minutes))
        lines += self._details(job, estimate, each)
        lines.append(t.t(loc, "queue.note"))
        leave = _button(t.t(loc, "button.leave_queue"), Action(Verb.UNQUEUE, job.id))
        return _job_reply(job, Stage.BEFORE, lines, [leave])

    def left_queue(self, job: Job) -> Reply:
        """The person took their waiting job out of the queue."""
        return _job_reply(
            job,
            Stage.FAILURE,
            [self._t.t(job.locale, f"queue.cancelled_{job.task_type.media.value}")],
        )

    # ── step 2: progress ──────────────────────────────────────────────────────────────────

    def progress(self, job: Job, *, elapsed: float, estimate: tuple[int, int]) -> Reply:
        t, loc = self._t, job.locale
        high = estimate[1]
        lines = [
            t.t(loc, "progress.running", percent=progress_percent(elapsed, high)),
            t.t(loc, "progress.waited", elapsed=int(elapsed), max=high),
        ]
        if elapsed > high:
            lines.append(t.t(loc, "progress.almost"))
        return _job_reply(job, Stage.PROGRESS, lines)

    # ── step 3: success ───────────────────────────────────────────────────────────────────

    def success(
        self,
        job: Job,
        *,
        estimate: tuple[int, int],
        actual: float,
        media: Sequence[tuple[str, str | None]],
    ) -> Reply:
        t, loc = self._t, job.locale
        kind = job.task_type.media
        lines = [
            t.t(loc, f"success.{kind.value}"),
            t.t(loc, "success.model", model=job.model_name),
            t.t(
                loc,
                _timed("success.time", estimate),
                low=estimate[0],
                high=estimate[1],
                actual=max(1, round(actual)),
            ),
            t.t(loc, "success.credits", credits=job.credits),
        ]
        results = tuple(
            ResultMedia(
                url=url,
                kind=kind,
                cover_url=cover,
                filename=_filename(job, i),
            )
            for i, (url, cover) in enumerate(media)
        )
        return _job_reply(
            job, Stage.SUCCESS, lines, self.result_buttons(job, len(results)), results
        )

    def result_buttons(self, job: Job, count: int) -> list[Button]:
        """What people do next with a result: vary or animate a picture, use it as a video
        frame, give a picture or a video a soundtrack."""
        t, loc = self._t, job.locale
        buttons: list[Button] = []
        if job.task_type.spec.result_is_picture:
            for verb in _PICTURE_VERBS:
                for i in range(count):
                    label = t.t(loc, f"button.{verb.name.lower()}", n=i + 1 if count > 1 else "")
                    buttons.append(_button(label.strip(), Action(verb, job.id, index=i)))
        if job.task_type.media is not MediaKind.MUSIC:
            label = t.t(loc, "button.soundtrack")
            buttons.append(_button(label, Action(Verb.SOUNDTRACK, job.id, index=0)))
        return buttons

    def recall(self, job: Job) -> Reply:
        """A result shown again from the history: what it is, what it cost, the media."""
        t, loc = self._t, job.locale
        lines = [
            t.t(loc, f"history.{job.task_type.media.value}", prompt=_short(job.prompt, 300)),
            t.t(loc, "success.model", model=job.model_name),
            t.t(loc, "success.credits", credits=job.credits),
        ]
        kind = job.task_type.media
        media = tuple(
            ResultMedia(url, kind, cover, _filename(job, i))
            for i, (url, cover) in enumerate(
                zip(
                    job.result_urls,
                    job.result_covers or [None] * len(job.result_urls),
                    strict=False,
                )
            )
        )
        buttons = tuple(self.result_buttons(job, len(media)))
        return Reply(
            Stage.SUCCESS, "\n".join(lines), buttons, media, user_id=job.user_id, locale=loc
        )

    def history(self, locale: str, jobs: Sequence[Job]) -> Reply:
        lines = [self._t.t(locale, "history.title")]
        buttons = []
        for n, job in enumerate(jobs, start=1):
            lines.append(
                self._t.t(
                    locale,
                    "history.line",
                    n=n,
                    prompt=_short(job.prompt, 40),
                    model=job.model_name,
                    credits=job.credits,
                )
            )
            label = self._t.t(locale, "button.show", n=n)
            buttons.append(_button(label, Action(Verb.SHOW, job.id, index=0)))
        return Reply(Stage.INFO, "\n".join(lines), tuple(buttons), locale=locale)

    # ── step 4: failure ───────────────────────────────────────────────────────────────────

    def failure(
        self,
        job: Job,
        *,
        reason_key: str,
        offers: Sequence[Offer],
        retry_same: bool,
    ) -> Reply:
        t, loc = self._t, job.locale
        lines = [
            t.t(loc, f"failure.{job.task_type.media.value}"),
            t.t(loc, "failure.reason", reason=t.t(loc, reason_key)),
        ]
        buttons: list[Button] = []
        if offers:
            lines.append(t.t(loc, "failure.suggest"))
            for offer in offers:
                tag = t.t(loc, f"tag.{offer.tag}") if offer.tag else ""
                lines.append(
                    t.t(
                        loc,
                        "failure.alternative",
                        model=offer.model.name,
                        credits=offer.credits,
                        tag=tag,
                    )
                )
                label = t.t(loc, "button.retry_with", model=offer.model.name)
                buttons.append(_button(label, Action.retry(job.id, offer.model.version_id)))
            lines.append(t.t(loc, "failure.offer"))
        if retry_same:
            buttons.append(_button(t.t(loc, "button.retry_same"), Action.retry(job.id)))
        return _job_reply(job, Stage.FAILURE, lines, buttons)

    def cancelled(self, job: Job) -> Reply:
        return self._ended(job, "failure.cancelled")

    def maybe_made(self, job: Job, reason_key: str | None = None) -> Reply:
        """The create may have reached IMA but its answer never came back (``reason_key``: the
        error; None: the bot was stopped meanwhile): it may have been made and charged. No
        button: making it again could charge twice."""
        if reason_key is None:
            return self._ended(job, "failure.maybe_made")
        t, loc = self._t, job.locale
        lines = [
            t.t(loc, f"failure.{job.task_type.media.value}"),
            t.t(loc, "failure.reason", reason=t.t(loc, reason_key)),
            t.t(loc, "failure.maybe_charged"),
        ]
        return _job_reply(job, Stage.FAILURE, lines)

    def price_changed(self, job: Job, credits: int) -> Reply:
        """IMA asks more than the person was shown: one tap makes it at the new price."""
        t, loc = self._t, job.locale
        lines = [
            t.t(loc, f"failure.{job.task_type.media.value}"),
            t.t(loc, "failure.price_changed", model=job.model_name, old=job.credits, new=credits),
        ]
        retry = _button(t.t(loc, "button.retry_price", credits=credits), Action.retry(job.id))
        return _job_reply(job, Stage.FAILURE, lines, [retry])

    def _ended(self, job: Job, reason_key: str, *buttons: Button) -> Reply:
        """A job that stopped without an error of its own (cancelled, interrupted)."""
        lines = [
            self._t.t(job.locale, f"failure.{job.task_type.media.value}"),
            self._t.t(job.locale, reason_key),
        ]
        return _job_reply(job, Stage.FAILURE, lines, buttons)

    def pick_buttons(self, locale: str, job_id: str, offers: Sequence[Offer]) -> list[Button]:
        return [
            _button(
                self._t.t(locale, "button.pick", model=o.model.name, credits=o.credits),
                Action.retry(job_id, o.model.version_id),
            )
            for o in offers
        ]

    def proposal_buttons(self, locale: str, proposal_id: str, credits: int) -> list[Button]:
        return [
            _button(
                self._t.t(locale, "button.go", credits=credits), Action(Verb.CONFIRM, proposal_id)
            ),
            _button(self._t.t(locale, "button.no_thanks"), Action(Verb.CANCEL, proposal_id)),
        ]

    def save_question(self, job: Job, *, old: str | None, new: str) -> Reply:
        """ "Make it your default?" after a result (``old``: the default it would replace): a
        message of its own, for the person only (where the platform can show one: the result
        itself may be in a shared chat)."""
        t, loc = self._t, job.locale
        buttons = [
            _button(t.t(loc, "button.save_yes"), Action(Verb.SAVE, job.id)),
            _button(t.t(loc, "button.save_no"), Action(Verb.KEEP, job.id)),
        ]
        if old is None:
            kinds = t.t(loc, f"kind.{job.task_type.value}")
            lines = [t.t(loc, "pref.ask_save_first", new=new, kinds=kinds)]
        else:
            lines = [t.t(loc, "pref.ask_save", old=old, new=new)]
        return dataclasses.replace(_job_reply(job, Stage.QUESTION, lines, buttons), private=True)


_PICTURE_VERBS = (Verb.VARY, Verb.ANIMATE, Verb.FRAME)
#: The model is the person's usual one, chosen or saved because they used it.
_USUAL = (ModelSource.PREFERENCE, ModelSource.USED)


def _button(label: str, action: Action) -> Button:
    return Button(label, encode(action))


def _filename(job: Job, index: int) -> str:
    kind = job.task_type.media
    return f"{kind.value}-{job.id}-{index + 1}.{MEDIA[kind].extension}"

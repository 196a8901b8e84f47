"""Carrying on from a result: what a result's button, a reply to it or an edit asks next.

Everything here turns an earlier job (the *origin*) and what the person said or pressed into a
:class:`~core.planning.Draft`; the draft then takes the same planning path as a new message.
"""

from __future__ import annotations

from dataclasses import replace

from core.actions import Verb
from core.ima.tasks import MediaKind, TaskType
from core.jobs import Job, JobState
from core.parse import EditKind
from core.planning import Draft, Pick, Remembered
from core.request import Attachment
from core.wants import Wants

#: What a result's button makes from a picture (or any result, for a soundtrack).
_BUTTON_TASKS = {
    Verb.VARY: TaskType.IMAGE_TO_IMAGE,
    Verb.ANIMATE: TaskType.IMAGE_TO_VIDEO,
    Verb.SOUNDTRACK: TaskType.TEXT_TO_MUSIC,
}


def soundtrack_prompt(prompt: str, extra: str = "") -> str:
    """The description of music for a picture or a video, built from what it shows."""
    return f"Background music for: {prompt}" + (f". {extra}" if extra else "")


def result_url(origin: Job, index: int) -> str:
    return origin.result_urls[min(max(index, 0), len(origin.result_urls) - 1)]


def from_button(verb: Verb, origin: Job, index: int) -> Draft:
    """Vary, animate or score one of ``origin``'s results."""
    task_type = _BUTTON_TASKS[verb]
    if task_type is TaskType.TEXT_TO_MUSIC:
        return Draft(task_type, soundtrack_prompt(origin.prompt), origin_id=origin.id)
    return Draft(
        task_type, origin.prompt, image_urls=(result_url(origin, index),), origin_id=origin.id
    )


def from_frames(first_url: str, first_prompt: str, origin: Job, index: int) -> Draft:
    """A video from a first frame picked earlier to one of ``origin``'s pictures."""
    return Draft(
        TaskType.FIRST_LAST_FRAME_TO_VIDEO,
        f"{first_prompt} → {origin.prompt}",
        image_urls=(first_url, result_url(origin, index)),
        origin_id=origin.id,
    )


def from_words(
    origin: Job,
    text: str,
    wanted: MediaKind | None,
    wants: Wants,
    pick: Pick,
    *,
    premium: bool = False,
) -> Draft:
    """A message replying to a result: "bluer", "让它动起来", "配个音乐"."""
    source = origin.task_type.media
    if wanted is MediaKind.MUSIC and source is not MediaKind.MUSIC:
        task_type, prompt = TaskType.TEXT_TO_MUSIC, soundtrack_prompt(origin.prompt, text)
        images: tuple[str, ...] = ()
    elif source is MediaKind.IMAGE:
        video = wanted is MediaKind.VIDEO
        task_type = TaskType.IMAGE_TO_VIDEO if video else TaskType.IMAGE_TO_IMAGE
        prompt, images = text or origin.prompt, origin.result_urls[:1]
    else:  # change a video or a song: the same kind again, described anew
        task_type = TaskType.TEXT_TO_MUSIC if source is MediaKind.MUSIC else TaskType.TEXT_TO_VIDEO
        prompt, images = f"{origin.prompt}, {text}" if text else origin.prompt, ()
    return Draft(
        task_type, prompt, wants, image_urls=images, pick=pick, premium=premium, origin_id=origin.id
    )


def from_edit(
    origin: Job,
    kind: EditKind,
    text: str,
    wanted: MediaKind | None,
    wants: Wants,
    pick: Pick,
    *,
    premium: bool = False,
) -> Draft:
    """An edit of the last result, quoted or not: new parameters or more of the same ("竖屏的",
    "make it 10s", "3 more") are the same request with those wishes on top (a new format or
    size insisted on: see :attr:`Wants.strict`); a change of content or medium ("add a moon",
    "让它动起来") carries on from the result as a reply does."""
    if kind in (EditKind.PARAMS, EditKind.MORE):
        draft = again(origin, pick)
        if kind is EditKind.PARAMS and (wants.aspect_ratio or wants.size or wants.resolution):
            # the new format is the whole request: made without it, it is the same again
            wants = replace(wants, strict=True)
        return replace(draft, wants=wants.over(draft.wants), premium=premium)
    medium = wanted if kind is EditKind.MEDIA else None
    return from_words(origin, text, medium, wants, pick, premium=premium)


def editable(origin: Job) -> bool:
    """Whether ``origin`` can be carried on from: it was delivered with results to show."""
    return origin.state is JobState.DELIVERED and bool(origin.result_urls)


def again(origin: Job, pick: Pick = None) -> Draft:
    """``origin``'s request once more: with its own model unless ``pick`` says otherwise."""
    if pick is None:
        pick = Remembered(origin.version_id, origin.model_id, origin.model_name, origin.source)
    return Draft(
        origin.task_type,
        origin.prompt,
        Wants.from_json(origin.wants),
        attachments=tuple(Attachment(**a) for a in origin.attachments),
        image_urls=origin.image_urls,
        pick=pick,
        origin_id=origin.id,
    )

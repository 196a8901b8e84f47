"""What a button does, as a typed value, and its one spelling on every platform.

A button carries :func:`encode` of an :class:`Action` (a Discord ``custom_id`` after the
adapter's prefix, a Feishu card button's value); a press hands the string back and
:func:`decode` reads it. The spelling is short and strict: at most :data:`MAX_BYTES` bytes
(Telegram's ``callback_data`` limit, the smallest of the platforms), and anything that does not
decode exactly — a crafted or stale id — is ``None``, which the engine answers with "this button
no longer works".

``verb:job[:argument]``, where the argument is a result's index, or the first eight hex digits
of a model version's SHA-1 for "retry with this model" (version ids can be 30 characters long;
the job's live catalog resolves the digest).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum

#: Telegram allows 64 bytes of callback data; Discord 100 characters of custom id.
MAX_BYTES = 64


class Verb(StrEnum):
    #: Make the job's request again: with the same model, or the model of ``model``.
    RETRY = "r"
    #: Show one of the person's results again (from the history).
    SHOW = "s"
    VARY = "v"
    ANIMATE = "a"
    #: Use a picture result as a video frame (twice: first, then last).
    FRAME = "f"
    SOUNDTRACK = "m"
    #: Answers to "make it your default?" after a job with another model than the saved one.
    SAVE = "y"
    KEEP = "n"
    #: Go ahead with what the bot proposed and priced (a confirmation it asked for).
    CONFIRM = "c"
    #: Drop what the bot proposed.
    CANCEL = "x"
    #: Take a job that waits for its turn out of the queue (its owner, or an admin).
    UNQUEUE = "q"


#: Verbs whose argument is a result index.
INDEXED = frozenset({Verb.SHOW, Verb.VARY, Verb.ANIMATE, Verb.FRAME, Verb.SOUNDTRACK})

_ID = r"[A-Za-z0-9_-]{1,24}"
_PATTERN = re.compile(rf"(?P<verb>[a-z]):(?P<subject>{_ID})(?::(?P<arg>[0-9a-f]{{1,8}}))?")


@dataclass(frozen=True)
class Action:
    verb: Verb
    #: The job (or pending proposal) the button belongs to.
    subject: str
    #: A result index, 0-99 (for :data:`INDEXED` verbs).
    index: int | None = None
    #: A model version digest (:func:`model_digest`), for :attr:`Verb.RETRY` with another model.
    model: str | None = None

    @classmethod
    def retry(cls, job_id: str, version_id: str | None = None) -> Action:
        return cls(Verb.RETRY, job_id, model=model_digest(version_id) if version_id else None)


def model_digest(version_id: str) -> str:
    return hashlib.sha1(version_id.encode()).hexdigest()[:8]  # noqa: S324 - an id, not security


def encode(action: Action) -> str:
    parts = [action.verb.value, action.subject]
    if action.index is not None:
        parts.append(str(action.index))
    elif action.model is not None:
        parts.append(action.model)
    text = ":".join(parts)
    if decode(text) != action:
        raise ValueError(f"not an encodable action: {action!r}")
    return text


def decode(text: str) -> Action | None:
    """The action a button carried, or None for anything malformed."""
    if len(text.encode()) > MAX_BYTES:
        return None
    match = _PATTERN.fullmatch(text)
    if match is None:
        return None
    try:
        verb = Verb(match["verb"])
    except ValueError:
        return None
    arg = match["arg"]
    if verb in INDEXED:
        if arg is None or not arg.isdigit() or len(arg) > 2 or (len(arg) > 1 and arg[0] == "0"):
            return None
        return Action(verb, match["subject"], index=int(arg))
    if verb is Verb.RETRY:
        if arg is not None and len(arg) != 8:
            return None
        return Action(verb, match["subject"], model=arg)
    if arg is not None:
        return None
    return Action(verb, match["subject"])

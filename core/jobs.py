"""A generation job and its states.

::

    queued ─slot─▶ accepted ─sent─▶ creating ─task id─▶ running ─result─▶ delivering ─▶ delivered
      │               │                │                   │                  │
      └─ cancelled ◀──┘                └──── failed ◀──────┴──────────────────┘

Each arrow is one store transition (:class:`core.store.Store`), written before the step it
names happens, so a restart knows exactly what may have happened:

* ``queued``: admitted (its credits reserved) and waiting for a free slot: the person's, the
  chat's and the bot's limits of jobs at IMA at once (:class:`core.limits.Caps`). The store
  gives it a slot (``accepted``) in one transaction; a restart leaves it waiting.
* ``accepted``: the create was never sent. Safe to send now, after a restart too.
* ``creating``: the create may have reached IMA. It is never sent again (that could charge
  twice); a restart tells the person it may have been made and keeps its credits counted.
* ``running``: IMA has the task (its id is stored): a restart polls it and delivers it.
* ``delivering``: the result may already be on screen: a restart shows it again only by editing
  the same message, never by a second, notifying one.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.ima.tasks import TaskType
from core.replier import Handle


class JobState(StrEnum):
    QUEUED = "queued"
    ACCEPTED = "accepted"
    CREATING = "creating"
    RUNNING = "running"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in ACTIVE


ACTIVE = frozenset(
    {JobState.QUEUED, JobState.ACCEPTED, JobState.CREATING, JobState.RUNNING, JobState.DELIVERING}
)
#: States that hold a slot: the job is at IMA or about to be sent there.
HOLDING = frozenset({JobState.ACCEPTED, JobState.CREATING, JobState.RUNNING})
#: States whose credits are given back when the job is cancelled: nothing was sent.
UNSENT = frozenset({JobState.QUEUED, JobState.ACCEPTED})


class ModelSource(StrEnum):
    """Why this model was used: it decides what the first message says and what is saved."""

    EXPLICIT = "explicit"
    ALWAYS = "always"
    PREFERENCE = "preference"
    #: The person's usual model, saved because they used it (not chosen): like the default,
    #: one that can do what was asked may replace it.
    USED = "used"
    DEFAULT = "default"
    #: The default couldn't do what was asked (sound, a format, a length): one that can was used.
    FITTED = "fitted"
    BEST = "best"
    CHEAPEST = "cheapest"


#: Letters and digits only: an id is typed after commands (``ima-bot admin cancel <id>``), where
#: one starting with "-" would read as an option.
_ID_ALPHABET = string.ascii_letters + string.digits


def new_job_id() -> str:
    """Short (12 characters, 71 random bits), URL- and button-safe, unguessable."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


@dataclass
class Job:
    id: str
    platform: str
    user_id: str
    chat_id: str
    locale: str
    task_type: TaskType
    version_id: str
    model_id: str
    model_name: str
    prompt: str
    params: Mapping[str, Any]
    n: int
    credits: int
    source: ModelSource
    reply_target: Mapping[str, Any]
    #: The pictures it starts from: URLs IMA can read, once uploaded.
    image_urls: tuple[str, ...] = ()
    #: Attachments still to upload (their adapter references), until ``image_urls`` is set.
    attachments: tuple[Mapping[str, Any], ...] = ()
    state: JobState = JobState.ACCEPTED
    ima_task_id: str | None = None
    handle: Handle | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error_kind: str | None = None
    result_urls: tuple[str, ...] = ()
    result_covers: tuple[str | None, ...] = ()
    #: The job this one carries on from (a follow-up or a retry), if any.
    origin_id: str | None = None
    #: What the person asked for, as :class:`core.wants.Wants` JSON (a retry maps it again).
    wants: Mapping[str, Any] = field(default_factory=dict)
    #: Jobs its person, and its chat, may have at IMA at once (None: no limit), as the caps
    #: said when it was admitted: the queue gives it a slot within them.
    user_slots: int | None = None
    chat_slots: int | None = None

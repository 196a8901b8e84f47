"""A generation job and its states.

::

    accepted ──create──▶ running ──all media done──▶ delivered
        │                   │
        └──────────────────┴──error──▶ failed
                            └──an operator cancels──▶ cancelled

The IMA task id is committed (``running``) before anything else happens after a create, so a
restart knows which tasks exist. A job still ``accepted`` at start-up may or may not have reached
IMA; it is never created again (that could charge twice) but failed with an apology.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from core.ima.tasks import TaskType


class JobState(StrEnum):
    ACCEPTED = "accepted"
    RUNNING = "running"
    DELIVERED = "delivered"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobState.ACCEPTED, JobState.RUNNING)


class ModelSource(StrEnum):
    """Why this model was used: it decides what the first message says and what is saved."""

    EXPLICIT = "explicit"
    ALWAYS = "always"
    PREFERENCE = "preference"
    DEFAULT = "default"
    BEST = "best"
    CHEAPEST = "cheapest"


def new_job_id() -> str:
    """Short, URL- and button-safe, unguessable."""
    return secrets.token_urlsafe(9)


@dataclass
class Job:
    id: str
    platform: str
    user_id: str
    chat_id: str
    locale: str
    task_type: TaskType
    version_id: str
    model_name: str
    prompt: str
    params: Mapping[str, Any]
    n: int
    credits: int
    source: ModelSource
    reply_target: Mapping[str, Any]
    image_urls: tuple[str, ...] = ()
    state: JobState = JobState.ACCEPTED
    ima_task_id: str | None = None
    handle: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    error_kind: str | None = None
    result_urls: tuple[str, ...] = ()
    result_covers: tuple[str | None, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

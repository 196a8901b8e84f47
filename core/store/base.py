"""What the engine needs from storage, as a protocol; every backend passes one contract test."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from core.ima.tasks import TaskType
from core.jobs import Job


@dataclass(frozen=True)
class Preference:
    model_id: str
    version_id: str
    model_name: str
    credit: int
    updated_at: float


@dataclass(frozen=True)
class UsageRow:
    day: str
    platform: str
    user_id: str
    chat_id: str
    model_name: str
    jobs: int
    credits: int


class Admission(StrEnum):
    """Whether a new job may start, and if not, which limit stopped it."""

    OK = "ok"
    TOO_MANY = "too_many"
    USER_CAP = "user_cap"
    CHAT_CAP = "chat_cap"


@dataclass(frozen=True)
class Limits:
    max_active: int | None = None
    user_daily_credits: int | None = None
    chat_daily_credits: int | None = None


NO_LIMITS = Limits()


class Store(Protocol):
    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    # preferences, per (platform, user, task type)
    async def get_preference(
        self, platform: str, user_id: str, task_type: TaskType
    ) -> Preference | None: ...

    async def set_preference(
        self, platform: str, user_id: str, task_type: TaskType, pref: Preference
    ) -> None: ...

    async def clear_preferences(
        self, platform: str, user_id: str, task_type: TaskType | None = None
    ) -> int: ...

    async def list_preferences(self, platform: str, user_id: str) -> dict[TaskType, Preference]: ...

    # small per-user conversation state (e.g. a question waiting for yes/no)
    async def get_user_state(self, platform: str, user_id: str, key: str) -> Any | None: ...

    async def set_user_state(
        self, platform: str, user_id: str, key: str, value: Any | None
    ) -> None: ...

    # jobs
    async def add_job(self, job: Job, *, day: str, limits: Limits = NO_LIMITS) -> Admission:
        """Insert ``job`` and reserve its credits in ``day``'s ledger, in one transaction, unless
        the user's running jobs or the user's or chat's credits for the day would exceed
        ``limits`` (then nothing is stored). Concurrent calls can never overshoot a cap."""
        ...

    async def update_job(self, job_id: str, **fields: Any) -> None: ...

    async def get_job(self, job_id: str) -> Job | None: ...

    async def active_jobs(self) -> list[Job]: ...

    async def job_by_handle(self, platform: str, handle: str) -> Job | None:
        """The job whose message is ``handle`` (what a replier's ``send`` returned)."""
        ...

    async def count_active(self, platform: str, user_id: str) -> int: ...

    async def recent_jobs(self, platform: str, user_id: str, limit: int = 10) -> list[Job]: ...

    # at-least-once deliveries from the platforms
    async def first_seen(self, key: str) -> bool:
        """Record ``key``; True the first time it is seen, False for every redelivery."""
        ...

    # the usage ledger (credits reserved at admission, per job)
    async def set_usage(self, job_id: str, credits: int) -> None:
        """Correct a job's reserved credits (the price the server finally charged)."""
        ...

    async def release_usage(self, job_id: str) -> None:
        """Give a job's credits back: it never reached the server."""
        ...

    async def usage(
        self, since_day: str, *, platform: str | None = None, user_id: str | None = None
    ) -> Sequence[UsageRow]: ...

    # the generation log, kept 7 days
    async def log(
        self, job_id: str, step: str, detail: Mapping[str, Any] | None = None
    ) -> None: ...

    async def prune(self, now: float) -> None: ...

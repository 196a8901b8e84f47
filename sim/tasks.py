"""Generation tasks: when each media settles, and what the detail API reports meanwhile."""

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sim.faults import strip_directives
from sim.media import SPECS
from sim.task_types import TASK_TYPES, MediaKind
from sim.validation import ValidCreate

_PENDING_SHARE = 0.2  # media report "pending" for this share of their time, then "processing"
_PARTIAL_FACTOR = 4.0  # how much longer the straggler of a ``partial`` task takes
_TIMEOUT_FACTOR = 5.0  # timeout_at = created + upper time estimate * this (both scaled by speed)
_MODERATION_MSG = "The content may contain sensitive information and cannot be generated"


class Outcome(StrEnum):
    SUCCESS = "success"
    RS2 = "rs2"
    RS3 = "rs3"
    FAILED = "failed"
    MODERATION = "moderation"
    TIMEOUT = "timeout"


_OUTCOME_FAULTS = frozenset(o.value for o in Outcome if o is not Outcome.SUCCESS)


@dataclass
class SimMedia:
    seconds: float
    """Time from creation until the media settles (never, for TIMEOUT)."""
    outcome: Outcome
    null_while_running: bool


@dataclass
class SimTask:
    id: str
    biz_id: str
    task_type: str
    prompt: str
    """The prompt with fault directives removed: result images are drawn from it."""
    created_at: float
    timeout_at: float
    medias: list[SimMedia]
    request: Any
    """The create body as received."""
    polls: int = field(default=0)

    @property
    def kind(self) -> MediaKind:
        return TASK_TYPES[self.task_type].media

    def summary(self) -> dict[str, Any]:
        """The ``data`` of the create reply."""
        return {
            "id": self.id,
            "biz_id": self.biz_id,
            "task_type": self.task_type,
            "medias": [],
            "generate_count": len(self.medias),
            "created_at": _ms(self.created_at),
            "timeout_at": _ms(self.timeout_at),
        }

    def detail(self, now: float, base_url: str) -> dict[str, Any]:
        """The ``data`` of a detail reply at time ``now``; each call counts as one poll."""
        self.polls += 1
        summary = self.summary()
        summary["medias"] = [self._media(i, now, base_url) for i in range(len(self.medias))]
        return summary

    def settled(self, now: float) -> bool:
        """True once every media has its outcome (a timed-out one never does)."""
        return all(
            m.outcome is not Outcome.TIMEOUT and now - self.created_at >= m.seconds
            for m in self.medias
        )

    def settled_with_file(self, index: int, now: float) -> bool:
        """True if media ``index`` exists, has settled, and its outcome keeps a file."""
        if not 0 <= index < len(self.medias):
            return False
        media = self.medias[index]
        has_file = media.outcome in (Outcome.SUCCESS, Outcome.FAILED)
        return has_file and now - self.created_at >= media.seconds

    def _media(self, index: int, now: float, base_url: str) -> dict[str, Any]:
        media = self.medias[index]
        elapsed = now - self.created_at
        if media.outcome is Outcome.TIMEOUT or elapsed < media.seconds:
            # The backend serialises a Go *int: resource_status flips between 0 and null.
            running = None if media.null_while_running or self.polls % 2 else 0
            status = "pending" if elapsed < media.seconds * _PENDING_SHARE else "processing"
            return _media_fields(running, status)

        if media.outcome is Outcome.RS3:
            return _media_fields(3, "success")  # deleted: nothing left to fetch
        if media.outcome is Outcome.RS2:
            # The status alone does not say "failed": only resource_status does.
            return _media_fields(2, "processing", error_msg="generation failed")
        if media.outcome is Outcome.MODERATION:
            return _media_fields(2, "failed", error_msg=_MODERATION_MSG)

        spec = SPECS[self.kind]
        url = f"{base_url}/results/{self.id}/{index}.{spec.extension}"
        cover = ""
        if self.kind is MediaKind.VIDEO:
            cover = f"{base_url}/results/{self.id}/{index}/cover.png"
        files: dict[str, Any] = {
            "url": url,
            "cover_url": cover,
            "cover": cover,
            "preview_url": url,
            "format": spec.extension,
            "width": spec.width,
            "height": spec.height,
            "duration_str": f"{spec.seconds}s" if spec.seconds else "",
        }
        if media.outcome is Outcome.FAILED:
            # resource_status 1 with a url, yet failed: the status wins.
            return _media_fields(1, "failed", error_msg="generation failed", **files)
        return _media_fields(1, "success", **files)


def new_task(
    valid: ValidCreate,
    faults: Collection[str],
    request: Any,
    now: float,
    speed: float,
    rng: random.Random,
) -> SimTask:
    """Plan a task: draw ids and each media's time from ``rng``, and apply task faults.

    Outcome faults hit the last media, so with n > 1 the others succeed.
    """
    low, high = valid.leaf.eet or SPECS[TASK_TYPES[valid.task_type].media].generation
    outcome = next((Outcome(f) for f in faults if f in _OUTCOME_FAULTS), None)
    medias = [
        SimMedia(rng.uniform(low, high) * speed, Outcome.SUCCESS, "null" in faults)
        for _ in range(valid.n)
    ]
    last = medias[-1]
    if outcome is not None:
        last.outcome = outcome
    if "partial" in faults:
        last.seconds = high * _PARTIAL_FACTOR * speed
    return SimTask(
        id=f"task_{rng.getrandbits(64):016x}",
        biz_id=f"biz_{rng.getrandbits(64):016x}",
        task_type=valid.task_type,
        prompt=strip_directives(valid.prompt),
        created_at=now,
        timeout_at=now + high * _TIMEOUT_FACTOR * speed,
        medias=medias,
        request=request,
    )


def _media_fields(
    resource_status: int | None, status: str, *, error_msg: str = "", **files: Any
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "resource_status": resource_status,
        "status": status,
        "url": "",
        "cover_url": "",
        "cover": "",
        "preview_url": "",
        "watermark_url": "",
        "format": "",
        "width": 0,
        "height": 0,
        "duration_str": "",
        "error_msg": error_msg,
        "remark": "",
    }
    fields.update(files)
    return fields


def _ms(seconds: float) -> int:
    return int(seconds * 1000)

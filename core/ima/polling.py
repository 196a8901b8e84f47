"""Reading a task detail: the spec's exact stop rules, as a pure function.

* ``resource_status`` null or missing counts as 0 (still running);
* any media with ``status == "failed"`` or ``resource_status == 2`` fails the task at once, even
  when its ``resource_status`` is 1 (status wins); the spec words the two apart
  (:class:`~core.ima.errors.MediaFailedError` for ``resource_status == 2``);
* ``resource_status == 3`` means the result was deleted: stop at once;
* the task is done only when ALL ``n`` media have ``resource_status == 1`` and a URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.ima.errors import ResourceDeletedError, classify_media_failure


@dataclass(frozen=True)
class Media:
    url: str
    cover_url: str | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    duration: str | None = None


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _resource_status(value: Any) -> int:
    """A media's ``resource_status``, 0 when null, missing or not a number."""
    if type(value) is int:  # the usual case, without the conversion's try
        return value
    return _as_int(value) or 0


def read_detail(data: Any, expected: int) -> list[Media] | None:
    """The finished media, or ``None`` while the task is still running; raises on failure.

    Read once per status check of every job: one pass, and ``dict`` tried before the
    ``Mapping`` ABC (JSON gives dicts; the ABC's check costs more than the rest).
    """
    medias = data.get("medias") if isinstance(data, (dict, Mapping)) else None
    if not isinstance(medias, list):
        return None
    items = [m for m in medias if isinstance(m, (dict, Mapping))]
    done = len(items) >= expected
    for media in items:
        status = media.get("status")
        resource_status = _resource_status(media.get("resource_status"))
        if resource_status == 2 or (status and str(status).lower() == "failed"):
            reason = media.get("error_msg") or media.get("remark") or media.get("fail_reason")
            raise classify_media_failure(str(reason or ""), resource_failed=resource_status == 2)
        if resource_status == 3:
            raise ResourceDeletedError("result was deleted before it could be delivered")
        if resource_status != 1 or not media.get("url"):
            done = False
    if not done:
        return None
    return [
        Media(
            url=str(m["url"]),
            cover_url=str(m.get("cover_url") or m.get("cover") or "") or None,
            format=str(m["format"]) if m.get("format") else None,
            width=_as_int(m.get("width")),
            height=_as_int(m.get("height")),
            duration=str(m["duration_str"]) if m.get("duration_str") else None,
        )
        for m in items
    ]

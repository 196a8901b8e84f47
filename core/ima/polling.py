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


def read_detail(data: Any, expected: int) -> list[Media] | None:
    """The finished media, or ``None`` while the task is still running; raises on failure."""
    medias = data.get("medias") if isinstance(data, Mapping) else None
    if not isinstance(medias, list):
        return None
    items = [m for m in medias if isinstance(m, Mapping)]
    for media in items:
        status = str(media.get("status") or "").lower()
        resource_status = _as_int(media.get("resource_status")) or 0
        if status == "failed" or resource_status == 2:
            reason = media.get("error_msg") or media.get("remark") or media.get("fail_reason")
            raise classify_media_failure(str(reason or ""), resource_failed=resource_status == 2)
        if resource_status == 3:
            raise ResourceDeletedError("result was deleted before it could be delivered")
    if len(items) < expected:
        return None
    if any((_as_int(m.get("resource_status")) or 0) != 1 or not m.get("url") for m in items):
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

"""The spec's stop rules for task detail, one case each."""

from __future__ import annotations

from typing import Any

import pytest

from core.ima.errors import (
    ContentRejectedError,
    GenerationFailedError,
    MediaFailedError,
    ResourceDeletedError,
)
from core.ima.polling import read_detail


def media(rs: Any, status: str = "processing", url: str | None = None, **kw: Any) -> dict[str, Any]:
    return {"resource_status": rs, "status": status, "url": url, **kw}


DONE = media(1, "success", "https://cdn/x.png", cover="https://cdn/c.jpg", width=8, height=8)


@pytest.mark.parametrize(
    ("medias", "expected"),
    [
        ([], 1),
        ([media(None)], 1),
        ([media(0, "pending")], 1),
        ([{"status": "processing"}], 1),  # resource_status missing counts as 0
        ([DONE, media(0)], 2),  # one of two done: keep polling
        ([DONE], 2),  # only one of n=2 listed yet
        ([media(1, "success", None)], 1),  # done but no url yet
    ],
)
def test_still_running(medias: list[dict[str, Any]], expected: int) -> None:
    assert read_detail({"medias": medias}, expected) is None


def test_done_when_all_done() -> None:
    result = read_detail({"medias": [DONE, media(1, "completed", "https://cdn/y.png")]}, 2)
    assert result is not None
    assert [m.url for m in result] == ["https://cdn/x.png", "https://cdn/y.png"]
    assert result[0].cover_url == "https://cdn/c.jpg"
    assert result[0].width == 8


@pytest.mark.parametrize(
    ("medias", "error"),
    [
        ([media(1, "failed", "https://cdn/x.png")], GenerationFailedError),  # status wins
        ([media(2, "processing")], GenerationFailedError),
        ([media(0), media(2)], GenerationFailedError),  # stop at once, others still running
        ([media(3, "success")], ResourceDeletedError),
        ([media(2, "failed", error_msg="prompt hit sensitive content")], ContentRejectedError),
    ],
)
def test_failures_stop_at_once(medias: list[dict[str, Any]], error: type[Exception]) -> None:
    with pytest.raises(error):
        read_detail({"medias": medias}, len(medias))


def test_the_two_failures_are_worded_apart() -> None:
    """The spec's error table: resource_status 2 and a failed status each have a sentence."""
    with pytest.raises(MediaFailedError) as media_failed:
        read_detail({"medias": [media(2, "processing")]}, 1)
    with pytest.raises(GenerationFailedError) as status_failed:
        read_detail({"medias": [media(1, "failed", "https://cdn/x.png")]}, 1)
    assert not isinstance(status_failed.value, MediaFailedError)
    assert (media_failed.value.locale_key, status_failed.value.locale_key) == (
        "error.media_failed",
        "error.generation_failed",
    )


def test_garbage_is_running_not_crash() -> None:
    assert read_detail(None, 1) is None
    assert read_detail({"medias": "nope"}, 1) is None

"""A request is stored as JSON before it is acknowledged, and rebuilt from it after a restart."""

from __future__ import annotations

import json

from core.ima.tasks import MediaKind
from core.request import Attachment, ChatRequest, Explicit, Options


def _request() -> ChatRequest:
    return ChatRequest(
        platform="discord",
        user_id="7",
        chat_id="guild:1",
        reply_target={"channel_id": 3, "interaction": {"id": 9, "token": "t"}},
        text="animate this, 9:16",
        message_id="42",
        attachments=(
            Attachment("a.png", {"url": "https://cdn/a.png"}, "image/png", 10),
            Attachment("b.png", {"url": "https://cdn/b.png"}),
        ),
        locale="en-US",
        options=Options(media=MediaKind.VIDEO, duration=5, audio=True),
        places=("channel:3",),
        reply_to="11",
        private=True,
    )


def test_a_request_survives_its_json() -> None:
    request = _request()
    stored = json.loads(json.dumps(request.to_json()))
    assert ChatRequest.from_json(stored) == request


def test_its_json_is_plain_data_with_the_unset_options_left_out() -> None:
    data = json.loads(json.dumps(_request().to_json()))
    assert data["reply_target"] == {"channel_id": 3, "interaction": {"id": 9, "token": "t"}}
    assert data["attachments"][1] == {
        "name": "b.png",
        "ref": {"url": "https://cdn/b.png"},
        "content_type": None,
        "size": None,
    }
    assert data["options"] == {"media": "video", "duration": 5, "audio": True}  # None left out
    assert data["places"] == ["channel:3"]
    explicit = Options(explicit=Explicit.SHOW, item="job-1").to_json()
    assert explicit == {"explicit": Explicit.SHOW, "item": "job-1"}


def test_an_explicit_no_survives_its_json() -> None:
    """ "No sound" and "with vocals" are choices, not "don't care": a replayed request keeps
    them."""
    options = Options(media=MediaKind.VIDEO, audio=False, instrumental=False)
    stored = json.loads(json.dumps(options.to_json()))
    assert stored == {"media": "video", "audio": False, "instrumental": False}
    assert Options.from_json(stored) == options

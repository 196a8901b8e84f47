"""Interaction data → chat requests, attachment checks and handles, without Discord."""

from __future__ import annotations

import json
from typing import cast

import pytest

from bot.discord.commands import build_commands
from bot.discord.event import (
    FileInfo,
    Invocation,
    Rejected,
    Target,
    check_images,
    command_request,
    message_request,
    raw_invocation,
    strip_mentions,
    video_frames,
)
from core.door import Door
from core.i18n import Translator
from core.ima.tasks import MediaKind, TaskType
from core.ima.upload import MAX_IMAGE_BYTES
from core.replier import scrub_handle
from core.request import ChatRequest, Explicit, Options
from tests.conftest import fixture_catalog

CATALOGS = {t: fixture_catalog(t) for t in TaskType}
NAMES = sorted({n for c in CATALOGS.values() for n in c.surface_names()}, key=len, reverse=True)
PNG = FileInfo("cat.png", "https://cdn/cat.png", 2048, "image/png")


def invocation(**changes: object) -> Invocation:
    values: dict[str, object] = dict(
        id=111, user_id=222, guild_id=333, channel_id=444, locale="zh-CN",
        application_id=555, token="tok", created_at=1_000.0, file_limit=10 * 1024 * 1024,
    )  # fmt: skip
    values.update(changes)
    return Invocation(**values)  # type: ignore[arg-type]


def test_command_request_carries_everything_the_engine_and_replier_need() -> None:
    options = Options(media=MediaKind.VIDEO, model="Kling O1", duration=5)
    target = invocation().target("zh")
    request = command_request(
        invocation(), target, prompt="waves at sunset", options=options, files=[PNG]
    )
    assert (request.platform, request.user_id, request.chat_id) == ("discord", "222", "333")
    assert request.places == ("444",)
    assert (request.text, request.locale, request.message_id) == ("waves at sunset", "zh-CN", "111")
    assert request.options is options
    [attachment] = request.attachments
    assert (attachment.name, attachment.content_type, attachment.size, attachment.ref) == (
        "cat.png",
        "image/png",
        2048,
        {"url": "https://cdn/cat.png"},
    )
    assert ChatRequest.from_json(json.loads(json.dumps(request.to_json()))) == request
    assert Target.from_json(request.reply_target) == Target(
        user_id=222, locale="zh", file_limit=10 * 1024 * 1024, channel_id=444,
        application_id=555, token="tok", created_at=1_000.0,
    )  # fmt: skip
    # The token is short-lived: the store drops it when it ends.
    ends = 1_000.0 + 15 * 60
    assert request.reply_target["expires"] == dict.fromkeys(("token", "application_id"), ends)


def test_each_direct_message_is_a_chat_of_its_own() -> None:
    request = command_request(
        invocation(guild_id=None), invocation().target("en"), prompt="x", options=Options()
    )
    other = command_request(
        invocation(guild_id=None, user_id=999), invocation().target("en"), prompt="x",
        options=Options(),
    )  # fmt: skip
    assert (request.chat_id, other.chat_id) == ("dm:222", "dm:999")
    assert request.private


def test_handle_survives_json_and_knows_when_the_token_ends() -> None:
    target = Target(
        user_id=1, locale="en", file_limit=5, channel_id=2, application_id=3, token="t",
        created_at=1_000.0, message_id=4,
    )  # fmt: skip
    handle = target.handle()
    assert handle.message_id == "4"
    assert Target.from_handle(handle) == target
    assert target.token_usable(1_000.0 + 14 * 60)
    assert not target.token_usable(1_000.0 + 15 * 60)
    assert Target.from_handle(scrub_handle(handle, 1_000.0 + 15 * 60)) == target.without_token()
    bot_message = Target(user_id=1, locale="en", file_limit=5, channel_id=2, message_id=4)
    assert not bot_message.token_usable(0)
    assert set(json.loads(bot_message.handle().data)) == {
        "user_id",
        "locale",
        "file_limit",
        "channel_id",
        "message_id",
    }


@pytest.mark.parametrize(
    ("file", "key"),
    [
        (FileInfo("notes.txt", "u", 10, "text/plain"), "error.not_an_image"),
        (FileInfo("clip.mp4", "u", 10, None), "error.not_an_image"),
        (FileInfo("huge.png", "u", MAX_IMAGE_BYTES + 1, "image/png"), "error.image_too_large"),
    ],
)
def test_attachments_that_are_refused(file: FileInfo, key: str) -> None:
    with pytest.raises(Rejected) as rejected:
        check_images([PNG, file])
    assert rejected.value.key == key


def test_attachments_that_pass() -> None:
    files = [
        PNG,
        FileInfo("photo.JPG", "u", 10, None),  # no type from Discord: the name tells
        FileInfo("a.webp", "u", 10, "image/webp; charset=binary"),
    ]
    assert check_images(files) == files


def test_video_frames_need_a_first_frame_for_a_last_one() -> None:
    last = FileInfo("end.png", "u", 10, "image/png")
    assert video_frames(PNG, last) == [PNG, last]
    assert video_frames(PNG, None) == [PNG]
    assert video_frames(None, None) == []
    with pytest.raises(Rejected) as rejected:
        video_frames(None, last)
    assert rejected.value.key == "question.images_first_last"


def test_mentions_of_the_bot_are_removed() -> None:
    assert strip_mentions("<@42> draw a cat <@!42>", 42) == "draw a cat"
    assert strip_mentions("<@42> a song\nlyrics:\nla la", 42) == "a song\nlyrics:\nla la"
    assert strip_mentions("<@43> hi", 42) == "<@43> hi"


@pytest.mark.parametrize(("content", "locale"), [("<@9> 画一只猫", "zh"), ("<@9> a cat", "en")])
def test_free_text_replies_to_the_message_in_the_language_written(
    content: str, locale: str
) -> None:
    request = message_request(
        message_id=1,
        user_id=2,
        guild_id=None,
        channel_id=3,
        content=content,
        bot_id=9,
        files=[],
        file_limit=100,
        locale=locale,
        reply_to=7,
    )
    assert request.text == content.removeprefix("<@9> ")
    assert (request.chat_id, request.message_id, request.locale) == ("dm:2", "1", None)
    assert request.reply_to == "7"
    assert Target.from_json(request.reply_target) == Target(
        user_id=2, locale=locale, file_limit=100, channel_id=3, reply_to=1
    )


def test_a_raw_interaction_in_a_server_and_in_a_dm() -> None:
    snowflake = (1_000 << 22) | 5  # created one second after Discord's epoch
    base = {
        "id": str(snowflake),
        "application_id": "7",
        "token": "tok",
        "locale": "zh-CN",
        "attachment_size_limit": 8_000_000,
        "channel": {"id": "33", "type": 0},
    }
    in_server = raw_invocation({**base, "guild_id": "44", "member": {"user": {"id": "55"}}})
    assert in_server == Invocation(
        id=snowflake,
        user_id=55,
        guild_id=44,
        channel_id=33,
        locale="zh-CN",
        application_id=7,
        token="tok",
        created_at=1_420_070_401.0,
        file_limit=8_000_000,
    )
    in_dm = raw_invocation({**base, "user": {"id": "66"}})
    assert (in_dm.user_id, in_dm.guild_id, in_dm.channel_id) == (66, None, 33)


class _Catalogs:
    """As much of the door as declaring the commands needs."""

    def __init__(self) -> None:
        self._texts = Translator.load()

    def text(self, locale: str, key: str, /, **values: object) -> str:
        return self._texts.t(locale, key, **values)


def test_raw_options_are_read_by_parameter_name() -> None:
    commands = build_commands(cast(Door, _Catalogs()))
    first_frame = {"filename": "a.png", "url": "https://cdn/a.png", "size": 10}
    video = commands.read(
        {
            "name": "video",
            "options": [
                {"name": "prompt", "type": 3, "value": "waves"},
                {"name": "image", "type": 11, "value": "9"},
                {"name": "duration", "type": 4, "value": 5},
            ],
            "resolved": {"attachments": {"9": first_frame}},
        }
    )
    assert video is not None
    assert (video.prompt, video.options.duration, video.private) == ("waves", 5, False)
    assert video.pictures() == [FileInfo("a.png", "https://cdn/a.png", 10, None)]
    # A subcommand without options may come without the key.
    shown = commands.read({"name": "preferences", "options": [{"name": "show", "type": 1}]})
    assert shown is not None
    assert (shown.options.explicit, shown.private) == (Explicit.PREFERENCES, True)
    assert commands.read({"name": "retired"}) is None

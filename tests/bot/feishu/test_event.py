"""Raw Feishu events → typed events: pure, replayed from recorded-style payloads."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from bot.feishu.event import (
    CardAction,
    MessageEvent,
    UnusableMessage,
    parse_card_action,
    parse_message,
)
from tests.fakes.feishu import EventFactory, FakeUser

BOT = FakeUser(
    open_id="ou_bot000000000000000000000000001", user_id="", union_id="on_b", name="IMA Bot"
)
events = EventFactory(app_id="cli_test", tenant_key="tk", verification_token="vt", bot=BOT)

# As Feishu's documentation shows it (ids shortened), with the bot mentioned in a group.
RECORDED_GROUP_TEXT: dict[str, Any] = {
    "schema": "2.0",
    "header": {
        "event_id": "5e3702a84e847582be8db7fb73283c02",
        "event_type": "im.message.receive_v1",
        "create_time": "1608725989000",
        "token": "rvaYgkR7Ox8SWAuO2Bm8cbhf",
        "app_id": "cli_9f5343c580712544",
        "tenant_key": "2ca1d211f64f6438",
    },
    "event": {
        "sender": {
            "sender_id": {
                "union_id": "on_8ed6aa67826108097d9ee143816345",
                "user_id": "e33ggbyz",
                "open_id": "ou_84aad35d084aa403a838cf73ee18467",
            },
            "sender_type": "user",
            "tenant_key": "736588c9260f175e",
        },
        "message": {
            "message_id": "om_5ce6d572455d361153b7cb51da133945",
            "root_id": "",
            "parent_id": "",
            "create_time": "1609073151345",
            "update_time": "1609073151345",
            "chat_id": "oc_5ce6d572455d361153b7xx51da133945",
            "chat_type": "group",
            "message_type": "text",
            "content": '{"text":"@_user_1 画一只戴墨镜的柴犬"}',
            "mentions": [
                {
                    "key": "@_user_1",
                    "id": {"union_id": "on_b", "user_id": "", "open_id": BOT.open_id},
                    "name": "IMA Bot",
                    "tenant_key": "736588c9260f175e",
                }
            ],
            "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Lark/7.1.0",
        },
    },
}


def parse(payload: Any) -> MessageEvent | UnusableMessage | None:
    return parse_message(payload, BOT.open_id)


def parsed(payload: Any) -> MessageEvent:
    message = parse(payload)
    assert isinstance(message, MessageEvent)
    return message


def test_recorded_group_message_mentioning_the_bot() -> None:
    message = parse(RECORDED_GROUP_TEXT)
    assert message == MessageEvent(
        event_id="5e3702a84e847582be8db7fb73283c02",
        message_id="om_5ce6d572455d361153b7cb51da133945",
        chat_id="oc_5ce6d572455d361153b7xx51da133945",
        direct=False,
        sender_id="ou_84aad35d084aa403a838cf73ee18467",
        text="画一只戴墨镜的柴犬",
    )


def test_group_message_without_a_mention_is_ignored() -> None:
    assert parse(events.text("draw a cat")) is None


def test_group_message_mentioning_someone_else_is_ignored() -> None:
    assert parse(events.group_text_mentioning(events.new_user("Dave"), "draw a cat")) is None


def test_a_namesake_of_the_bot_is_not_the_bot() -> None:
    """Matching mentions by name is the classic Feishu-bot bug: only the open_id counts."""
    impostor = events.new_user("IMA Bot")
    assert parse(events.group_text_mentioning(impostor, "draw a cat")) is None


def test_direct_messages_need_no_mention() -> None:
    message = parsed(events.dm_text("a song about rain"))
    assert (message.direct, message.text) == (True, "a song about rain")


def test_the_bots_mention_is_removed_others_keep_their_name() -> None:
    payload = events.text("", mentions=[BOT, events.new_user("Alice")], chat_type="group")
    payload["event"]["message"]["content"] = json.dumps(
        {"text": "@_user_1 draw @_user_2 as a cat, @_all"}
    )
    assert parsed(payload).text == "draw @Alice as a cat,"


def test_everyone_is_never_part_of_the_prompt() -> None:
    """Feishu lists @all among the mentions, named "所有人"; it is nobody to draw."""
    payload = events.text("", mentions=[BOT], chat_type="group")
    message_json = payload["event"]["message"]
    message_json["content"] = json.dumps({"text": "@_all @_user_1 画一只猫"})
    message_json["mentions"].append(
        {"key": "@_all", "id": {"open_id": "all", "user_id": "all"}, "name": "所有人"}
    )
    assert parsed(payload).text == "画一只猫"

    post = events.post("draw a cat", [])
    content = json.loads(post["event"]["message"]["content"])
    content["content"][0].append({"tag": "at", "user_id": "all", "user_name": "所有人"})
    post["event"]["message"]["content"] = json.dumps(content)
    assert parsed(post).text == "draw a cat"


def test_a_mention_alone_is_nothing_to_answer() -> None:
    assert parse(events.group_text_mentioning_bot("")) is None


def test_rich_text_with_images_in_a_group() -> None:
    message = parsed(events.post("turn this into an oil painting", ["img_a", "img_b"]))
    assert message.text == "turn this into an oil painting"
    assert message.image_keys == ("img_a", "img_b")


def test_a_video_in_rich_text_is_not_an_input_picture() -> None:
    """A video element carries its cover as an ``image_key``: that is no picture to work from."""
    payload = events.post("turn this into an oil painting", ["img_a"])
    content = json.loads(payload["event"]["message"]["content"])
    video = {"tag": "media", "file_key": "file_v3_video", "image_key": "img_cover"}
    content["content"].append([video])
    payload["event"]["message"]["content"] = json.dumps(content)
    assert parsed(payload).image_keys == ("img_a",)


def test_rich_text_title_and_locale_wrapper() -> None:
    """Some clients forward rich text the way it is sent: wrapped in a locale."""
    payload = events.post(
        "make it anime", ["img_a"], title="Art", chat_type="p2p", mention_bot=False
    )
    message_json = payload["event"]["message"]
    message_json["content"] = json.dumps({"zh_cn": json.loads(message_json["content"])})
    message = parsed(payload)
    assert (message.text, message.image_keys) == ("Art\nmake it anime", ("img_a",))


def test_an_image_message() -> None:
    message = parsed(events.image("img_v3_abc"))
    assert (message.text, message.image_keys, message.direct) == ("", ("img_v3_abc",), True)


def test_an_image_alone_in_a_group_cannot_mention_the_bot() -> None:
    assert parse(events.image("img_v3_abc", chat_type="group")) is None


def unusable(kind: str, content: dict[str, Any], chat_type: str = "p2p") -> dict[str, Any]:
    """A message of ``kind`` (file, audio, media, sticker) as Feishu delivers it."""
    payload = events.text("", chat_type=chat_type)
    payload["event"]["message"]["message_type"] = kind
    payload["event"]["message"]["content"] = json.dumps(content)
    return payload


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("file", {"file_key": "file_v3_a", "file_name": "brief.pdf"}),
        ("audio", {"file_key": "file_v3_b", "duration": 2000}),
        ("media", {"file_key": "file_v3_c", "image_key": "img_v3_c", "file_name": "a.mp4"}),
        ("sticker", {"file_key": "file_v3_d"}),
    ],
)
def test_a_direct_message_the_bot_cannot_use(kind: str, content: dict[str, Any]) -> None:
    payload = unusable(kind, content)
    message = payload["event"]["message"]
    assert parse(payload) == UnusableMessage(
        message["message_id"], message["chat_id"], events.default_user.open_id
    )
    assert parse(unusable(kind, content, chat_type="group")) is None  # no mention possible


def _with(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("event.sender.sender_type", "app"),  # other bots, and our own messages
        ("event.message.message_type", "audio"),
        ("event.message.message_type", "sticker"),
        ("event.message.content", "not json"),
        ("event.message.content", '["a list"]'),
        ("event.message.content", None),
        ("event.message.chat_type", "topic"),
        ("event.message.mentions", "garbage"),
        ("event.message.message_id", None),
        ("event.sender", None),
        ("event", []),
        ("header.event_type", "im.message.message_read_v1"),
        ("header.event_id", 42),
    ],
)
def test_malformed_or_unsupported_events_are_ignored(path: str, value: Any) -> None:
    assert parse(_with(RECORDED_GROUP_TEXT, path, value)) is None


@pytest.mark.parametrize("payload", [None, "text", [], {}, {"header": None, "event": None}])
def test_garbage_is_ignored(payload: Any) -> None:
    assert parse(payload) is None
    assert parse_card_action(payload) is None


def test_card_action() -> None:
    presser = events.new_user("Erin")
    payload = events.card_action(
        {"action": "retry:job1:v2", "locale": "zh"},
        message_id="om_card",
        chat_id="oc_chat",
        operator=presser,
    )
    assert parse_card_action(payload) == CardAction(
        event_id=payload["header"]["event_id"],
        user_id=presser.open_id,
        action="retry:job1:v2",
        locale="zh",
        message_id="om_card",
        chat_id="oc_chat",
    )
    assert parse(payload) is None


def test_card_action_whose_value_is_a_string() -> None:
    """The docs allow an object or a string as a button's value."""
    payload = events.card_action({}, message_id="om_card", chat_id="oc_chat")
    payload["event"]["action"]["value"] = '{"action": "r:job1", "locale": "zh", "owner": "ou_1"}'
    found = parse_card_action(payload)
    assert found is not None
    assert (found.action, found.locale, found.owner) == ("r:job1", "zh", "ou_1")


@pytest.mark.parametrize("value", [{}, {"action": 3}, {"locale": "en"}, "retry:job1:v2", None])
def test_card_action_without_our_value_is_ignored(value: Any) -> None:
    payload = events.card_action({}, message_id="om_card", chat_id="oc_chat")
    payload["event"]["action"]["value"] = value
    assert parse_card_action(payload) is None

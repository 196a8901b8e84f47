"""Cards, video durations and settings: the adapter's pure parts."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from bot.feishu.card import MAX_CARD_BYTES, Link, build_card, card_size, with_mention
from bot.feishu.config import FeishuSettings
from bot.feishu.replier import mp4_duration_ms
from core.replier import Button, Reply, Stage
from core.settings import SettingsError, load

SAMPLE_MP4 = Path(__file__).resolve().parents[3] / "sim" / "assets" / "sample.mp4"


def test_card_is_shared_with_a_header_coloured_by_stage() -> None:
    for stage, template in [
        (Stage.BEFORE, "blue"),
        (Stage.PROGRESS, "wathet"),
        (Stage.SUCCESS, "green"),
        (Stage.FAILURE, "red"),
        (Stage.INFO, "grey"),
        (Stage.QUESTION, "orange"),
    ]:
        card = build_card(Reply(stage, "text"), title="Title", locale="en")
        assert card["config"]["update_multi"] is True
        assert card["header"] == {
            "template": template,
            "title": {"tag": "plain_text", "content": "Title"},
        }


def test_text_images_links_and_buttons() -> None:
    reply = Reply(
        Stage.FAILURE,
        "❌ Your image couldn't be created\n• Reason: *not* markdown",
        (Button("Retry with Nano Banana Pro", "r:j1:0a1b2c3d"), Button("Try again", "r:j1")),
    )
    card = build_card(
        reply,
        title="That didn't work",
        locale="en",
        note="A note",
        image_keys=["img_1"],
        links=[Link("Open video 1", "https://cdn.example/v.mp4")],
    )
    text, image, actions = card["elements"]
    # Plain text: a prompt or a model name is never read as markdown.
    assert text == {"tag": "div", "text": {"tag": "plain_text", "content": reply.text + "\nA note"}}
    assert (image["tag"], image["img_key"]) == ("img", "img_1")
    link, retry_with, retry_same = actions["actions"]
    assert link["url"] == "https://cdn.example/v.mp4"
    assert retry_with["value"] == {"action": "r:j1:0a1b2c3d", "locale": "en"}
    assert (retry_with["type"], retry_same["type"]) == ("primary", "default")
    assert retry_same["text"]["content"] == "Try again"


def test_a_card_stays_under_30_kb() -> None:
    reply = Reply(Stage.INFO, "长" * 20_000, (Button("OK", "save:x:y"),))
    card = build_card(reply, title="IMA", locale="zh")
    assert card_size(card) <= MAX_CARD_BYTES
    assert card["elements"][0]["text"]["content"].endswith("…")
    assert card["elements"][-1]["tag"] == "action"  # the buttons survive


def test_with_mention_puts_the_person_on_top() -> None:
    card = with_mention(build_card(Reply(Stage.INFO, "hi"), title="t", locale="en"), "ou_x")
    assert card["elements"][0]["text"]["content"] == "<at id=ou_x></at>"


def test_mp4_duration() -> None:
    assert mp4_duration_ms(SAMPLE_MP4.read_bytes()) == 2000
    assert mp4_duration_ms(b"") is None
    assert mp4_duration_ms(b"\x00\x00\x00\x08free" * 3) is None
    assert mp4_duration_ms(b"\x00\x00\x00\x04moov") is None  # a box smaller than its header


def test_mp4_duration_version_1_box() -> None:
    mvhd = bytes([1, 0, 0, 0]) + bytes(16) + struct.pack(">IQ", 600, 600 * 95)
    moov = (
        struct.pack(">I4s", 8 + 8 + len(mvhd), b"moov")
        + struct.pack(">I4s", 8 + len(mvhd), b"mvhd")
        + mvhd
    )
    assert mp4_duration_ms(struct.pack(">I4s", 16, b"ftyp") + bytes(8) + moov) == 95_000


def test_config_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("APP_ID", "APP_SECRET", "VERIFICATION_TOKEN", "ENCRYPT_KEY", "DOMAIN", "MODE"):
        monkeypatch.delenv(f"FEISHU_{name}", raising=False)
    unset = load(FeishuSettings, _env_file=None)
    assert not unset.configured
    assert (unset.domain, unset.mode) == ("https://open.feishu.cn", "ws")

    monkeypatch.setenv("FEISHU_APP_ID", "cli_1")
    monkeypatch.setenv("FEISHU_APP_SECRET", "very-secret")
    monkeypatch.setenv("FEISHU_ENCRYPT_KEY", "")  # .env.example leaves it empty
    monkeypatch.setenv("FEISHU_DOMAIN", "https://open.larksuite.com/")
    config = load(FeishuSettings, _env_file=None)
    assert config.configured
    assert config.encrypt_key is None
    assert config.domain == "https://open.larksuite.com"
    assert "very-secret" not in repr(config)


@pytest.mark.parametrize(
    ("values", "variable"),
    [
        ({"domain": "http://open.feishu.cn"}, "FEISHU_DOMAIN"),
        ({"domain": "https://open.feishu.cn/open-apis"}, "FEISHU_DOMAIN"),
        ({"mode": "socket"}, "FEISHU_MODE"),
        ({"app_id": "cli_1"}, "FEISHU_APP_SECRET"),
        ({"app_id": "cli_1", "app_secret": "s", "mode": "webhook"}, "FEISHU_VERIFICATION_TOKEN"),
    ],
)
def test_config_errors_name_the_variable(values: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load(FeishuSettings, _env_file=None, **values)


def test_loopback_http_is_allowed_for_a_local_feishu() -> None:
    config = FeishuSettings.model_validate({"domain": "http://127.0.0.1:8081", "mode": "ws"})
    assert config.domain == "http://127.0.0.1:8081"

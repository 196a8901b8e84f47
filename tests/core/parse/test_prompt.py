"""core.parse: What is left for the generator once the request frame is gone."""

from __future__ import annotations

import pytest

from core.parse import Command
from tests.core.parse.support import FLF, IMAGE, VIDEO, Row, case, check

CASES = [
    # ── prompt frames ────────────────────────────────────────────────────────────────────
    case("frame-label", "帮我生成一张图片：一只在草地上的小狗", prompt="一只在草地上的小狗"),
    case("trailing-thanks-0", "draw a 4K TV on a wall, thanks so much", prompt="a 4K TV on a wall"),
    case(
        "trailing-thanks-1",
        "draw a lighthouse at dawn, thank you very much",
        prompt="a lighthouse at dawn",
    ),
    case("trailing-thanks-2", "draw a tea cup, much appreciated!", prompt="a tea cup"),
    case(
        "trailing-thanks-3",
        "draw garfield hating monday again thx a lot",
        prompt="garfield hating monday again",
    ),
    case("trailing-thanks-4", "draw a fox, tysm", prompt="a fox"),
    case("trailing-thanks-5", "draw a fox ty", prompt="a fox"),
    case("trailing-thanks-6", "draw a kite, thanks a lot", prompt="a kite"),
    case("trailing-thanks-7", "draw a kite, many thanks", prompt="a kite"),
    case("trailing-thanks-8", "draw a kite, thanks in advance", prompt="a kite"),
    case("trailing-thanks-9", "draw a kite, appreciate it", prompt="a kite"),
    case("trailing-thanks-10", "画一只打哈欠的猫 辛苦了", prompt="一只打哈欠的猫"),
    case("trailing-thanks-11", "画个周一又来了的打工人 感谢", prompt="周一又来了的打工人"),
    case("trailing-thanks-12", "画一只熊猫 3q", prompt="一只熊猫"),
    case("trailing-thanks-13", "画一只熊猫 谢了", prompt="一只熊猫"),
    case("trailing-thanks-14", "画一只熊猫 麻烦了", prompt="一只熊猫"),
    case("trailing-thanks-15", "画一只熊猫 感谢感谢", prompt="一只熊猫"),
    case("trailing-thanks-16", "画一只熊猫 thx", prompt="一只熊猫"),
    case(
        "frame-want", "我想要一个视频，内容是宇航员在月球上跳舞", prompt="内容是宇航员在月球上跳舞"
    ),
    case(
        "frame-to-make",
        "Use Kling O1 to make a video of a cat surfing",
        prompt="a video of a cat surfing",
    ),
    case("frame-make-video", "用 minimax 做视频：赛车", prompt="赛车", media=VIDEO),
    case(
        "frame-duration-label",
        "生成视频：小狗在草地上奔跑，时长8秒，竖版",
        prompt="小狗在草地上奔跑",
        duration=8,
        aspect_ratio="9:16",
    ),
    case("frame-versions", "a cute robot, 3 versions", prompt="a cute robot", count=3),
    case("frame-variations-of", "four variations of a minimalist logo", prompt="a minimalist logo"),
    case("frame-bare-label", "生成一张图 seed=7 一只狐狸", prompt="一只狐狸", seed=7),
    case("frame-verb-no-subject", "给我整一张图", prompt="", media=IMAGE),
    case("frame-keeps-classifier-word", "用 Kling O1 首尾帧生成视频", 2, prompt="首尾帧生成视频"),
    case("zh-change-default", "把默认改成可灵", command=Command.ALWAYS_MODEL, model="可灵"),
    case("frame-thanks", "画一只柴犬，谢谢", prompt="一只柴犬"),
    case("music-style-is-content", "一首3分钟的钢琴曲", prompt="钢琴曲", music_duration=180),
    case("these-two-not-count", "把这两张图做成首尾帧视频", 2, count=None, task_type=FLF),
    # ── request verbs typed in a hurry are the frame too (issue 12) ──────────────────────
    case("verb-typo-generat", "plz generat a pic of a robot dj", prompt="a pic of a robot dj"),
    case("verb-typo-genrate", "genrate a cat in space", prompt="a cat in space"),
    case("verb-typo-mak", "mak a vidoe of fireworks", prompt="a vidoe of fireworks"),
    case("verb-typo-creat", "creat a logo for sunny cafe", prompt="a logo for sunny cafe"),
    case("verb-typo-craete", "craete a poster of tokyo", prompt="a poster of tokyo"),
    case("gen-z-is-content", "gen z fashion poster", prompt="gen z fashion poster"),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

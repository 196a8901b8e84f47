"""core.parse: Midjourney habits, labelled sections and links to pictures."""

from __future__ import annotations

import pytest

from core.ima.tasks import TaskType
from core.parse import Command
from tests.core.parse.support import GEN, I2I, I2V, IMAGE, MUSIC, T2I, Row, case, check, each

CASES = [
    # ── Midjourney ────────────────────────────────────────────────────────────────────────
    case(
        "imagine",
        "/imagine prompt: a cat --ar 16:9 --v 6",
        command=GEN,
        media=IMAGE,
        task_type=T2I,
        aspect_ratio="16:9",
        prompt="a cat",
    ),
    case(
        "imagine-no-prompt-label",
        "/imagine a castle on a hill --no people, cars --seed 1234",
        command=GEN,
        negative_prompt="people, cars",
        seed=1234,
        prompt="a castle on a hill",
    ),
    case(
        "flags-alone",
        "a cat --ar 9:16",
        command=GEN,
        media=IMAGE,
        aspect_ratio="9:16",
        prompt="a cat",
    ),
    case("aspect-custom", "a fox --aspect 3:2", command=GEN, custom_ratio="3:2"),
    case(
        "every-flag-dropped",
        "/imagine prompt: a fox --ar 2:3 --v 6 --version 5 --niji 6 --q 2 --quality 1 --s 250"
        " --stylize 100 --c 10 --chaos 5 --w 10 --weird 100 --iw 2 --tile --style raw --raw"
        " --r 4 --repeat 2 --stop 80 --sref 123 --cref 456 --sw 100 --cw 50 --p --personalize"
        " --draft --hd --unknown 3",
        command=GEN,
        prompt="a fox",
        custom_ratio="2:3",
        count=None,
    ),
    case(
        "dashes-in-text",
        "a cat -- very cute -- picture",
        command=GEN,
        prompt="a cat -- very cute -- picture",
    ),
    # ── sections ──────────────────────────────────────────────────────────────────────────
    *each(
        "negative-en",
        ["a cat, neg prompt: blurry", "a cat\nnegprompt: blurry"],
        command=GEN,
        negative_prompt="blurry",
    ),
    *each(
        "negative-zh",
        [
            "画一只猫\n反向提示：模糊",
            "画一只猫\n反向提示词：模糊",
            "画一只猫\n反向词：模糊",
            "画一只猫\n排除：模糊",
            "画一只猫\n负面提示：模糊",
            "画一只猫\n负面提示词：模糊",
            "画一只猫\n负面词：模糊",
        ],
        command=GEN,
        negative_prompt="模糊",
    ),
    case("seed-zh", "画一只猫，随机种子 42", command=GEN, seed=42),
    case("seed-value", "画一只猫，种子值7", command=GEN, seed=7),
    case("lyrics-below", "a song, lyrics below:\nla la la", command=GEN, lyrics="la la la"),
    case("lyrics-as-follows", "a song, lyrics as follows: la la", command=GEN, lyrics="la la"),
    case(
        "lyrics-zh", "写一首歌，歌词如下：\n春天来了", command=GEN, lyrics="春天来了", media=MUSIC
    ),
    # ── links ─────────────────────────────────────────────────────────────────────────────
    case(
        "link-png",
        "https://example.com/cat.png make it an oil painting",
        command=GEN,
        task_type=I2I,
        image_urls=("https://example.com/cat.png",),
        prompt="make it an oil painting",
    ),
    case(
        "link-said",
        "use this image https://example.com/photo?id=3 and animate it",
        command=GEN,
        task_type=I2V,
        image_urls=("https://example.com/photo?id=3",),
    ),
    case(
        "link-trailing-dot",
        "animate https://cdn.example.com/a/b.JPG.",
        command=GEN,
        image_urls=("https://cdn.example.com/a/b.JPG",),
    ),
    case(
        "link-two",
        "首尾帧 https://x.cn/1.webp https://x.cn/2.jpeg",
        command=GEN,
        task_type=TaskType.FIRST_LAST_FRAME_TO_VIDEO,
        image_urls=("https://x.cn/1.webp", "https://x.cn/2.jpeg"),
    ),
    case(
        "link-not-picture",
        "check https://example.com/page for ideas, draw a dog",
        command=GEN,
        image_urls=(),
        prompt="check https://example.com/page for ideas, draw a dog",
    ),
    case("link-http-ignored", "http://example.com/cat.png animate it", image_urls=()),
    case(
        "link-gif",
        "turn https://example.com/a.gif into a video",
        command=GEN,
        image_urls=("https://example.com/a.gif",),
    ),
    *each(
        "link-said-words",
        [
            "image link: https://example.com/a and animate it",
            "image url https://example.com/a, make it a video",
            "photo link https://example.com/a make it a video",
            "picture url: https://example.com/a make it move",
            "图片链接 https://example.com/a 做成视频",
            "图片地址：https://example.com/a 做成视频",
            "图链接 https://example.com/a 让它动起来",
            "照片链接 https://example.com/a 做成视频",
            "参考图 https://example.com/a 生成视频",
        ],
        command=GEN,
        image_urls=("https://example.com/a",),
    ),
    case("link-only", "https://example.com/cat.png", command=GEN, task_type=I2I, prompt=""),
    case("link-in-question", "is this real? https://example.com/a.png", command=Command.QUESTION),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

"""core.parse: Pictures: text to image and image to image."""

from __future__ import annotations

import pytest

from core.parse import Command, ModelScope
from tests.core.parse.support import GEN, I2I, IMAGE, T2I, VIDEO, Row, case, check, each

CASES = [
    # ── images, Chinese ──────────────────────────────────────────────────────────────────
    case(
        "zh-draw-shiba",
        "帮我画一只戴墨镜的柴犬",
        command=GEN,
        media=IMAGE,
        task_type=T2I,
        prompt="一只戴墨镜的柴犬",
        ambiguous=False,
    ),
    case(
        "zh-draw-one", "画一张赛博朋克风格的城市夜景", media=IMAGE, prompt="赛博朋克风格的城市夜景"
    ),
    case(
        "zh-model-4k",
        "用 Nano Banana Pro 画 4K 的赛博朋克城市",
        command=GEN,
        model="Nano Banana Pro",
        model_scope=ModelScope.THIS_TIME,
        size="4K",
        media=IMAGE,
        prompt="赛博朋克城市",
    ),
    case("zh-two-cats", "两张猫的图片", count=2, count_requested=2, media=IMAGE, prompt="猫的图片"),
    case("zh-three-no-noun", "生成三张赛博朋克城市", count=3, media=IMAGE, prompt="赛博朋克城市"),
    case("zh-wallpaper", "给我来一张星空壁纸", media=IMAGE, prompt="星空壁纸"),
    case("zh-logo", "设计一个咖啡店的logo", media=IMAGE, prompt="咖啡店的logo"),
    case(
        "zh-poster-ratio",
        "做一张生日海报，16:9",
        media=IMAGE,
        aspect_ratio="16:9",
        prompt="生日海报",
    ),
    case("zh-custom-ratio", "7:3 的横幅图片", media=IMAGE, custom_ratio="7:3", aspect_ratio=None),
    case("zh-4-5-ratio", "4:5 的人像照片", custom_ratio="4:5", media=IMAGE),
    case("zh-2-3-ratio", "2比3的海报", custom_ratio="2:3", media=IMAGE),
    case("zh-8k", "画一只猫，8K", wants_8k=True, size=None, prompt="一只猫"),
    case("zh-square-avatar", "正方形的头像，一只柴犬", aspect_ratio="1:1", media=IMAGE),
    case("zh-vertical-wallpaper", "竖屏壁纸，星空", aspect_ratio="9:16", media=IMAGE),
    case("zh-512px", "画 512px 的图标，一颗星星", size="512px", media=IMAGE),
    case(
        "zh-nb2-size",
        "Nano Banana 2 2K 画风景",
        model="Nano Banana 2",
        size="2K",
        media=IMAGE,
        prompt="风景",
    ),
    case("zh-landscape-painting", "画一幅山水画", media=IMAGE, task_type=T2I),
    case("zh-ten-too-many", "画10张猫", count=None, count_requested=10, media=IMAGE),
    case("zh-three-people", "三个人跳舞的视频", count=None, media=VIDEO),
    case("zh-clock-not-ratio", "下午3:30的咖啡馆插画", aspect_ratio=None, custom_ratio=None),
    case("zh-conch-not-model", "画一个海螺", model=None, media=IMAGE, prompt="海螺"),
    case("zh-emoji", "画一只🐱在月球上🌙", media=IMAGE, prompt="一只🐱在月球上🌙"),
    case("zh-emoji-subject", "🐱的图片", media=IMAGE, prompt="🐱的图片"),
    case("zh-high-quality", "高质量的猫咪图片", premium_requested=True, quality=None),
    case("zh-preferably", "最好是蓝色的猫的图片", quality=None, premium_requested=False),
    case("zh-better-draw", "你最好画一只猫", quality=None, media=IMAGE),
    case("zh-best-looking", "要最好看的猫的图片", quality=None, media=IMAGE),
    # ── images, English ──────────────────────────────────────────────────────────────────
    case(
        "en-draw", "draw a cat wearing sunglasses", media=IMAGE, prompt="a cat wearing sunglasses"
    ),
    case("en-three-foxes", "generate 3 images of a fox", count=3, media=IMAGE),
    case("en-four-variations", "four variations of a minimalist logo", count=4, media=IMAGE),
    case("en-too-many", "Make 6 pictures of a dog", count=None, count_requested=6),
    case("en-couple-not-number", "a couple of cats, image", count=None, media=IMAGE),
    case("en-music-festival", "a poster for a music festival", media=IMAGE),
    case("en-drawer", "photo of a drawer full of socks", media=IMAGE),
    case("en-please-draw", "can you please draw me a dragon", media=IMAGE, prompt="a dragon"),
    case("en-times-square", "an illustration of Times Square at night", aspect_ratio=None),
    case("en-landscape-scenery", "a landscape painting of mountains", aspect_ratio=None),
    case("en-portrait-mode", "portrait mode photo of a cat", aspect_ratio="9:16", media=IMAGE),
    case("en-square-ratio", "a photorealistic image of a mug, 1:1", aspect_ratio="1:1"),
    case(
        "en-clock",
        "image of a clock showing 10:30",
        aspect_ratio=None,
        custom_ratio=None,
        prompt="image of a clock showing 10:30",
    ),
    case("en-8k", "8K wallpaper of a mountain", wants_8k=True, media=IMAGE),
    case("en-wide-ratio", "32:9 ultra-wide wallpaper of a desert", custom_ratio="32:9"),
    case("en-video-game-poster", "video game poster with a knight", media=IMAGE),
    case("en-midjourney-style", "Midjourney style painting of a castle", model=None, media=IMAGE),
    case("en-premium-brand", "a premium coffee brand logo", premium_requested=False),
    case(
        "en-two-4k",
        "I want a picture of a red panda, 2 images, 4K",
        count=2,
        size="4K",
        media=IMAGE,
    ),
    case("en-ok-draw", "ok, draw a cat", command=GEN, prompt="a cat"),
    case("en-help-me-draw", "help me draw a cat", command=GEN, media=IMAGE),
    # ── image to image ───────────────────────────────────────────────────────────────────
    case("i2i-oil", "把这张照片变成油画风格", 1, media=IMAGE, task_type=I2I),
    # a film or animation as the look of a picture, not a video of it
    *(
        case(f"i2i-film-look-{i}", text, 1, task_type=I2I)
        for i, text in enumerate(
            [
                "把这张照片改成迪士尼动画风格",
                "变成日漫动画的感觉",
                "make this photo look like a still from a pixar movie",
                "make this a frame from a ghibli film",
                "give it a film look",
                "anime aesthetic pls",
            ]
        )
    ),
    case("i2v-film-feel", "做一个电影感的视频", 1, media=VIDEO),
    # what the picture shows, asked with a laugh
    *(
        case(f"picture-identity-{i}", text, 1, command=Command.QUESTION)
        for i, text in enumerate(
            ["wat is this lmao", "wut is that lol", "这啥 哈哈", "这是啥 笑死"]
        )
    ),
    case("picture-change-polite", "could you remove the car in the background", 1, command=GEN),
    case("i2i-vivid", "make it more vivid", 1, task_type=I2I, ambiguous=False),
    case("i2i-no-media-word", "a cat in space", 1, task_type=I2I, ambiguous=False),
    case("i2i-empty-text", "", 1, command=GEN, task_type=I2I, prompt=""),
    case("i2i-reference", "参考这张图画一只猫", 1, task_type=I2I),
    case("i2i-task-phrase", "图生图：换成水彩风格", 1, task_type=I2I),
    case(
        "i2i-missing-image",
        "把这张照片变成油画风格",
        task_type=I2I,
        mentions_input_image=True,
        ambiguous=False,
    ),
    # A picture with a laugh or chatter and no request: a remark about it.
    *(
        case(f"picture-remark-{i}", text, 1, command=Command.CHAT)
        for i, text in enumerate(
            [
                "我家猫 哈哈哈",
                "look at my cat lol",
                "嘻嘻 我的新发型",
                "嘿嘿",
                "笑哭 我家狗",
                "lmfao my dog",
                "rofl",
                "kek",
                "meet my dog",
                "hhhh 笑死",
                "xd",
                "我们家的 233",
            ]
        )
    ),
    # …but a laugh with a change is a request.
    case("picture-change-laugh", "把猫换成狗 哈哈", 1, command=GEN, task_type=I2I),
    case("picture-change-lol", "make it funnier lol", 1, command=GEN, task_type=I2I),
    # A change that names no change: the bot asks what to change.
    *(
        case(f"picture-vague-{i}", text, 1, command=Command.NONE)
        for i, text in enumerate(
            [
                "clean this up",
                "tidy up the photo",
                "优化一下",
                "弄好看点",
                "帮我p一下",
                "p个图",
                "修一下图",
                "修修吧",
                "改改",
                "弄一下",
                "处理一下",
                "搞一下",
                "edit this pls",
                "fix the photo",
                "touch up my photo",
                "ps this",
                "retouch the pic",
                "帮我 edit 一下 this",
                "fix 一下这张",
            ]
        )
    ),
    # ── kinds of picture with no request frame: a picture request (issue 12) ─────────────
    *each(
        "picture-kind-no-frame",
        [
            "pixel art of a fox sleeping under a tree",
            "pixel-art knight, 16 colors",
            "fan art of my favourite band",
            "line art of a koi fish",
            "digital art of a floating island",
            "product shots of my mug on a marble table",
            "a product photo of sneakers on white",
            "professional headshot, navy suit, grey background",
            "mockup of a coffee cup with our logo",
            "a mock-up of a phone case",
            "flyer for a garage sale this saturday",
            "doodle of a happy cloud",
            "caricature of a grumpy cat",
            "collage of summer memories",
            "an infographic about recycling",
            "twitch emotes of a frog",
            "a watercolor of a lighthouse at dusk",
            "character design sheet for a fox warrior",
            "tattoo design, a snake around a rose",
            "a birthday card for my mom with tulips",
            "a greeting card with snowmen",
            "christmas card, a cozy cabin",
            "comic about a cat who hates mondays",
        ],
        command=GEN,
        media=IMAGE,
        task_type=T2I,
    ),
    *each(
        "film-look-is-a-style",
        ["pls make my pic look like a ghibli movie", "make this look like an 80s film"],
        1,
        command=GEN,
        task_type=I2I,
    ),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

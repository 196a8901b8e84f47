"""core.parse: Chinese and English in one message, remarks before a request, complaints."""

from __future__ import annotations

import pytest

from core.parse import Command, EditKind
from tests.core.parse.support import GEN, I2V, IMAGE, MUSIC, VIDEO, Row, case, check, each

CASES = [
    case("mixed-come-a-song", "来首 chill 的 lofi", command=GEN, media=MUSIC),
    case("mixed-whole-song", "整首 lofi 写作业听", media=MUSIC),
    case("mixed-out-song", "出首 edm", media=MUSIC),
    case("mixed-make-song-style", "搞首 city pop", media=MUSIC),
    case("zh-poem-is-no-song", "来首诗", media=None),
    case("mixed-default-is-which", "default model 是哪个", command=Command.SHOW_PREFS),
    case("mixed-my-default-what", "我的 default 是啥", command=Command.SHOW_PREFS),
    case(
        "mixed-set-default-to", "set default 为 kling", command=Command.ALWAYS_MODEL, model="kling"
    ),
    case(
        "mixed-set-default-as", "set default 成 veo", command=Command.ALWAYS_MODEL, names=("veo",)
    ),
    case("mixed-reset-settings", "reset 一下我的设置", command=Command.RESET),
    case(
        "en-has-to-be-no-question",
        "pixverse with sound, has to be pixverse: a dog barking at the mailman",
        command=GEN,
        model="pixverse",
        names=("pixverse",),
    ),
    # ── mixed-language questions and look-ups: answers, never jobs ────────────────────────
    case("mixed-q-veo-dub", "veo能配音吗", command=Command.QUESTION, names=("veo",)),
    case("mixed-q-mj-i2i", "midjourney 能做图生图吗", command=Command.QUESTION),
    case("mixed-q-kling-4k", "kling可以做4k吗", command=Command.QUESTION),
    case("mixed-q-can-use-veo", "能不能用veo做video", command=Command.QUESTION, names=("veo",)),
    case("mixed-q-can-use-kling", "能不能用可灵", command=Command.USE_MODEL),
    case("mixed-usage", "我的 usage", command=Command.USAGE),
    case("mixed-credits", "查一下 credits", command=Command.USAGE),
    case("mixed-history", "我的 history", command=Command.HISTORY),
    case("mixed-gallery", "看看我的 gallery", command=Command.HISTORY),
    case("en-cheapest-video-model", "cheapest video model?", command=Command.QUESTION),
    # ── mixed language ────────────────────────────────────────────────────────────────────
    case(
        "mixed-cyberpunk", "帮我画个cyberpunk城市", command=GEN, media=IMAGE, prompt="cyberpunk城市"
    ),
    case("mixed-make", "make一个10秒的视频", command=GEN, media=VIDEO, duration=10, prompt=""),
    case("mixed-pic-again", "这个pic再来一张", command=Command.RETRY),
    case("mixed-kling-vid", "用kling做个vid", command=GEN, media=VIDEO, model="kling"),
    case(
        "mixed-anime-avatar",
        "给我整个anime风格的头像",
        command=GEN,
        media=IMAGE,
        prompt="anime风格的头像",
    ),
    case("mixed-lofi", "来一首lofi的歌", command=GEN, media=MUSIC, prompt="lofi的歌"),
    case("mixed-video-word", "做个video，猫在跳舞", command=GEN, media=VIDEO, prompt="猫在跳舞"),
    case("mixed-logo", "画个logo for my cafe", command=GEN, media=IMAGE, prompt="logo for my cafe"),
    case(
        "mixed-into-video",
        "这张图做成video",
        command=Command.EDIT,
        edit_kind=EditKind.MEDIA,
        task_type=I2V,
    ),
    case("mixed-retry-kling", "换成kling再来一次", command=Command.RETRY, model="kling"),
    case(
        "mixed-sora",
        "用sora做一个15秒的视频，竖屏",
        command=GEN,
        model="sora",
        duration=15,
        aspect_ratio="9:16",
    ),
    case("mixed-want", "i want 一张猫的图片", command=GEN, media=IMAGE, prompt="猫的图片"),
    case("mixed-cat-pic", "一张cat的pic", command=GEN, media=IMAGE),
    case("mixed-draw", "draw一只熊猫", command=GEN, media=IMAGE, prompt="一只熊猫"),
    case("mixed-mj", "用mj画一张海报：未来城市", command=GEN, model="mj", media=IMAGE),
    case(
        "mixed-vertical",
        "vertical video of a cat please",
        command=GEN,
        aspect_ratio="9:16",
        prompt="video of a cat",
    ),
    # ── parameters joined up ──────────────────────────────────────────────────────────────
    case(
        "and-vertical",
        "make it 15s and vertical",
        command=Command.EDIT,
        edit_kind=EditKind.PARAMS,
        duration=15,
        aspect_ratio="9:16",
    ),
    case("but-vertical", "再来一张但是要竖屏", command=Command.EDIT, edit_kind=EditKind.PARAMS),
    *each(
        "zh-but",
        ["再来一张，不过要竖屏", "然后竖屏", "而且要竖屏"],
        command=Command.EDIT,
        aspect_ratio="9:16",
    ),
    case("then-vertical", "then also vertical", command=Command.EDIT, aspect_ratio="9:16"),
    # ── remarks before a request ──────────────────────────────────────────────────────────
    case("nice-add", "nice, add a moon", command=Command.EDIT, prompt="add a moon"),
    case("good-more", "好看，再来三张", command=Command.EDIT, edit_kind=EditKind.MORE, count=3),
    case(
        "thanks-video",
        "thanks! now make it a video",
        command=Command.EDIT,
        edit_kind=EditKind.MEDIA,
    ),
    case("hello-draw", "你好，帮我画一只猫", command=GEN, prompt="一只猫"),
    case("hi-there-draw", "hello there, draw a cat", command=GEN, prompt="a cat"),
    case("good-morning-draw", "good morning, draw a cat", command=GEN, prompt="a cat"),
    case("hi-can-you", "hi can you make a video of a dog", command=GEN, media=VIDEO),
    # ── complaints ────────────────────────────────────────────────────────────────────────
    *each(
        "complaint",
        [
            "not what i wanted",
            "that's not right",
            "that's not it",
            "wrong",
            "huh",
            "hmm",
            "not what i asked for",
            "really?",
        ],
        command=Command.CHAT,
    ),
    case("complaint-retry", "wrong, try again", command=Command.RETRY),
    *each(
        "failure",
        [
            "my video didn't work",
            "it doesn't work",
            "not working",
            "it failed again",
            "broken",
            "error",
            "出错了",
            "又失败了",
            "报错了",
            "坏了",
            "没反应",
            "卡住了",
        ],
        command=Command.CHAT,
    ),
    case("complaint-retry-zh", "不对，重新生成", command=Command.RETRY),
    case(
        "complaint-then-request",
        "not what i meant, then a video of a dog",
        command=GEN,
        prompt="a video of a dog",
    ),
    # ── asking for help ───────────────────────────────────────────────────────────────────
    *each(
        "help",
        [
            "i need help",
            "need help",
            "help me",
            "help please",
            "please help",
            "can you help me",
            "帮帮我",
            "求助",
        ],
        command=Command.HELP,
    ),
    case("help-me-make", "help me make a song", command=GEN, media=MUSIC),
    *each(
        "how-to",
        ["ok so how do i make a video", "how do i make a video of waves", "how to make music here"],
        command=Command.QUESTION,
    ),
    # ── the medium word used as the request, in the other language, is not described ───────
    case(
        "mixed-label-pic",
        "pic 一个穿汉服的女孩在竹林里",
        command=GEN,
        media=IMAGE,
        prompt="一个穿汉服的女孩在竹林里",
    ),
    case(
        "mixed-label-video-of",
        "一个video of a cat surfing at sunset",
        media=VIDEO,
        prompt="a cat surfing at sunset",
    ),
    case("mixed-label-video", "来个 video 猫咪冲浪", media=VIDEO, prompt="猫咪冲浪"),
    case("mixed-label-vid", "整个 vid 小狗追蝴蝶", media=VIDEO, prompt="小狗追蝴蝶"),
    case(
        "mixed-label-picture-of",
        "画个 picture of 长城 at sunset",
        media=IMAGE,
        prompt="长城 at sunset",
    ),
    case("mixed-label-image", "generate 一张 image 赛博朋克城市 雨夜", prompt="赛博朋克城市 雨夜"),
    case("mixed-label-img", "img：樱花树下的猫", media=IMAGE, prompt="樱花树下的猫"),
    case(
        "mixed-label-zh-in-en",
        "make a 视频 of fireworks over the bund",
        media=VIDEO,
        prompt="fireworks over the bund",
    ),
    case("mixed-label-song", "song 一首关于夏天的 轻快", media=MUSIC, prompt="关于夏天的 轻快"),
    case("mixed-label-colon", "一张 pic：海边的小狗", media=IMAGE, prompt="海边的小狗"),
    case("mixed-tail-pic", "海边的小狗 pic pls", media=IMAGE, prompt="海边的小狗"),
    case("mixed-tail-de-video", "一只猫在弹钢琴的 video", media=VIDEO, prompt="一只猫在弹钢琴"),
    case("mixed-tail-video", "生成 海边日落 video", media=VIDEO, prompt="海边日落"),
    # in one language the words describe: they stay
    case("one-language-video-of", "make a video of a cat", prompt="a video of a cat"),
    case("one-language-pic-of", "pic of a cat 在草地上", prompt="pic of a cat 在草地上"),
    case("one-language-zh-tail", "来一首lofi的歌", prompt="lofi的歌"),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

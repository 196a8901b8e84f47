"""core.parse: Model names, qualities and preference commands."""

from __future__ import annotations

import pytest

from core.parse import Command, ModelScope, Quality
from tests.core.parse.support import GEN, IMAGE, MUSIC, VIDEO, Row, case, check

CASES = [
    # ── a Latin model name before a media word, in either language ──────────────────────────
    case(
        "mixed-sora-de-video",
        "帮我生成一个 sora 的 video，下雨的纽约街头 12s",
        command=GEN,
        model="sora",
        media=VIDEO,
        prompt="下雨的纽约街头",
    ),
    case("zh-veo-video", "来个 veo 视频 海边日落", model="veo", media=VIDEO, names=("veo",)),
    case("zh-sora-de-video", "sora的视频 一只猫", model="sora", prompt="一只猫"),
    case("zh-suno-song", "帮我写首 suno 的歌 关于夏天", model="Suno", media=MUSIC),
    case("zh-mj-picture", "整张 mj 图片 赛博朋克", model="mj", media=IMAGE),
    case("zh-kling-clip", "做个 kling 短片", model="kling", media=VIDEO),
    case("mixed-suno-bgm", "来段 suno bgm", model="Suno"),
    case("mixed-kling-pic", "一张 kling 的 pic", model="kling"),
    case("en-kling-clip", "make a kling clip of a cat", model="kling", prompt="a clip of a cat"),
    case("en-sora-vid", "need a sora vid of a dog surfing", model="sora"),
    case("en-mj-image", "quick mj image of a lighthouse", model="mj"),
    case("en-suno-track", "a suno track for my stream, chill", model="Suno"),
    case("en-mj-picture", "one mj picture of a fox", model="mj"),
    case("zh-about-sora", "一个关于sora的视频", model=None, media=VIDEO),
    case("zh-introducing-sora", "做个介绍sora的视频", model=None),
    case("en-about-sora", "a video about sora video generation", model=None),
    case("en-explaining-sora", "a clip explaining sora video tricks", model=None),
    # ── model directives and preferences ─────────────────────────────────────────────────
    case(
        "always-kling",
        "以后都用可灵",
        command=Command.ALWAYS_MODEL,
        model="可灵",
        model_scope=ModelScope.ALWAYS,
    ),
    case("use-kling", "用可灵", command=Command.USE_MODEL, model_scope=ModelScope.THIS_TIME),
    case("switch-hailuo", "换成海螺", command=Command.USE_MODEL, model="海螺"),
    case("change-veo", "改用 Veo 3.1", command=Command.USE_MODEL, model="Veo 3.1"),
    case("en-use-suno", "use suno", command=Command.USE_MODEL, model="Suno"),
    case("en-always", "always use Kling O1", command=Command.ALWAYS_MODEL, model="Kling O1"),
    case(
        "en-make-default",
        "make Nano Banana Pro my default",
        command=Command.ALWAYS_MODEL,
        model="Nano Banana Pro",
    ),
    case("zh-default-wanx", "默认用万相", command=Command.ALWAYS_MODEL, model="万相"),
    case(
        "zh-always-video",
        "以后视频都用可灵",
        command=Command.ALWAYS_MODEL,
        model="可灵",
        media=VIDEO,
    ),
    case(
        "zh-set-default",
        "把默认模型设为 SeeDream 4.5",
        command=Command.ALWAYS_MODEL,
        model="SeeDream 4.5",
    ),
    case("zh-set-as-default", "把可灵设为默认", command=Command.ALWAYS_MODEL, model="可灵"),
    case("bare-latin-name", "Kling O1", command=Command.USE_MODEL, model="Kling O1"),
    case("bare-cjk-name", "可灵", command=Command.USE_MODEL, model="可灵"),
    case("en-switch-wan", "switch to wan2.6", command=Command.USE_MODEL, model="Wan 2.6"),
    case("hyphenated", "用 nano-banana-pro 画一只猫", model="Nano Banana Pro", media=IMAGE),
    case("shouting", "NANO BANANA PRO 画一只猫", model="Nano Banana Pro"),
    case("squashed", "nanobanana pro: a cat on the moon, image", model="Nano Banana Pro"),
    case("no-space-version", "seedream4.5 画一只熊猫", model="SeeDream 4.5"),
    case("longest-wins", "用 Kling 2.6 生成视频：烟花", model="Kling 2.6"),
    case("longest-wins-pro", "Vidu Q2 Pro 生成视频：海浪", model="Vidu Q2 Pro"),
    case("negated-model", "不要用海螺，用可灵生成一个视频：猫", model="可灵"),
    case("take-verb", "拿可灵做个猫的视频", model="可灵", prompt="猫的视频"),
    case(
        "always-generate",
        "以后都用 Nano Banana Pro 画一只猫",
        command=GEN,
        model="Nano Banana Pro",
        model_scope=ModelScope.ALWAYS,
        prompt="一只猫",
    ),
    case(
        "use-kling-retry",
        "用可灵重新生成",
        command=Command.RETRY,
        model="可灵",
    ),
    # ── quality and another model ────────────────────────────────────────────────────────
    case("zh-best", "用最好的", command=Command.BEST, quality=Quality.BEST, premium_requested=True),
    case(
        "zh-best-generate",
        "用最好的模型画一只猫",
        command=GEN,
        quality=Quality.BEST,
        media=IMAGE,
        prompt="一只猫",
    ),
    case("en-best-quality", "best quality", command=Command.BEST),
    case("en-use-the-best", "use the best model", command=Command.BEST),
    case("zh-cheap", "用便宜的", command=Command.CHEAPEST, quality=Quality.CHEAPEST),
    case("zh-cheapest", "用最便宜的", command=Command.CHEAPEST),
    case(
        "en-cheapest-video",
        "cheapest video of a cat",
        command=GEN,
        quality=Quality.CHEAPEST,
        media=VIDEO,
        prompt="video of a cat",
    ),
    case(
        "zh-always-cheapest",
        "以后都用最便宜的",
        command=Command.CHEAPEST,
        model_scope=ModelScope.ALWAYS,
    ),
    case("zh-another", "换个模型", command=Command.ANOTHER_MODEL, another_model=True),
    case("zh-another-retry", "换个模型再试一次", command=Command.ANOTHER_MODEL),
    case("en-another", "try another model", command=Command.ANOTHER_MODEL),
    case("en-different", "different model please", command=Command.ANOTHER_MODEL),
    case(
        "zh-another-generate",
        "换个模型画一只猫",
        command=GEN,
        another_model=True,
        prompt="一只猫",
    ),
    # ── preference commands ──────────────────────────────────────────────────────────────
    case("zh-reset", "清除我的偏好", command=Command.RESET, media=None),
    case("zh-reset-video", "重置视频偏好", command=Command.RESET, media=VIDEO),
    case("en-reset", "reset my preferences", command=Command.RESET),
    case("en-forget", "forget my default", command=Command.RESET),
    case("zh-show", "我的偏好", command=Command.SHOW_PREFS),
    case("en-show", "what's my default model?", command=Command.SHOW_PREFS),
    case("en-show-prefs", "show my preferences", command=Command.SHOW_PREFS),
    # ── single-word names are words too ──────────────────────────────────────────────────
    case("sonic-hedgehog", "draw Sonic the hedgehog", model=None, prompt="Sonic the hedgehog"),
    case("gemini-zodiac", "a gemini zodiac poster", model=None, media=IMAGE),
    case("mj-dancing", "a poster of MJ dancing", model=None),
    case("sora-bird", "a video of a sora bird", model=None, media=VIDEO),
    case("banana", "画一根香蕉", model=None, prompt="一根香蕉"),
    case("conch-picture", "海螺的图片", model=None, media=IMAGE),
    case("banana-directed", "用香蕉画一只猫", model="香蕉", prompt="一只猫"),
    case("cjk-before-verb", "即梦画一只猫", model="即梦", prompt="一只猫"),
    case("cjk-before-verb-video", "可灵生成一个视频：猫在冲浪", model="可灵", prompt="猫在冲浪"),
    case("cjk-before-light-verb", "可灵来段猫在冲浪的视频", model="可灵"),
    case("cjk-before-light-verb-one", "即梦整一张水墨山水", model="即梦"),
    case("latin-at-start", "kling: a cat surfing, video", model="kling", media=VIDEO),
    case("latin-at-start-zh", "Suno 写一首歌，关于大海", model="Suno", prompt="关于大海"),
    case("latin-at-end", "a cat surfing, video, minimax", model="minimax"),
    case("latin-directed", "用sonic写歌：夏天", model="sonic", prompt="夏天", media=MUSIC),
    case("long-alias", "用通义万相生成视频：雪山", model="通义万相", prompt="雪山"),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

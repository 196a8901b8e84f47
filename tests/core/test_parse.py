"""core.parse: real chat phrasings in Chinese, English and both, row by row.

Each row asserts only the fields it is about; ``_ANY`` rows check the command alone.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest

from core.ima.tasks import MediaKind, TaskType
from core.parse import (
    Command,
    ModelScope,
    ParsedMessage,
    Quality,
    QuestionHint,
    parse_message,
)

MODEL_NAMES = (
    "SeeDream 4.5",
    "Nano Banana Pro",
    "Nano Banana 2",
    "Midjourney",
    "Kling O1",
    "Kling 2.6",
    "可灵",
    "Wan 2.6",
    "万相",
    "Hailuo 2.3",
    "Hailuo 2.0",
    "Hailuo",
    "海螺",
    "Veo 3.1",
    "Google Veo 3.1",
    "Sora 2 Pro",
    "Seedance 1.5 Pro",
    "Pixverse V5.5",
    "Pixverse",
    "Vidu Q2",
    "Vidu Q2 Pro",
    "Suno",
    "DouBao BGM",
    "DouBao Song",
    # Single-word aliases, as the catalog offers them.
    "kling",
    "sora",
    "suno",
    "sonic",
    "gemini",
    "minimax",
    "mj",
    "即梦",
    "香蕉",
    "通义万相",
)

GEN = Command.GENERATE
IMAGE, VIDEO, MUSIC = MediaKind.IMAGE, MediaKind.VIDEO, MediaKind.MUSIC
T2I, I2I = TaskType.TEXT_TO_IMAGE, TaskType.IMAGE_TO_IMAGE
T2V, I2V = TaskType.TEXT_TO_VIDEO, TaskType.IMAGE_TO_VIDEO
FLF, REF = TaskType.FIRST_LAST_FRAME_TO_VIDEO, TaskType.REFERENCE_IMAGE_TO_VIDEO
T2M = TaskType.TEXT_TO_MUSIC
LONG_PROMPT = "画" + "一只在雨中奔跑的橘猫，" * 2000


def case(case_id: str, text: str, images: int = 0, **expected: Any) -> Any:
    return pytest.param(text, images, expected, id=case_id)


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
    # ── video ────────────────────────────────────────────────────────────────────────────
    case(
        "zh-kling-dog",
        "用可灵生成一个跳舞的小狗视频",
        command=GEN,
        model="可灵",
        model_scope=ModelScope.THIS_TIME,
        media=VIDEO,
        task_type=T2V,
        prompt="跳舞的小狗视频",
    ),
    case("i2v-move", "让这张图动起来", 1, command=GEN, media=VIDEO, task_type=I2V),
    case(
        "i2v-no-image",
        "让这张图动起来",
        task_type=I2V,
        mentions_input_image=True,
        ambiguous=False,
    ),
    case("i2v-animate", "animate this photo, gentle wind", 1, task_type=I2V),
    case("i2v-make-it-move", "make it move", 1, media=VIDEO, task_type=I2V),
    case("i2v-task-phrase", "图生视频", 1, task_type=I2V),
    case("flf-two", "首尾帧 生成视频", 2, task_type=FLF),
    case("flf-none-attached", "首尾帧 生成视频", task_type=FLF, mentions_input_image=True),
    case("flf-one-attached", "首帧是这张图，生成视频", 1, task_type=I2V),
    case("flf-both-one-attached", "首尾帧视频，从白天到黑夜", 1, task_type=FLF),
    case("flf-last-frame", "尾帧用这张图，生成视频", 1, task_type=FLF),
    case("flf-transition", "从这张过渡到那张，做成视频", 2, task_type=FLF),
    case("flf-english", "first and last frame video, smooth transition", 2, task_type=FLF),
    case("ref-keep-role", "参考这两张图，生成一个视频，保持角色一致", 2, task_type=REF),
    case("ref-two-plain", "用这两张图生成视频", 2, task_type=REF),
    case("ref-one", "make a video keeping this character, walking in the rain", 1, task_type=REF),
    case(
        "en-video-params",
        "a 10s 1080p video of waves, 9:16",
        duration=10,
        resolution="1080P",
        aspect_ratio="9:16",
        media=VIDEO,
        prompt="a video of waves",
    ),
    case("zh-30s", "30秒的视频", duration=30, media=VIDEO, prompt=""),
    case("zh-ten-seconds", "十秒的海浪视频", duration=10, media=VIDEO),
    case("zh-twenty-seconds", "二十秒的视频，一只鹰在飞", duration=20),
    case("zh-fifteen-landscape", "一段15秒的延时摄影视频，横屏", duration=15, aspect_ratio="16:9"),
    case("zh-one-minute", "1分钟的视频，海边日落", duration=60),
    case("zh-minute-half", "一分半的视频，城市夜景", duration=90),
    case("zh-min-sec", "1分30秒的视频，城市夜景", duration=90),
    case("en-10-second", "a 10-second clip of a rocket launch", duration=10, media=VIDEO),
    case("en-five-second", "make a five second animation of a bouncing ball", duration=5),
    case(
        "zh-vertical-720",
        "竖屏视频，720p，猫在弹钢琴",
        aspect_ratio="9:16",
        resolution="720P",
        media=VIDEO,
    ),
    case("zh-ratio-word", "16比9的视频，赛车", aspect_ratio="16:9", media=VIDEO),
    case("zh-cinema", "21:9 电影感视频，沙漠", aspect_ratio="21:9", media=VIDEO),
    case("zh-with-sound", "带音效的视频：雷雨中的森林", audio=True, media=VIDEO),
    case("zh-silent", "无声视频，海边日落", audio=False, media=VIDEO),
    case("en-with-sound", "a video of a dog barking, with sound", audio=True),
    case("en-silent-video", "a silent video of snow falling", audio=False),
    case("en-silent-description", "a silent forest at dawn, video", audio=None, media=VIDEO),
    case("zh-bgm-video", "带背景音乐的视频，咖啡馆", audio=True, media=VIDEO),
    case("zh-hd", "高清视频：城市车流", resolution="1080P", media=VIDEO),
    case("en-4k-video", "4K video of the northern lights", resolution="4K", media=VIDEO),
    case("en-music-video", "music video for a rock song", media=VIDEO),
    case("zh-singing-girl", "一个女孩在唱歌的视频", media=VIDEO),
    case("zh-frame-word", "画面要暗一点的视频，雨夜街道", media=VIDEO),
    case("zh-hailuo-directive", "用海螺生成视频：海浪", model="海螺", media=VIDEO),
    case(
        "mixed-veo-audio",
        "换成 Veo 3.1 生成一个带声音的视频，一只狗在叫",
        model="Veo 3.1",
        audio=True,
        media=VIDEO,
    ),
    case(
        "en-model-implies-media",
        "Sora 2 Pro: an astronaut riding a horse, 8 seconds",
        model="Sora 2 Pro",
        duration=8,
        ambiguous=False,
    ),
    case("en-decade", "a 90s style music video", duration=None, media=VIDEO),
    case("en-with-kling", "generate a video with 可灵 of a cat surfing", model="可灵"),
    case(
        "zh-all-params",
        "10秒 1080p 竖屏 视频 海浪",
        duration=10,
        resolution="1080P",
        aspect_ratio="9:16",
        media=VIDEO,
        prompt="海浪",
    ),
    case("zh-make-video-empty", "生成一个视频", command=GEN, media=VIDEO, prompt=""),
    case("en-make-video-empty", "make a video", command=GEN, media=VIDEO, prompt=""),
    # ── music ────────────────────────────────────────────────────────────────────────────
    case(
        "en-lofi-lyrics",
        "make a lo-fi song, female vocals, lyrics: Rain on the window\nCoffee in my hand",
        media=MUSIC,
        task_type=T2M,
        vocal_gender="female",
        lyrics="Rain on the window\nCoffee in my hand",
        prompt="a lo-fi song, female vocals",
    ),
    case("zh-instrumental", "纯音乐 钢琴 放松", instrumental=True, media=MUSIC, prompt="钢琴 放松"),
    case("zh-5-minutes", "5分钟的音乐", music_duration=300, duration=None, media=MUSIC),
    case("zh-two-minute-song", "两分钟的歌，关于夏天", music_duration=120),
    case("en-3-minute", "make a 3 minute track, chill lo-fi", music_duration=180, media=MUSIC),
    case(
        "zh-summer-song",
        "写一首关于夏天的歌，男声",
        media=MUSIC,
        vocal_gender="male",
        prompt="关于夏天的歌，男声",
    ),
    case("zh-bgm", "来首欢快的背景音乐", media=MUSIC, prompt="欢快的背景音乐"),
    case(
        "zh-lyrics-only",
        "歌词：\n第一行\n\n\n\n第二行",
        media=MUSIC,
        lyrics="第一行\n\n第二行",
        prompt="",
    ),
    case("en-no-vocals", "upbeat electronic music, 120 BPM, no vocals", instrumental=True),
    case("en-with-vocals", "a song with vocals about the sea", instrumental=False, media=MUSIC),
    case("zh-doubao-bgm", "DouBao BGM 来一段轻松的咖啡馆音乐", model="DouBao BGM", media=MUSIC),
    case(
        "zh-suno-song",
        "用 Suno 写一首歌",
        command=GEN,
        model="Suno",
        media=MUSIC,
        prompt="",
    ),
    case("en-rain-song", "a song about rain", media=MUSIC, task_type=T2M),
    case("zh-song-empty", "来首歌", command=GEN, media=MUSIC, prompt=""),
    case("en-decade-track", "80s synthwave track", music_duration=None, media=MUSIC),
    case("en-1920s", "a 1920s jazz song", music_duration=None, duration=None),
    case("zh-two-songs", "两首歌，说唱风格", count=2, media=MUSIC),
    case("zh-music-for-my-video", "给我的视频配乐", media=MUSIC),
    case("en-race-track", "a race track at sunset, poster", media=IMAGE),
    case(
        "mixed-suno-female",
        "用Suno写一首lo-fi歌曲，female vocals",
        model="Suno",
        vocal_gender="female",
        media=MUSIC,
    ),
    case("music-images-ignored", "为这张图配一首歌", 1, media=MUSIC, task_type=T2M),
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
        command=Command.USE_MODEL,
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
    # ── replies, help, chit-chat ─────────────────────────────────────────────────────────
    case("yes-zh", "是", command=Command.CONFIRM_YES),
    case("yes-ok-zh", "好的", command=Command.CONFIRM_YES),
    case("yes-repeated", "嗯嗯，好的！", command=Command.CONFIRM_YES),
    case("yes-en", "Yes", command=Command.CONFIRM_YES),
    case("yes-y", "y", command=Command.CONFIRM_YES),
    case("yes-sure", "sure!", command=Command.CONFIRM_YES),
    case("no-zh", "否", command=Command.CONFIRM_NO),
    case("no-zh-polite", "不用了，谢谢", command=Command.CONFIRM_NO),
    case("no-en", "no", command=Command.CONFIRM_NO),
    case("no-once", "just this once", command=Command.CONFIRM_NO),
    case("no-this-time", "仅本次", command=Command.CONFIRM_NO),
    case("help-en", "help", command=Command.HELP),
    case("help-slash", "/help", command=Command.HELP),
    case("help-zh", "帮助", command=Command.HELP),
    case("help-what-zh", "你能做什么？", command=Command.HELP),
    case("help-what-en", "what can you do?", command=Command.HELP),
    case("none-hi", "hi", command=Command.NONE),
    case("none-nihao", "你好！", command=Command.NONE),
    case("none-thanks", "thanks!", command=Command.NONE),
    case("none-xiexie", "谢谢", command=Command.NONE),
    case("none-emoji", "👍", command=Command.NONE),
    case("none-empty", "", command=Command.NONE),
    case("none-spaces", "   ", command=Command.NONE),
    case("none-zero-width", "\u200b\u200d\ufeff", command=Command.NONE),
    case("none-punctuation", "???", command=Command.NONE),
    case("none-question", "what is the capital of France?", command=Command.NONE),
    case("none-question-zh", "为什么天是蓝的", command=Command.NONE),
    case("retry-zh", "再来一次", command=Command.RETRY),
    case("retry-en", "again", command=Command.RETRY),
    case("retry-one-more", "再来一张", command=Command.RETRY),
    case("retry-with-subject", "再来一张狗的图片", command=GEN, media=IMAGE),
    # ── ambiguity ────────────────────────────────────────────────────────────────────────
    case(
        "ambiguous-cat",
        "a cat in space",
        command=GEN,
        media=None,
        task_type=None,
        ambiguous=True,
        question_hint=QuestionHint.MEDIA,
        prompt="a cat in space",
    ),
    case(
        "ambiguous-vivid",
        "make it more vivid",
        command=GEN,
        ambiguous=True,
        question_hint=QuestionHint.SOURCE,
        prompt="make it more vivid",
    ),
    case("ambiguous-question-mark", "a cat in space?", command=GEN, ambiguous=True),
    case("ambiguous-can-you", "can you make a cat in space?", command=GEN, ambiguous=True),
    case("ambiguous-zh", "一只在太空漂浮的猫", command=GEN, question_hint=QuestionHint.MEDIA),
    case("ambiguous-image-and-video", "画一个小猫画画的视频", media=None, ambiguous=True),
    case("ambiguous-ratio-only", "9:16", command=GEN, aspect_ratio="9:16", ambiguous=True),
    case("edit-earlier-ratio", "改成竖屏", command=GEN, question_hint=QuestionHint.SOURCE),
    # ── sections and cleaning ────────────────────────────────────────────────────────────
    case(
        "negative-en",
        "画一只猫\nnegative: blurry, low quality",
        negative_prompt="blurry, low quality",
        prompt="一只猫",
    ),
    case(
        "negative-zh",
        "避免：模糊、变形\n生成一个城市夜景视频",
        negative_prompt="模糊、变形",
        media=VIDEO,
    ),
    case("without-kept", "a photo of a beach without people", negative_prompt=None),
    case("seed-en", "a cat poster, seed 42", seed=42, prompt="a cat poster"),
    case("seed-zh", "种子42 画一只猫", seed=42, prompt="一只猫"),
    case("zero-width", "画一只\u200b猫\u200d", prompt="一只猫"),
    case("control-chars", "画一只猫\x07\x1b", prompt="一只猫"),
    case("full-width", "１０秒的视频，１６：９，海浪", duration=10, aspect_ratio="16:9"),
    case("no-names-no-model", "用可灵生成视频：猫", model=None),
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
    case("latin-at-start", "kling: a cat surfing, video", model="kling", media=VIDEO),
    case("latin-at-start-zh", "Suno 写一首歌，关于大海", model="Suno", prompt="关于大海"),
    case("latin-at-end", "a cat surfing, video, minimax", model="minimax"),
    case("latin-directed", "用sonic写歌：夏天", model="sonic", prompt="夏天", media=MUSIC),
    case("long-alias", "用通义万相生成视频：雪山", model="通义万相", prompt="雪山"),
    # ── prompt frames ────────────────────────────────────────────────────────────────────
    case("frame-label", "帮我生成一张图片：一只在草地上的小狗", prompt="一只在草地上的小狗"),
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
    # ── feedback, questions ──────────────────────────────────────────────────────────────
    case("feedback-another", "这个不好看，换个模型", command=Command.ANOTHER_MODEL),
    case("feedback-edit", "再来一张，换成蓝色", question_hint=QuestionHint.SOURCE),
    case("weather-question", "今天天气怎么样", command=Command.NONE),
    case("which-model", "what model are you using", command=Command.SHOW_PREFS),
    case("top-ten-not-count", "make a poster of the top 10 songs of 2024", count=None, media=IMAGE),
    case("collage-not-count", "a collage with 3 photos of my dog", count=None, media=IMAGE),
    case("poster-has-photos", "海报上有三张照片", count=None, media=IMAGE),
    case("noun-after-count", "一张图片，内容是一个男人在看视频", media=IMAGE, count=1),
    case(
        "listening-to-music", "a girl with headphones listening to music, illustration", media=IMAGE
    ),
    case("en-outer-head", "a video of a man singing a song about love", media=VIDEO),
    case("zh-outer-head", "一个唱歌的女孩的视频", media=VIDEO, prompt="唱歌的女孩的视频"),
    case("age-not-decade", "a man in his 30s reading a book, video", duration=None),
    case("seconds-at-end", "a cat video, 30s", duration=30, prompt="a cat video"),
    case("always-prefs-verb", "以后都用可灵生成视频", command=Command.ALWAYS_MODEL, media=VIDEO),
    case("long-prompt", LONG_PROMPT, command=GEN, media=IMAGE),
]


@pytest.mark.parametrize(("text", "images", "expected"), CASES)
def test_parse(text: str, images: int, expected: dict[str, Any]) -> None:
    names = () if text == "用可灵生成视频：猫" else MODEL_NAMES
    parsed = parse_message(text, image_count=images, model_names=names)
    actual = {field: getattr(parsed, field) for field in expected}
    assert actual == expected


def test_table_is_large() -> None:
    assert len(CASES) >= 120


def test_long_prompt_is_kept_whole() -> None:
    parsed = parse_message(LONG_PROMPT, model_names=MODEL_NAMES)
    assert parsed.prompt == LONG_PROMPT[1:].rstrip("，")


def test_model_is_returned_as_given() -> None:
    parsed = parse_message("用 kling o1 生成视频：海浪", model_names=("KLING o1",))
    assert parsed.model == "KLING o1"


def test_display_spelling_wins_among_equal_names() -> None:
    for names in (("suno", "Suno"), ("Suno", "suno")):
        assert parse_message("用 Suno 画一只猫", model_names=names).model == "Suno"


def test_model_never_matches_inside_a_word() -> None:
    parsed = parse_message("I want a sunoise klingon video", model_names=("Wan", "Suno", "Kling"))
    assert parsed.model is None


def test_longest_name_wins_regardless_of_order() -> None:
    names = ("Kling", "Pixverse", "Kling O1", "Pixverse V5.5")
    assert parse_message("用 kling-o1 生成视频：猫", model_names=names).model == "Kling O1"
    assert parse_message("pixverse v5.5 video of a cat", model_names=names).model == (
        "Pixverse V5.5"
    )


def test_parsed_message_is_frozen() -> None:
    parsed = parse_message("画一只猫")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.prompt = "x"  # type: ignore[misc]


def test_negative_image_count_is_treated_as_none() -> None:
    assert parse_message("a cat in space", image_count=-3).ambiguous


_FRAGMENTS = (
    "画",
    "视频",
    "歌词：",
    "lyrics:",
    "negative:",
    "seed ",
    "种子",
    "用",
    "以后都用",
    "可灵",
    "Kling O1",
    "nano banana",
    "16:9",
    "７：３",
    "10s",
    "十五秒",
    "分钟",
    "4K",
    "8k",
    "512px",
    "两张",
    "3 images",
    "首尾帧",
    "这张图",
    "make it",
    "的",
    "，",
    "?",
    "\n",
    "\u200b",
    "\x00",
    "\x01",
    "\ud800",
    "🐱",
    "👨‍👩‍👧",
    "Ａ",
    "\u3000",
    "(",
    ")",
    "[",
    "\\",
    "*",
    "9" * 30,
    "一二三四五六七八九十百",
    "   ",
)


def test_never_raises_on_arbitrary_text() -> None:
    """Seeded fuzzing (hypothesis is not a project dependency)."""
    rng = random.Random(20260227)
    for _ in range(3000):
        parts = [rng.choice(_FRAGMENTS) for _ in range(rng.randint(0, 12))]
        parts += [chr(rng.randint(0, 0x2FFFF)) for _ in range(rng.randint(0, 4))]
        rng.shuffle(parts)
        text = "".join(parts)
        parsed = parse_message(text, image_count=rng.randint(0, 3), model_names=MODEL_NAMES)
        assert isinstance(parsed, ParsedMessage)
        assert "\x00" not in parsed.prompt
        assert "\x01" not in parsed.prompt
        assert parsed.count is None or 1 <= parsed.count <= 4
        assert parsed.prompt == parsed.prompt.strip()
        if parsed.command is not Command.GENERATE:
            assert parsed.prompt == ""
            assert not parsed.ambiguous

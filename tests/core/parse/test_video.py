"""core.parse: Videos: media words, parameters, frames and references."""

from __future__ import annotations

import pytest

from core.parse import ModelScope
from tests.core.parse.support import FLF, GEN, I2V, REF, T2V, VIDEO, Row, case, check

CASES = [
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
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

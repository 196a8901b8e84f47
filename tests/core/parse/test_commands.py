"""core.parse: Ambiguity, feedback and questions."""

from __future__ import annotations

import pytest

from core.parse import Command, Edit, EditKind, Question, QuestionHint, QuestionTopic
from tests.core.parse.support import GEN, IMAGE, LONG_PROMPT, VIDEO, Row, case, check

CASES = [
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
        "edit-vivid",
        "make it more vivid",
        command=Command.EDIT,
        edit=Edit(EditKind.CONTENT),
        ambiguous=False,
        prompt="make it more vivid",
    ),
    case("ambiguous-question-mark", "a cat in space?", command=GEN, ambiguous=True),
    case("ambiguous-can-you", "can you make a cat in space?", command=GEN, ambiguous=True),
    case("ambiguous-zh", "一只在太空漂浮的猫", command=GEN, question_hint=QuestionHint.MEDIA),
    case("ambiguous-image-and-video", "画一个小猫画画的视频", media=None, ambiguous=True),
    case(
        "edit-ratio-only",
        "9:16",
        command=Command.EDIT,
        edit=Edit(EditKind.PARAMS),
        aspect_ratio="9:16",
        prompt="",
    ),
    case("edit-earlier-ratio", "改成竖屏", command=Command.EDIT, edit=Edit(EditKind.PARAMS)),
    # ── feedback, questions ──────────────────────────────────────────────────────────────
    case("feedback-another", "这个不好看，换个模型", command=Command.ANOTHER_MODEL),
    case(
        "feedback-edit",
        "再来一张，换成蓝色",
        command=Command.EDIT,
        edit=Edit(EditKind.CONTENT),
        prompt="换成蓝色",
    ),
    case(
        "weather-question",
        "今天天气怎么样",
        command=Command.QUESTION,
        question=Question(QuestionTopic.OTHER),
    ),
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


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

"""core.parse as a whole: model names as given, frozen results, long and arbitrary text."""

from __future__ import annotations

import dataclasses
import random

import pytest

from core.parse import PASSES, Command, ParsedMessage, parse_message
from tests.core.parse.support import LONG_PROMPT, MODEL_NAMES


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
        if parsed.command not in (Command.GENERATE, Command.EDIT):
            assert parsed.prompt == ""
        if parsed.command is not Command.GENERATE:
            assert not parsed.ambiguous
            assert not parsed.unsure
        assert (parsed.question is not None) == (parsed.command is Command.QUESTION)
        assert (parsed.edit is not None) == (parsed.command is Command.EDIT)


#: Code point ranges people's messages come from: ASCII, Latin, combining marks, Arabic and
#: Hebrew (right to left), CJK, Hangul, full-width forms, emoji, and a lone surrogate.
_RANGES = (
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x300, 0x36F),
    (0x590, 0x6FF),
    (0x3000, 0x30FF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xFF01, 0xFF5E),
    (0x1F300, 0x1FAFF),
    (0xD800, 0xD800),
)


def _random_text(rng: random.Random) -> str:
    chars = []
    for _ in range(rng.randint(0, 40)):
        low, high = rng.choice(_RANGES)
        chars.append(chr(rng.randint(low, high)))
        if rng.random() < 0.2:
            chars.append(" ")
    return "".join(chars)


def test_deterministic_and_total_on_random_unicode() -> None:
    """The same message always reads the same, whatever it is made of."""
    rng = random.Random(31337)
    for _ in range(1500):
        text = _random_text(rng)
        images = rng.randint(0, 2)
        first = parse_message(text, image_count=images, model_names=MODEL_NAMES)
        again = parse_message(text, image_count=images, model_names=MODEL_NAMES)
        assert first == again
        assert "\x00" not in first.prompt
        assert "\x01" not in first.prompt
        if first.command not in (Command.GENERATE, Command.EDIT):
            assert first.prompt == ""


def test_passes_are_listed_once_in_order() -> None:
    """The reading order is written once, in core/parse/__init__.py."""
    names = [f"{p.__module__.rsplit('.', 1)[-1]}.{p.__name__}" for p in PASSES]
    assert len(names) == len(set(names))
    assert names[0] == "clean.clean"
    assert names[-1] == "prompt.prompt"

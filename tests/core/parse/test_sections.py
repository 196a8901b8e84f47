"""core.parse: Sections (lyrics, negative prompt, seed) and cleaning."""

from __future__ import annotations

import pytest

from tests.core.parse.support import VIDEO, Row, case, check

CASES = [
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
    # emoji sequences are shown back whole: only what is invisible on its own goes
    case("emoji-zwj", "画一个 👨\u200d👩\u200d👧 的家庭", prompt="👨\u200d👩\u200d👧 的家庭"),
    case("emoji-selector", "draw I ❤\ufe0f NY 1\ufe0f\u20e3", prompt="I ❤\ufe0f NY 1\ufe0f\u20e3"),
    case("joiner-in-a-word", "做个视\u200d频 海边", media=VIDEO, prompt="海边"),
    case("control-chars", "画一只猫\x07\x1b", prompt="一只猫"),
    case("full-width", "１０秒的视频，１６：９，海浪", duration=10, aspect_ratio="16:9"),
    case("no-names-no-model", "用可灵生成视频：猫", names=(), model=None),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

"""Shared pieces of the parser's tables: the model names on offer, the row helper and its check.

Each row asserts only the fields it names; a row naming none checks that parsing works at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from core.ima.tasks import MediaKind, TaskType
from core.parse import Command, parse_message

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


@dataclass(frozen=True, slots=True)
class Row:
    """One message, what came with it, and the fields it must produce."""

    text: str
    images: int
    expected: dict[str, Any]
    names: Sequence[str] = MODEL_NAMES


def case(
    case_id: str, text: str, images: int = 0, *, names: Sequence[str] = MODEL_NAMES, **expected: Any
) -> Any:
    return pytest.param(Row(text, images, expected, names), id=case_id)


def each(prefix: str, texts: Iterable[str], images: int = 0, **expected: Any) -> list[Any]:
    """One row per text, all expecting the same fields (several phrasings of one category)."""
    return [
        case(f"{prefix}-{i}-{text[:24]}", text, images, **expected) for i, text in enumerate(texts)
    ]


#: Rows may also name these parts of the nested fields.
_NESTED = {
    "question_topic": lambda p: p.question and p.question.topic,
    "question_feature": lambda p: p.question and p.question.feature,
    "edit_kind": lambda p: p.edit and p.edit.kind,
}


def check(row: Row) -> None:
    parsed = parse_message(row.text, image_count=row.images, model_names=row.names)
    actual = {
        field: _NESTED[field](parsed) if field in _NESTED else getattr(parsed, field)
        for field in row.expected
    }
    wrong = {f: (actual[f], want) for f, want in row.expected.items() if actual[f] != want}
    assert not wrong, f"{row.text!r}: (got, expected) {wrong}"

"""core.parse: Whole-message replies: yes, no, help, chit-chat, retry."""

from __future__ import annotations

import pytest

from core.parse import Command, Question, QuestionTopic
from tests.core.parse.support import GEN, IMAGE, Row, case, check

CASES = [
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
    case("chat-hi", "hi", command=Command.CHAT),
    case("chat-nihao", "你好！", command=Command.CHAT),
    case("chat-thanks", "thanks!", command=Command.CHAT),
    case("chat-xiexie", "谢谢", command=Command.CHAT),
    case("none-emoji", "👍", command=Command.NONE),
    case("none-empty", "", command=Command.NONE),
    case("none-spaces", "   ", command=Command.NONE),
    case("none-zero-width", "\u200b\u200d\ufeff", command=Command.NONE),
    case("none-punctuation", "???", command=Command.NONE),
    case(
        "question-other",
        "what is the capital of France?",
        command=Command.QUESTION,
        question=Question(QuestionTopic.OTHER),
    ),
    case("question-other-zh", "为什么天是蓝的", command=Command.QUESTION),
    case("retry-zh", "再来一次", command=Command.RETRY),
    case("retry-en", "again", command=Command.RETRY),
    case("retry-one-more", "再来一张", command=Command.RETRY),
    case("retry-with-subject", "再来一张狗的图片", command=GEN, media=IMAGE),
]


@pytest.mark.parametrize("row", CASES)
def test_parse(row: Row) -> None:
    check(row)

"""Request frames: the politeness and verbs around what to make ("帮我画一张", "can you draw")."""

from __future__ import annotations

import re

from core.parse.text import NOCASE, B, E

POLITE = (
    r"请你?|麻烦你?|帮我|帮忙|给我|替我|为我|帮|你|能不能|能否|可不可以|可以|我想要?|我要|想要|我需要|需要|"
    rf"再|也|好的(?=[\s,])|嗯|{B}(?:hey|hi|hello|ok|okay|please|pls|plz|kindly|"
    r"(?:can|could|would|will)\s+you(?:\s+please)?|i\s+(?:want|need|would\s+like)(?:\s+to)?|"
    rf"i'd\s+like(?:\s+to)?|let'?s|give\s+me|show\s+me){E}"
)
SEPARATORS = r"[\s\x00\x01,!.~。、]*"
_POLITE_LEAD_RE = re.compile(rf"{SEPARATORS}(?:(?:{POLITE}){SEPARATORS})*", NOCASE)
DRAW_RE = re.compile(
    rf"画(?![面质幅家廊布师展室笔板框册]|风(?!景))|{B}(?:draw|paint|sketch|illustrate){E}", NOCASE
)


def lead_end(view: str) -> int:
    """Where the request starts after greetings and politeness ("帮我", "can you please")."""
    m = _POLITE_LEAD_RE.match(view)
    return m.end() if m else 0


LEAD_VERB = (
    r"(?:生成|制作|创作|绘制|画出|设计|画(?![面质幅家廊布师展室笔板框册]|风(?!景))|"
    r"(?:做|写|作|拍|搞|弄|整|出|来)(?=[\s\x00]*(?:一下)?[\s\x00]*"
    r"(?:(?:[一两二三四五六七八九十]|\d{1,3})[\s\x00]*)?(?:张|幅|个|段|首|支|部|条|份|款)|[\s\x00]*\x00|"
    r"(?:视频|图片|图|照片|歌|音乐|动画|海报|短片))|"
    rf"{B}(?:generate|make|create|draw|paint|sketch|design|produce|render|compose|write|build|"
    rf"craft|illustrate)(?:\s+me)?{E}(?!\s+(?:it|this|that|them|these|those|him|her){E}))(?:一下)?"
)
REQUEST_VERB_RE = re.compile(
    rf"画|生成|做|来|写|拍|制作|创作|{B}(?:make|generate|create|draw|paint|render|compose|write)"
    rf"{E}",
    NOCASE,
)

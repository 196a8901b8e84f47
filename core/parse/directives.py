"""Pass 4: model names, qualities ("the best", "the cheapest"), "another model" and retries."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from core.parse.model import Quality
from core.parse.state import Directives, State
from core.parse.text import FOLD, NOCASE, B, E

_NAME_SEP = r"[\s\-_.·]*"
_NAME_SEP_RE = re.compile(r"[\s\-_.·]+")


def _model_key(name: str) -> str:
    return _NAME_SEP_RE.sub("", name.translate(FOLD)).casefold()


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


@dataclass(frozen=True, slots=True)
class _Names:
    """The model names of one call, compiled."""

    pattern: re.Pattern[str] | None
    #: Normalised key → the name to return: the display spelling ("Kling O1" over "klingo1"),
    #: else the first given.
    by_key: dict[str, str]
    #: Keys of versioned or multi-word names ("Kling O1", "Nano Banana Pro", "海螺23"): these
    #: count wherever they appear. Single words ("Kling", "Sonic", "Gemini", "MJ") can also
    #: be ordinary words or characters, so they need a directive or the edge of the message.
    distinctive: frozenset[str]


def _display_rank(name: str) -> tuple[bool, bool]:
    """Among names that normalise alike, prefer the display spelling ("Suno" to "suno")."""
    return any(ch.isupper() for ch in name), _NAME_SEP_RE.search(name.strip()) is not None


@functools.lru_cache(maxsize=32)
def _model_matcher(names: tuple[str, ...]) -> _Names:
    """One pattern for all names (longest first)."""
    by_key: dict[str, str] = {}
    distinctive: set[str] = set()
    for name in names:
        key = _model_key(name)
        if not key:
            continue
        if key not in by_key or _display_rank(name) > _display_rank(by_key[key]):
            by_key[key] = name
        latin = [_is_latin(ch) for ch in key if not ch.isdigit()]
        if (
            any(ch.isdigit() for ch in key)
            or _NAME_SEP_RE.search(name.strip())
            or (any(latin) and not all(latin))
        ):
            distinctive.add(key)
    if not by_key:
        return _Names(None, by_key, frozenset())
    alternatives = []
    for key in sorted(by_key, key=lambda k: (-len(k), k)):
        body = _NAME_SEP.join(re.escape(ch) for ch in key)
        if _is_latin(key[0]):
            body = B + body
        if _is_latin(key[-1]):
            body += E
        alternatives.append(body)
    return _Names(re.compile("|".join(alternatives), NOCASE), by_key, frozenset(distinctive))


_WINDOW = 24
_ALWAYS_BEFORE_RE = re.compile(
    r"(?:(?:以后|今后|往后|之后|从此|从今以后|从现在(?:开始|起))(?P<gap>[^\x00\n。!?,]{0,8}?)"
    r"(?:都|就|一律|全部|一直|也)?\s*(?:默认)?\s*(?:用|使用|选用|选|换成|改用)"
    r"|(?:默认|一直|总是|永远|始终|每次都)\s*都?\s*(?:用|使用|选用|选)"
    r"|默认(?:模型)?\s*(?:设为|设成|设置为|改为|改成|换成)"
    rf"|{B}(?:(?:always|from now on,?|by default,?)\s+(?:use|go with|pick|choose)"
    r"|(?:set|change|switch|make)\s+(?:my\s+|the\s+)?default(?:\s+model)?\s+(?:to|as)"
    r"|default\s+to)(?:\s+the)?)\s*\Z",
    NOCASE,
)
_THIS_BEFORE_RE = re.compile(
    r"(?:(?:请|帮我|给我|就|还是|改|再)?(?:用|使用|换成|换用|改用|改成|换到|切换到|切换成|切到|试试|"
    r"试一下|选用|选|调用|要)"
    rf"|{B}(?:use|using|with|via|switch(?:ed)?\s+to|change\s+to|try|pick|choose|go\s+with|in|on|by)"
    r"(?:\s+the)?)\s*\Z",
    NOCASE,
)
_NEGATED_RE = re.compile(
    rf"(?:不(?:要|想|能|准)?|别|{B}(?:don'?t|do\s+not|never|not|no))\s*(?:再\s*)?"
    r"(?:用|使用|换成|use|using|with)?\s*(?:the\s+)?\Z",
    NOCASE,
)
_ALWAYS_AFTER_RE = re.compile(
    r"\A\s*(?:模型|model)?\s*(?:(?:作为|当作|当成|设为|设成|设置为|定为|做|当)\s*(?:我的)?\s*(?:默认|常用)"
    r"(?:模型)?|(?:as|to\s+be)?\s*(?:my|the)\s+(?:new\s+)?default(?:\s+model)?|by\s+default"
    r"|from\s+now\s+on|going\s+forward|permanently|for(?:ever|\s+good)|every\s*time)",
    NOCASE,
)
_THIS_AFTER_RE = re.compile(r"\A\s*(?:模型|model)", NOCASE)
_VERB_AFTER_RE = re.compile(r"\A\s*(?:来|去)?\s*(?:画|生成|做|写|拍|制作|创作|出)")
_STYLE_AFTER_RE = re.compile(r"\A\s*(?:style|风格|风|画风|那样|一样|like)", NOCASE)


@dataclass(frozen=True, slots=True)
class _Directive:
    """Words around a model name or quality phrase that make it an instruction."""

    #: The name or phrase with its directive words (a scope gap like 以后[视频]都用 is kept).
    spans: tuple[tuple[int, int], ...]
    #: A directive verb before it, or 模型/model or a scope after it.
    directed: bool
    #: A request verb right after it ("可灵生成…"): enough for a model name, not for 最好.
    verb_after: bool
    always: bool
    negated: bool
    style: bool


def _directive(view: str, start: int, end: int) -> _Directive:
    before = view[max(0, start - _WINDOW) : start]
    offset = start - len(before)
    after = view[end : end + _WINDOW]
    spans: list[tuple[int, int]] = []
    always_before = _ALWAYS_BEFORE_RE.search(before)
    this_before = None if always_before else _THIS_BEFORE_RE.search(before)
    lead = always_before or this_before
    head = start
    if lead is not None:
        head = offset + lead.start()
        gap = lead.span("gap") if always_before is not None else (-1, -1)
        if gap[0] >= 0 and gap[1] > gap[0]:
            spans.append((head, offset + gap[0]))
            head = offset + gap[1]
    always_after = _ALWAYS_AFTER_RE.match(after)
    trail = always_after or _THIS_AFTER_RE.match(after)
    tail = end + (trail.end() if trail else 0)
    spans.append((head, tail))
    return _Directive(
        spans=tuple(spans),
        directed=lead is not None or trail is not None,
        verb_after=_VERB_AFTER_RE.match(after) is not None,
        always=always_before is not None or always_after is not None,
        negated=_NEGATED_RE.search(view[max(0, head - _WINDOW) : head]) is not None,
        style=_STYLE_AFTER_RE.match(after) is not None,
    )


_QUALITY_RE = re.compile(
    r"(?P<best>最好的模型|最强的模型|最贵的模型|质量最好的?|效果最好的?|最高(?:质量|画质|品质)|"
    rf"最佳(?:质量|画质|模型)|{B}(?:best[- ](?:quality|model)|highest[- ]quality(?:\s+model)?|"
    rf"top[- ]quality(?:\s+model)?|most\s+expensive\s+model|premium\s+model){E})"
    r"|(?P<cheapest>最便宜的?(?:模型)?|最省钱的?(?:模型)?|便宜(?:一?点)?的模型|积分最少的?(?:模型)?|"
    rf"省钱模式|省积分|{B}(?:cheapest(?:\s+(?:model|option|one))?|lowest[- ]cost(?:\s+model)?|"
    rf"least\s+(?:credits|points)|budget\s+(?:model|option|mode)|cheap(?:er)?\s+model){E})"
    r"|(?P<best_directed>(?:最好|最强|最贵)(?!看|听|玩|吃|喝|用)的?|"
    rf"{B}(?:best(?:\s+one)?|most\s+expensive(?:\s+one)?){E})"
    rf"|(?P<cheapest_directed>便宜(?:一?点)?的?|省钱的?|{B}(?:cheap(?:er)?(?:\s+one)?|budget){E})",
    NOCASE,
)
_PREMIUM_RE = re.compile(
    r"高质量|高品质|高画质|顶级(?:质量|画质|品质|模型|效果)|高端(?:模型|画质)|旗舰模型|"
    rf"最好的(?:模型|质量|效果|画质)|最高(?:质量|画质|品质)|{B}(?:premium\s+(?:quality|model|"
    r"version|tier)|high[- ]?quality|high[- ]end|top[- ](?:quality|tier|notch)|best[- ](?:quality|"
    rf"model)|highest[- ]quality|go\s+premium|use\s+premium){E}",
    NOCASE,
)
_ANOTHER_RE = re.compile(
    r"换(?:个|一个|一下|别的|其他的?|其它的?)?模型|(?:换|用|试试)(?:别的|其他的?|其它的?)(?:模型)?|"
    rf"{B}(?:(?:try|use|pick|switch\s+to|give\s+me)\s+(?:a\s+)?(?:different|another|other)\s+"
    r"(?:model|one)|(?:different|another|other)\s+model|switch\s+models?|change\s+(?:the\s+)?model)"
    rf"{E}",
    NOCASE,
)
_RETRY_RE = re.compile(
    r"再来一(?:次|个|张|遍|首|段)|再试(?:一次|一下|试)?|重新(?:生成|来|画|做)(?:一(?:次|个|张|遍))?|重来|"
    rf"重试|再生成一(?:次|个|张|遍)|再画一(?:次|张|遍)|{B}(?:(?:try\s+)?again|retry|"
    rf"one\s+more(?:\s+time)?|regenerate|redo|do\s+it\s+again|another\s+one){E}",
    NOCASE,
)


def models_and_quality(state: State) -> None:
    """Find (and remove) model names and quality phrases with the words that direct them."""
    scan = state.scan
    model: str | None = None
    quality: Quality | None = None
    always = False
    names = _model_matcher(state.model_names)
    if names.pattern is not None:
        first, last = scan.content_bounds()
        spans: list[tuple[int, int]] = []
        for m in scan.finditer(names.pattern):
            key = _model_key(m.group())
            d = _directive(scan.view, m.start(), m.end())
            edge = m.start() <= first or m.end() >= last
            latin = any(_is_latin(ch) for ch in key)
            counts = (
                d.directed
                or d.verb_after
                or key in names.distinctive
                or (edge and (latin or (m.start() <= first and m.end() >= last)))
            )
            if d.style or not counts:
                continue
            spans.extend(d.spans)
            if model is None and not d.negated:
                model = names.by_key.get(key)
                always = d.always
        scan.mask(spans)
    first, last = scan.content_bounds()
    spans = []
    for m in scan.finditer(_QUALITY_RE):
        d = _directive(scan.view, m.start(), m.end())
        group = m.lastgroup or ""
        whole = m.start() <= first and m.end() >= last
        if group.endswith("_directed") and not (d.directed or whole):
            continue
        spans.extend(d.spans)
        if quality is None and not d.negated:
            quality = Quality.BEST if group.startswith("best") else Quality.CHEAPEST
            always = always or (model is None and d.always)
    scan.mask(spans)
    state.directives = Directives(model=model, quality=quality, always=always)
    state.premium_requested = quality is Quality.BEST or scan.search(_PREMIUM_RE) is not None


def another_model(state: State) -> None:
    state.another_model = bool(state.scan.take(_ANOTHER_RE))


def retry(state: State) -> None:
    state.retry = bool(state.scan.take(_RETRY_RE))

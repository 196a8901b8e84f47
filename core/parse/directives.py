"""Pass 5: model names, qualities ("the best", "the cheapest"), "another model" and retries."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from core.parse.lexicon import led, lexicon, words
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


def any_model_name(names: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``names`` as the directives pass does (None for none)."""
    return _model_matcher(tuple(names)).pattern


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
    # Skip at once the places no name starts at (keys are casefolded: match either case).
    firsts = "".join(sorted({re.escape(ch) for key in by_key for ch in (key[0], key[0].upper())}))
    pattern = rf"(?=[{firsts}])(?:{'|'.join(alternatives)})"
    return _Names(re.compile(pattern, NOCASE), by_key, frozenset(distinctive))


#: How far before and after a name its directive words may reach.
_WINDOW = 40
#: Before a name, remembering it: "以后[视频]都用", "set my default [video] model to",
#: "always use". The gap (a media word, usually, or a few Latin words: "以后 pixel art 都用")
#: stays in the text for the media pass.
_ALWAYS_BEFORE_RE = re.compile(
    rf"(?:{words('directive.future')}(?P<gap>[^\x00\n。!?,]{{0,8}}?|[\sA-Za-z-]{{0,24}}?)"
    rf"{words('directive.future_adverb')}?"
    rf"\s*(?:{words('directive.future_default')}\s*{words('directive.future_verb')}?"
    rf"|{words('directive.future_verb')})"
    rf"|{words('directive.set_default')}(?P<gap2>(?:\s+[A-Za-z]+)?)\s+{words('directive.set_default_end')}"
    rf"|{words('directive.always_before')}(?:\s+the)?)\s*\Z",
    NOCASE,
)
#: In the gap of "以后[所有视频]都用": words of scope, not of a description.
_SCOPE_RE = lexicon().pattern("directive.future_scope")
_THIS_BEFORE_RE = re.compile(rf"{words('directive.this_before')}(?:\s+(?:the|a|an))?\s*\Z", NOCASE)
#: Before a directive or a name, a negation: the name is removed but never chosen.
_NEGATED_RE = re.compile(
    rf"(?:{words('directive.negation')}|(?P<contrast>{words('directive.contrast')}))"
    rf"\s*{words('directive.again')}?\s*{words('directive.negated_verb')}?\s*(?:the\s+)?\Z",
    NOCASE,
)
#: "能不能", "要不要": asks, before a name, whether it can be used.
_A_NOT_A_RE = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_NEGATED_AFTER_RE = re.compile(rf"\s*{words('directive.negation_after')}", NOCASE)
_MODEL_WORD = words("directive.model_word")
_ALWAYS_AFTER_RE = re.compile(rf"\A\s*{_MODEL_WORD}?\s*{words('directive.always_after')}", NOCASE)
_THIS_AFTER_RE = re.compile(rf"\A\s*{_MODEL_WORD}", NOCASE)
_VERB_AFTER_RE = re.compile(rf"\A\s*{words('directive.verb_after')}")
_MEDIA_AFTER_RE = re.compile(rf"\A\s*{words('directive.media_after')}", NOCASE)
_DE_RE = re.compile(r"\s*的")
#: "一个关于sora的视频": the name is what the video is about.
_TOPIC_BEFORE_RE = re.compile(rf"{words('directive.topic_before')}\s*\Z", NOCASE)
_STYLE_AFTER_RE = re.compile(rf"\A\s*{words('directive.style_after')}", NOCASE)


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
    #: "instead of X", "except X": X is left out of a request, not avoided from now on.
    contrast: bool
    style: bool
    #: A media word right after the name ("sora 的 video", "veo 视频").
    media_after: bool


def _directive(view: str, start: int, end: int, latin: bool = False) -> _Directive:
    """The words around the name or phrase at ``start:end`` (``latin``: a Latin name, which a
    media word right after directs)."""
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
        for gap_group in ("gap", "gap2") if always_before is not None else ():
            gap = lead.span(gap_group)
            if gap[0] >= 0 and gap[1] > gap[0]:
                spans.append((head, offset + gap[0]))
                # "以后所有视频都用": the scope's quantifiers go with the directive too
                spans += [
                    (offset + m.start(), offset + m.end())
                    for m in _SCOPE_RE.finditer(before, gap[0], gap[1])
                ]
                head = offset + gap[1]
    negation = _NEGATED_RE.search(view, max(0, head - _WINDOW), head)
    if negation is not None and _A_NOT_A_RE.match(view, max(0, negation.start() - 1)):
        negation = None  # "能不能用veo": a question, no negation
    if negation is not None:
        head = negation.start()
    always_after = _ALWAYS_AFTER_RE.match(after)
    media_after = (
        latin and _MEDIA_AFTER_RE.match(after) is not None and not _TOPIC_BEFORE_RE.search(before)
    )
    # "sora 的 video": the 的 goes with the name, the media word stays.
    trail = (
        always_after
        or _THIS_AFTER_RE.match(after)
        or (_DE_RE.match(after) if media_after else None)
    )
    tail = end + (trail.end() if trail else 0)
    negation_after = _NEGATED_AFTER_RE.match(view, tail)
    if negation_after is not None:
        tail = negation_after.end()
    spans.append((head, tail))
    negated = negation is not None or negation_after is not None
    contrast = negation is not None and negation["contrast"] is not None
    return _Directive(
        spans=tuple(spans),
        directed=lead is not None or trail is not None or negated,
        verb_after=_VERB_AFTER_RE.match(after) is not None,
        media_after=media_after,
        always=always_before is not None or always_after is not None,
        negated=negated,
        contrast=contrast,
        style=_STYLE_AFTER_RE.match(after) is not None,
    )


#: How far before a name met only at the edge of the message a negation may be: a few
#: English words, or (right after Chinese) a few characters ("做个不一样的视频 sora" names it).
_LOOSE_WINDOW = 24
_LOOSE_WINDOW_CJK = 6
_LOOSE_NEGATION_RE = lexicon().pattern("directive.loose_negation")

_QUALITY_GROUPS = (
    "not_quality",
    "cheapest_standing",
    "best",
    "cheapest",
    "best_directed",
    "cheapest_directed",
)
_QUALITY_RE = led(
    "|".join(f"(?P<{group}>{words('quality.' + group)})" for group in _QUALITY_GROUPS),
    *(f"quality.{group}" for group in _QUALITY_GROUPS),
)
_PREMIUM_RE = lexicon().pattern("quality.premium")
_NO_OBJECT_RE = lexicon().pattern("quality.no_object")
_INSIST_RE = lexicon().pattern("directive.insist")
_ANOTHER_RE = lexicon().pattern("directive.another")
_RETRY_RE = lexicon().pattern("directive.retry")
_RETRY_WEAK_RE = lexicon().pattern("directive.retry_weak")


def models_and_quality(state: State) -> None:
    """Find (and remove) model names and quality phrases with the words that direct them."""
    scan = state.scan
    model: str | None = None
    quality: Quality | None = None
    always = False
    avoided: str | None = None
    avoided_at = 0
    contrast = False
    names = _model_matcher(state.model_names)
    if names.pattern is not None:
        first, last = scan.content_bounds()
        spans: list[tuple[int, int]] = []
        for m in scan.finditer(names.pattern):
            key = _model_key(m.group())
            latin = any(_is_latin(ch) for ch in key)
            d = _directive(scan.view, m.start(), m.end(), latin)
            edge = m.start() <= first or m.end() >= last
            counts = (
                d.directed
                or d.verb_after
                or d.media_after
                or key in names.distinctive
                or (edge and (latin or (m.start() <= first and m.end() >= last)))
            )
            if d.style or not counts:
                continue
            spans.extend(d.spans)
            # Only at the edge ("…, i really dont like using sora"): a negation a few words
            # before it is enough to leave it out, never to choose it.
            latin_before = scan.view[max(0, m.start() - 2) : m.start()].isascii()
            window = _LOOSE_WINDOW if latin_before else _LOOSE_WINDOW_CJK
            loose = not (d.directed or d.verb_after or d.media_after) and (
                _LOOSE_NEGATION_RE.search(scan.view, max(0, m.start() - window), m.start())
                is not None
            )
            if d.negated or loose:
                if avoided is None:
                    avoided, avoided_at = names.by_key.get(key), d.spans[-1][0]
                    contrast = d.contrast
            elif model is None:
                model = names.by_key.get(key)
                always = d.always
        scan.mask(spans)
    first, last = scan.content_bounds()
    spans = []
    for m in scan.finditer(_QUALITY_RE):
        d = _directive(scan.view, m.start(), m.end())
        group = m.lastgroup or ""
        if group == "not_quality":
            continue
        whole = m.start() <= first and m.end() >= last
        if group.endswith("_directed") and not (d.directed or whole):
            continue
        spans.extend(d.spans)
        if quality is None and not d.negated:
            quality = Quality.BEST if group.startswith("best") else Quality.CHEAPEST
            standing = group == "cheapest_standing"  # "以后便宜点的就行": no verb of use
            always = always or (model is None and (d.always or standing))
    scan.mask(spans)
    state.directives = Directives(
        model=model,
        quality=quality,
        always=always,
        avoided=avoided,
        avoided_at=avoided_at,
        contrast=contrast,
    )
    state.insisted = scan.search(_INSIST_RE) is not None  # kept in the prompt
    # "不差钱", "money is no object": premium, and nothing the generator needs to read
    price_no_object = bool(scan.take(_NO_OBJECT_RE))
    state.premium_requested = (
        quality is Quality.BEST or price_no_object or scan.search(_PREMIUM_RE) is not None
    )


def another_model(state: State) -> None:
    state.another_model = bool(state.scan.take(_ANOTHER_RE))


def retry(state: State) -> None:
    """ "再来一次 / regenerate" are removed; "again / one more" stay in the text, where they may
    be description ("garfield hating monday again"): they are a retry only when nothing else
    is described (see the command)."""
    strong = state.scan.take(_RETRY_RE)
    weak = state.scan.take(_RETRY_WEAK_RE, keep=True)
    state.retry = bool(strong or weak)
    state.retry_weak = not strong and bool(weak)

"""Passes 9 and 13: whether anything was described, and the prompt for the generator."""

from __future__ import annotations

import re

from core.parse.frames import CLASSIFIER, LEAD_VERB, POLITE, SEPARATORS, lead_end, remark_end
from core.parse.lexicon import words
from core.parse.media import MEDIA_RE, token_group
from core.parse.model import Command, EditKind, QuestionHint
from core.parse.state import State
from core.parse.text import GONE, NOCASE, USED, Scan, has_content, is_wide

#: A media label after the frame: "生成视频：…", "生成一张图 一只狐狸", "image: …".
_LEAD_LABEL = rf"(?:{words('frame.label')}(?:[\s\x00]*[:,]|(?<![A-Za-z])\s+))"
_LEAD_RE = re.compile(
    rf"(?:(?:(?:{words('frame.verb_prefix')}|{words('frame.to')}\s+)?{LEAD_VERB}{SEPARATORS}"
    rf"(?:(?:一|1)?[\s\x00]*{CLASSIFIER})?|(?:一|1)[\s\x00]*{CLASSIFIER}){SEPARATORS})?"
    rf"{_LEAD_LABEL}?{SEPARATORS}",
    NOCASE,
)
#: What is left of a request that describes nothing: frames, fillers, particles.
FILLER_RE = re.compile(rf"{POLITE}|{LEAD_VERB}|{words('prompt.filler')}", NOCASE)
_GONE_RUN_RE = re.compile(r"\x00+(?:\s*\x00+)*")
_SPACES_RE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT_RE = re.compile(r" +(?=[,.;:!?，。；：！？、)）\]】])|(?<=[(（\[【]) +")
_PUNCT_RUN_RE = re.compile(r"([,;，；、])(?:\s*[,;.，；。、])+")
_EMPTY_BRACKETS_RE = re.compile(r"\(\s*\)|（\s*）|\[\s*\]|【\s*】|\"\s*\"|“\s*”|「\s*」")
_LEADING_JUNK = " ,.;:!?，。；：、！？-–—~～"
_TRAILING_JUNK = " ,;:，；：、-–—~～"
#: A particle left over from a clause taken out before the description ("别再用mj了！画个月亮"
#: leaves "了！"); one that starts a word ("了不起的盖茨比") stays.
_LEADING_PARTICLE_RE = re.compile(r"\A[了吧啊呀呢嘛]+(?=[\s,.;:!?，。；：、！？])")
_TRAILING_THANKS_RE = re.compile(
    rf"(?:[\s,，]*{words('frame.trailing_thanks')})+[\s.!。！~～]*\Z", NOCASE
)


#: A question particle or mark ending a clause of a request phrased as a question.
_QUESTION_TAIL_RE = re.compile(
    rf"(?:{words('question.end')}\s*)?\?+|{words('question.end')}(?=\s*(?:[,.;!，。；！]|\Z))"
)


#: A medium word right after the frame, with its "of": "pic 一个…", "一个video of a cat".
_MIXED_LABEL_RE = re.compile(
    rf"(?:(?:a|an|one)\s+)?(?P<word>{words('frame.label')})(?:\s*[:,]|\s+of(?![A-Za-z]))?[\s\x00]*",
    NOCASE,
)
_CONTENT_RE = re.compile(r"[^\W\d_]")


def _script(ch: str) -> str:
    return "latin" if ch.isascii() else "wide"


def _mixed_label(scan: Scan, start: int, end: int) -> int:
    """Where a medium word after the frame ends when it is the request's word in the other
    language ("pic 一个穿汉服的女孩", "一个video of a cat surfing", "make a 视频 of fireworks"):
    its script differs from the frame's before it or the description's after it. As "a video
    of a cat" in one language it stays: it reads as the description's own words."""
    label = _MIXED_LABEL_RE.match(scan.view, end)
    if label is None:
        return end
    before = _CONTENT_RE.findall(scan.folded, start, label.start())
    after = _CONTENT_RE.search(scan.view, label.end())
    if after is None:
        return end
    own = _script(label.group("word")[0])
    if (before and _script(before[-1]) != own) or _script(after.group()) != own:
        return label.end()
    return end


#: The same word closing the description: "海边的小狗 pic pls", "一只猫在弹钢琴的 video".
_MIXED_TAIL_RE = re.compile(
    rf"(?:的\s*)?(?P<word>{words('frame.label')})"
    rf"(?=[\s\x00\x01]*(?:{words('frame.trailing_thanks')}[\s\x00.!。！~]*)*\Z)",
    NOCASE,
)


def _strip_mixed_tail(scan: Scan) -> None:
    """Remove an English medium word closing a Chinese description ("海边日落 video"); a
    Chinese one after a Latin word is Chinese as a whole ("来一首lofi的歌")."""
    tail = _MIXED_TAIL_RE.search(scan.view)
    if tail is None or _script(tail.group("word")[0]) != "latin":
        return
    before = _CONTENT_RE.findall(scan.view, 0, tail.start())
    if before and _script(before[-1]) == "wide":
        scan.mask([tail.span()])


def _strip_lead(scan: Scan) -> None:
    """Remove the request frame ("帮我画一张", "please generate") if content follows it, and a
    medium word in the other language right after it."""
    start = lead_end(scan.view)
    verb = _LEAD_RE.match(scan.view, start)
    end = _mixed_label(scan, start, verb.end() if verb else start)
    if end and has_content(scan.view[end:]):
        scan.mask([(0, end)])


def _visible_text(scan: Scan) -> str:
    """The visible original text, with removed spans closed up and separators tidied."""
    raw = scan.raw
    pieces: list[str] = []
    pos = 0
    for m in _GONE_RUN_RE.finditer(scan.view):
        start, end = m.span()
        while start > pos and raw[start - 1].isspace():
            start -= 1
        while end < len(raw) and raw[end].isspace():
            end += 1
        pieces.append(raw[pos:start])
        left = raw[start - 1] if start else ""
        right = raw[end] if end < len(raw) else ""
        if left and right and not (is_wide(left) and is_wide(right)):
            pieces.append(" ")
        pos = end
    pieces.append(raw[pos:])
    text = _SPACES_RE.sub(" ", "".join(pieces))
    text = _SPACE_BEFORE_PUNCT_RE.sub("", text)
    text = _PUNCT_RUN_RE.sub(r"\1", _EMPTY_BRACKETS_RE.sub("", text))
    text = _LEADING_PARTICLE_RE.sub("", text.lstrip(_LEADING_JUNK))
    text = text.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)
    tail = _TRAILING_THANKS_RE.search(text, max(0, len(text) - 40))
    if tail is not None:
        text = text[: tail.start()]
    return text.rstrip(_TRAILING_JUNK)


#: Tokens of these groups are description, not request frame.
CONTENT_GROUPS = frozenset({"skip", "music_style"})


def described(state: State) -> None:
    """Whether anything but frames, media words and fillers is left."""
    state.described = state.lyrics is not None or _describes(state.scan)


def _describes(scan: Scan) -> bool:
    """Whether the text (lyrics aside) says more than frames, media words and fillers."""
    if scan.middle_describes():
        return True
    edges = scan.edges()
    # A remark before the request describes nothing: "nice, 再来一张", "好看！再来一张".
    view = MEDIA_RE.sub(
        lambda m: m.group() if token_group(m) in CONTENT_GROUPS else " ",
        edges[remark_end(edges) :],
    )
    left = FILLER_RE.sub(" ", view).replace(USED, " ").replace(GONE, " ")
    return has_content(_TRAILING_THANKS_RE.sub("", left))  # "以后都用 veo 吧 thx": nothing


def prompt(state: State) -> None:
    """What to send to the generator. A generation carries a prompt when something was
    described or pictures came with it; an edit carries the change itself, politeness
    removed ("please add a seagull" → "add a seagull"), or nothing when only parameters or
    the medium change."""
    scan = state.scan
    if state.command is Command.EDIT and state.edit is not None:
        if state.question_form is not None:
            # "could u add a seagull?", "能不能加个月亮": the question is the frame.
            scan.mask(m.span() for m in scan.finditer(_QUESTION_TAIL_RE))
        if state.edit.kind is EditKind.CONTENT:
            start = lead_end(scan.view)
            if start and has_content(scan.view[start:]):
                scan.mask([(0, start)])
            state.prompt = _visible_text(scan)
        elif state.edit.kind is EditKind.MEDIA and state.described:
            _strip_lead(scan)
            state.prompt = _visible_text(scan)
        return
    if state.command is not Command.GENERATE:
        return
    media = state.media
    if media.media is None and not state.images and state.directives.model is None:
        state.question_hint = QuestionHint.SOURCE if media.edits_earlier else QuestionHint.MEDIA
    if state.described or state.images:
        if state.question_form is not None:
            # "can you draw a cat?", "能帮我画一只猫吗": the question is the frame.
            scan.mask(m.span() for m in scan.finditer(_QUESTION_TAIL_RE))
        _strip_lead(scan)
        _strip_mixed_tail(scan)
        # Lyrics and nothing else described ("生成一首歌，歌词：…"): no description of its own.
        lyrics_only = state.lyrics is not None and not state.images and not _describes(scan)
        state.prompt = "" if lyrics_only else _visible_text(scan)

"""Pass 11: does the message change the person's last result rather than ask for a new one?

Only without pictures (attached or linked): with one, the same words describe what to do with
it; and only in a short message (``SHORT``): a longer one describes something new. An edit
is, in this order:

- more of the same: a count with "more" or "再来" ("3 more", "two more pics", "再来三张");
- a change complete in itself opening the message ("mirror the image", "zoom out", "调暗");
- another medium for it: a media word with a conversion ("做成视频", "turn it into a song",
  "配个音乐"), a reference to it ("make a video of it", "a song for this") or motion ("让它
  动起来", "animate it"), and nothing new described;
- parameters only: a ratio, length, resolution, size or sound and nothing described ("make
  it vertical", "竖屏的", "10 seconds", "in 4K", "再高清一点");
- a change of content: an edit verb opening the request ("add a seagull", "去掉背景里的人",
  "换成夜景", "make it more vivid", "把天空变成紫色"), or a comparative on its own ("sadder",
  "bluer", "更欢快一点", "make the waves bigger").

This pass only reads (and sets the count of "3 more", and removes a conversion opening the
message, "做成视频"); the command pass decides: a question or a request comes first.
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.ima.tasks import MediaKind, TaskType
from core.parse.frames import has_request_verb, lead_end, remark_end
from core.parse.lexicon import lexicon, words
from core.parse.media import MEDIA_RE, MOTION_FRAME_RE, MOTION_RE, token_group
from core.parse.model import Edit, EditKind
from core.parse.prompt import CONTENT_GROUPS, FILLER_RE
from core.parse.state import Count, State
from core.parse.text import (
    CN_NUMBER,
    DIGITS,
    EN_NUMBER,
    GONE,
    NOCASE,
    SHORT,
    USED,
    has_content,
    number,
)

_EDIT_WORDS_RE = lexicon().pattern(
    "edit.setting",
    # 高清/HD stay in the prompt but change nothing in it: "4K pls 要高清"
    "resolution.hd",
    "resolution.uhd",
    "edit.verb",
    "edit.degree_before",
    "edit.degree_after",
    "edit.comparative_degree",
    "edit.it",
    "edit.to_media",
    "edit.more",
)
_VERB_RE = re.compile(rf"{words('edit.verb', 'edit.change')}", NOCASE)
_CHANGE_RE = lexicon().pattern("edit.change")
#: A short subject, then its change: "背景改成黑色的", "天空换成紫色" ("画一只猫变成狗" is a
#: request: the subject holds a request verb).
_SUBJECT_CHANGE_RE = re.compile(rf"(?P<subject>[\u4e00-\u9fff]{{1,4}}?){words('edit.change_to')}")
#: A change after where it goes: "门口加一只鹿", "天上加个月亮", "背景里去掉那个人".
_PLACED_VERB_RE = re.compile(
    rf"[\u4e00-\u9fff]{{1,4}}?{words('edit.place_end')}\s*{words('edit.verb')}", NOCASE
)
_EARLIER_RE = lexicon().pattern("media.edits_earlier")
_CLAUSE_VERB_RE = re.compile(
    rf"(?:\A|(?<=[,.;!?。；！？]))[\s\x00\x01]*{words('media.edit_clause_start')}", NOCASE
)
_COMPARATIVE_RE = lexicon().pattern("edit.comparative")
#: A Chinese change of degree: "更欢快一点", "再亮一点", "暗一些".
_DEGREE_RE = re.compile(
    rf"{words('edit.degree_before')}[\u4e00-\u9fff]{{1,6}}|[\u4e00-\u9fff]{{1,6}}?{words('edit.degree_after')}",
    NOCASE,
)
_IT_RE = lexicon().pattern("edit.it")
#: The result named at the end of a clause ("make a sad song about it"; "this summer" is not).
_IT_END_RE = re.compile(rf"{words('edit.it')}[\s\x00\x01]*(?:[,.;!?]|\Z|please|pls)", NOCASE)
_TO_MEDIA_RE = lexicon().pattern("edit.to_media")
#: The result named with its medium: "这个 video", "the song".
_RESULT_RE = lexicon().pattern("edit.result")
_MORE_WORD_RE = lexicon().pattern("edit.more")
_SAME_RE = lexicon().pattern("edit.same")
#: A remark around "再来两张" ("这个 style 很好 再来 2 张"): no new description.
_REMARK_RE = lexicon().pattern("chat.reaction", "chat.degree")
#: A complaint about the result naming its medium, before a change ("视频太长了 改成五秒",
#: "图片太暗了 亮一点"): the medium is the result's, the change the request.
_COMPLAINT_RE = lexicon().pattern("chat.judgement")
_AFTER_COMPLAINT_RE = re.compile(
    rf"(?:[,.;!?。；！？]|(?<=[\u4e00-\u9fff])\s)[\s\x00\x01]*{words('media.edit_clause_start')}"
)
#: "make the sky pink": a colour given to a part of the result, one or two words named.
_RECOLOR_RE = re.compile(
    rf"{words('edit.recolor_verb')}\s+the\s+(?:[A-Za-z]+\s+){{1,2}}{words('edit.color')}"
    rf"[\s\x00\x01.!]*\Z",
    NOCASE,
)
#: "做成视频 猫从屋顶跳下来", "turn it into a video, the cat jumps": a conversion opening the
#: message, then what the new medium shows.
_MEDIA_NOUN = words("media.video", "media.motion", "media.music", "media.image")
_CONVERT_RE = re.compile(
    rf"{words('edit.convert')}[\s\x00]*(?:[一两]?[\s\x00]*{words('media.target_classifier')})?"
    rf"[\s\x00]*(?:(?:a|an|some)\s+)?(?={_MEDIA_NOUN})",
    NOCASE,
)
_NUMBER = rf"(?:{DIGITS}|{CN_NUMBER}|{EN_NUMBER})"
#: "3 more", "another 2", "2 more please".
_N_MORE_RE = re.compile(
    rf"(?<![A-Za-z])(?:(?P<n>{_NUMBER})\s*{words('edit.more')}|{words('edit.more')}\s*(?P<m>{_NUMBER}))"
    r"(?![A-Za-z])",
    NOCASE,
)
#: What a retry ("再来") leaves of "再来两个": a number and a measure word, at the start.
_AGAIN_N_RE = re.compile(rf"\A[\s\x00\x01]*(?P<n>{_NUMBER})\s*{words('count.classifier')}?", NOCASE)
#: "多来几张", "再画几个": a few more.
_A_FEW_RE = re.compile(rf"{words('edit.more')}[\s\x00]*{words('question.how_many')}")
#: What a short change may still contain: "make the waves bigger" (a noun or two).
_SHORT = 3
_NOUN_GROUPS = frozenset({"video", "music", "music_style", "image"})
#: Where a clause ends: a mark, or a space between ideographs ("太丧了 欢快一点").
_CLAUSE_RE = re.compile(r"[,.;!?，。；！？~]|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
#: Particles after a conversion ("做成视频吧").
_PARTICLES_RE = re.compile(rf"(?:\s*{words('reply.particles')})*", NOCASE)


def edit(state: State) -> None:
    """Fill ``state.edit`` when the message reads as a change of the last result."""
    if state.images or len(state.scan.raw) > SHORT:
        return
    if state.lyrics is not None and state.media.media in (None, MediaKind.MUSIC):
        return  # "帮我把歌词谱成歌：⏎…", "turn these lyrics into a song:": a new song
    kind = _kind(state)
    if kind is not None:
        state.edit = Edit(kind)
    if kind is EditKind.MEDIA and not content_words(state.scan.view[remark_end(state.scan.view) :]):
        state.described = False  # "can u put some music to it": the medium only, no description


def _kind(state: State) -> EditKind | None:
    """The kind of edit, tried in the order of the module doc."""
    scan = state.scan
    view = scan.view
    if _more(state):
        return EditKind.MORE
    content = content_words(view[remark_end(view) :])
    media = state.media.media
    if _CHANGE_RE.match(view, lead_end(view)) is not None:
        return EditKind.CONTENT  # "mirror the image", "zoom out a bit": a change in itself
    sound = state.sound
    params = state.has_parameters or any(
        v is not None for v in (sound.audio, sound.vocal_gender, sound.instrumental)
    )
    if params and not content and media is not None and scan.search(_RESULT_RE) is not None:
        return EditKind.PARAMS  # "这个 video 能改成 9:16 吗", "make the video 10s"
    complaint = media is not None and scan.search(_COMPLAINT_RE) is not None
    if complaint and not state.media.conflict:
        rest = content_words(_REMARK_RE.sub(" ", _COMPLAINT_RE.sub(" ", view)))
        changes = _AFTER_COMPLAINT_RE.search(view) is not None or _VERB_RE.search(view) is not None
        if params and not rest and changes:
            return EditKind.PARAMS  # "视频太长了 改成五秒", "the video is too long, make it 5s"
        if _comparative(state, rest, complained=True):
            return EditKind.CONTENT  # "图片太暗了 亮一点"
    # Nothing new but the medium, or a little said about it with the result named.
    named = not content or (len(content) <= _SHORT and _IT_END_RE.search(scan.kept()))
    if media is not None and not state.retry and named and _names_earlier(state):
        return EditKind.MEDIA
    moves = scan.search(MOTION_FRAME_RE) is not None and len(content) <= _SHORT + 1
    # "让这个画面动一动": the motion words may have named the video already
    if media in (None, MediaKind.VIDEO) and not state.media.conflict and moves:
        # "make him wave", "让她笑一下" after a picture: a video of it
        state.media = replace(state.media, media=MediaKind.VIDEO, task_type=TaskType.TEXT_TO_VIDEO)
        return EditKind.MEDIA
    convert = _CONVERT_RE.match(view, lead_end(view))
    if media is not None and not state.retry and convert is not None:
        noun = MEDIA_RE.match(view, convert.end())
        end = _PARTICLES_RE.match(view, noun.end() if noun else convert.end())
        scan.mask([(convert.start(), end.end() if end else convert.end())])
        return EditKind.MEDIA
    subject = _SUBJECT_CHANGE_RE.match(view, lead_end(view))
    opens = (
        _VERB_RE.match(view, lead_end(view)) is not None
        or (subject is not None and media is None and not has_request_verb(subject["subject"]))
        or _CLAUSE_VERB_RE.search(view) is not None
        or _PLACED_VERB_RE.match(view, lead_end(view)) is not None
    )
    earlier = scan.search(_EARLIER_RE) is not None
    # "竖着来一张": one more of the same, the medium said only by its measure word.
    counted = state.count.value == 1 and media is state.count.kind and not _names_medium(state)
    if sound.named:  # "add some rain sounds": for a song, that is its description
        content = [*content, "sound"]
    if params and not content and (media is None or counted) and not state.media.conflict:
        return EditKind.PARAMS
    recolors = _RECOLOR_RE.match(view, lead_end(view)) is not None
    if (content and (opens or earlier)) or recolors or _comparative(state, content):
        return EditKind.CONTENT
    return None


def _more(state: State) -> bool:
    """More of the same, nothing new described: "3 more", "再来三张", "two more pics", "多来几张"
    (a few: no count)."""
    scan = state.scan
    if scan.search(_A_FEW_RE) is not None:
        return not content_words(_A_FEW_RE.sub(" ", scan.edges()))
    n_more = scan.search(_N_MORE_RE)
    if n_more is not None:
        value = number(n_more["n"] or n_more["m"])
        if value is None or value < 1 or value != int(value):
            return False
        scan.mask([n_more.span()])
        state.count = Count(int(value))
    elif state.retry and state.count.value is None and (again := scan.search(_AGAIN_N_RE)):
        # "再来两个": the retry words were taken; a number and any measure word remain
        value = number(again["n"])
        if value is None or value < 1 or value != int(value):
            return False
        scan.mask([again.span()])
        state.count = Count(int(value))
    elif state.count.value is None or not (state.retry or scan.search(_MORE_WORD_RE)):
        return False
    rest = scan.view[remark_end(scan.view) :]
    if content_words(_REMARK_RE.sub(" ", _SAME_RE.sub(" ", rest))):
        return False
    scan.take(_SAME_RE)  # "3 more in this style": the style is the result's
    return True


def _names_earlier(state: State) -> bool:
    """A media word with a conversion, a reference to the result, or motion."""
    kept = state.scan.kept()
    return any(p.search(kept) for p in (_TO_MEDIA_RE, _IT_RE, MOTION_RE)) or bool(
        state.media.edits_earlier
    )


def _names_medium(state: State) -> bool:
    """Whether a media word (not a measure word) is in the text."""
    return any(token_group(m) in _NOUN_GROUPS for m in state.scan.finditer(MEDIA_RE))


def _comparative(state: State, content: list[str], *, complained: bool = False) -> bool:
    """A comparative ending the message, with at most a noun or two before it ("sadder",
    "更欢快一点", "make the waves bigger"), or opening it before a noun or two ("longer
    hair"); "画一只更大的猫" asks for a new picture."""
    kept = state.scan.kept()
    opening = _COMPARATIVE_RE.match(kept, lead_end(kept))
    if opening is not None and len(content) <= _SHORT and state.media.media is None:
        return True
    last = None
    # A Chinese change of degree needs no media word and no request verb: "再做个视频吧"
    # and "一张猫的图片，再说吧" are no changes.
    # A complaint names the result's medium ("图片太暗了 亮一点"): the change is still one.
    named = state.media.media is not None and not complained
    degrees = () if named else _DEGREE_RE.finditer(kept)
    for m in (*_COMPARATIVE_RE.finditer(kept), *degrees):
        if has_request_verb(m.group()):
            continue
        if last is None or m.end() > last.end():
            last = m
    if last is None:
        return False
    if len(content) > _SHORT:
        # "太丧了 欢快一点": a remark, then the change in a clause of its own
        ends = (m.end() for m in _CLAUSE_RE.finditer(kept) if m.end() <= last.start())
        clause = max(ends, default=0)
        if clause == 0 or has_request_verb(kept) or len(content_words(kept[clause:])) > _SHORT:
            return False
        if len(content_words(kept[:clause])) > _SHORT:
            return False
    return not has_content(FILLER_RE.sub(" ", kept[last.end() :]))


def content_words(text: str) -> list[str]:
    """The words left once media words, frames, fillers and edit words are gone."""
    text = MEDIA_RE.sub(lambda m: m.group() if token_group(m) in CONTENT_GROUPS else " ", text)
    text = _EDIT_WORDS_RE.sub(" ", text)
    text = _COMPARATIVE_RE.sub(" ", text)
    text = FILLER_RE.sub(" ", text).replace(USED, " ").replace(GONE, " ")
    return [w for w in _WORD_SPLIT_RE.findall(text) if has_content(w)]


#: A Latin word, or one ideograph: what ``content_words`` counts.
_WORD_SPLIT_RE = re.compile(r"[A-Za-z]+|[^\sA-Za-z0-9]")

"""Pass 10: is the message a question to the bot, and about what?

A question is a question mark anywhere, a question word anywhere (``多少``, ``哪个``, ``how
much``), ``吗/呢/么`` at the end, or an English question opening (``what…``, ``is it…``,
``can you…``). Question words inside a plain request (``画一个什么都不怕的女孩``) do not count:
an imperative with a description needs a question mark or ``吗`` to become a question.

This pass only reads; the command pass decides: a question is answered (``QUESTION``) unless it
is a request phrased as one (``polite``: "can you draw a cat?", "能帮我画一只猫吗").
"""

from __future__ import annotations

import re

from core.parse.edits import content_words
from core.parse.frames import LEAD_VERB, has_request_verb, lead_end
from core.parse.lexicon import lexicon, words
from core.parse.model import Question, QuestionTopic
from core.parse.state import QuestionForm, State
from core.parse.text import NOCASE

_MARK_RE = re.compile(r"[?]")
_WORD_RE = lexicon().pattern("question.word")
#: "吗/呢/么" ending the message or one of its clauses ("可以给我做个视频吗，海边日落").
_END_RE = re.compile(rf"{words('question.end')}[\s\x00\x01~…]*(?:[,.;!?]|\Z)")
_SKIP = r"[\s\x00\x01,.!~]*"
_OPENING_RE = re.compile(
    rf"{_SKIP}(?:{words('question.start', 'question.wh')}"
    rf"|{words('question.aux')}\s*(?:{words('question.subject')}|\x00"
    rf"|[A-Za-z0-9.\-]+\s+{words('frame.request_verb', 'question.aux_verb')})"
    rf"|{words('question.do')}\s+{words('question.do_subject')})",
    NOCASE,
)
_POLITE_RE = re.compile(rf"{_SKIP}(?:\w+[\s,]+)?{words('question.polite')}", NOCASE)
_WH_RE = lexicon().pattern("question.wh")
#: "不知道做什么", "not sure what to make": the question is the person's, to themselves.
_EMBEDDED_RE = re.compile(rf"{words('question.embedded')}[^,.;!?\n]*", NOCASE)
_IMPERATIVE_RE = re.compile(LEAD_VERB, NOCASE)

#: Topics, in the order they are tried.
_TOPICS = (
    (QuestionTopic.MODELS, "models"),
    (QuestionTopic.PRICE, "price"),
    (QuestionTopic.LIMITS, "limits"),
    (QuestionTopic.TIME, "time"),
    (QuestionTopic.CREDITS, "credits"),
)
_TOPIC_RES = tuple((topic, lexicon().pattern(f"question.topic.{name}")) for topic, name in _TOPICS)
_CAPABILITIES_RE = lexicon().pattern("question.topic.capabilities")
#: Features, in the order one is picked when several are named.
FEATURES = (
    "first_last_frame",
    "reference",
    "lyrics",
    "audio",
    "4k",
    "aspect_ratio",
    "duration",
    "count",
    "anime",
    "realistic",
    "text",
    "vocals",
    "instrumental",
    "image_to_video",
    "image_to_image",
)
_FEATURE_RES = tuple((f, lexicon().pattern(f"question.feature.{f}")) for f in FEATURES)
_ABOUT_INPUT_RE = lexicon().pattern("question.feature.about_input")
#: Not something to make: what a question asks about, and how it asks.
_NOT_SUBJECT_RE = lexicon().pattern(
    *(f"question.feature.{f}" for f in FEATURES),
    "question.word",
    "question.end",
    "question.wh",
    "question.polite",
    "question.benefactive",
    "question.topic.capabilities",
    "frame.request_verb",
)


def question(state: State) -> None:
    """Fill ``state.question`` and ``state.question_form`` when the message is a question."""
    scan = state.scan
    view = _EMBEDDED_RE.sub(" ", scan.edges())
    start = lead_end(scan.view)
    mark = _MARK_RE.search(view) is not None
    end = _END_RE.search(view) is not None
    opening = _OPENING_RE.match(scan.view) is not None or _OPENING_RE.match(scan.view, start)
    word = _WORD_RE.search(view) is not None
    if not (mark or end or opening or word):
        return
    topic = _topic(state)
    # "画一个什么都不怕的女孩": a question word inside a plain request is description, unless
    # it asks about something ("用可灵做视频要多少钱").
    imperative = _IMPERATIVE_RE.match(scan.view, start) is not None and state.described
    if not (mark or end or opening) and imperative and topic is QuestionTopic.OTHER:
        return
    polite = (
        _POLITE_RE.match(scan.view) is not None or _POLITE_RE.match(scan.view, start) is not None
    ) and has_request_verb(view)
    wh = _WH_RE.search(view) is not None
    state.question_form = QuestionForm(
        wh=wh,
        polite=polite and not wh,
        mark_only=mark and not (end or opening or word),
        subject=bool(content_words(_NOT_SUBJECT_RE.sub(" ", view))),
    )
    state.question = Question(topic=topic, feature=_feature(state))


def _topic(state: State) -> QuestionTopic:
    """What the question is about, read in the text as written (a model name or "the best
    model" was taken out by the directives)."""
    kept = state.scan.original()
    for topic, pattern in _TOPIC_RES:
        if pattern.search(kept):
            return topic
    if state.images:
        return QuestionTopic.ABOUT_INPUT
    if _CAPABILITIES_RE.search(kept):
        return QuestionTopic.CAPABILITIES
    if _ABOUT_INPUT_RE.search(kept):
        return QuestionTopic.ABOUT_INPUT
    return QuestionTopic.OTHER


def _feature(state: State) -> str | None:
    """The first of ``FEATURES`` the question names, in words or as a parameter."""
    res, media = state.resolution, state.media
    named = {
        "first_last_frame": media.first_last,
        "reference": media.reference,
        "lyrics": state.lyrics is not None,
        "audio": state.sound.audio is not None,
        "4k": res.wants_8k or "4K" in (res.resolution, res.size),
        "aspect_ratio": state.aspect_ratio is not None or state.custom_ratio is not None,
        "duration": state.duration is not None,
        "count": state.count.value is not None,
        "vocals": state.sound.vocal_gender is not None,
        "instrumental": state.sound.instrumental is not None,
    }
    kept = state.scan.original()
    for feature, pattern in _FEATURE_RES:
        if named.get(feature) or pattern.search(kept):
            return feature
    return None

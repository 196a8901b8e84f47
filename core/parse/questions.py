"""Pass 10: is the message a question to the bot, and about what?

A question is a question mark anywhere, a question word anywhere (``多少``, ``哪个``, ``how
much``, A-not-A ``贵不贵``, ``几张`` asking how many), ``吗/呢/么`` ending a clause, or an English
question opening (``what…``, ``is it…``, ``can a video…``, ``do you…``; an aux before a plain
description, "will smith eating spaghetti", needs more). Question words inside a plain request
(``画一个什么都不怕的女孩``) or after "不知道/not sure" do not count.

This pass only reads; the command pass decides: a question is answered (``QUESTION``) unless it
is a request phrased as one (``polite``: "can you draw a cat?", "能帮我画一只猫吗").
"""

from __future__ import annotations

import re

from core.parse.edits import content_words
from core.parse.frames import LEAD_VERB, has_request_verb, lead_end
from core.parse.lexicon import any_phrase, lexicon, words
from core.parse.model import Question, QuestionTopic
from core.parse.prompt import described
from core.parse.state import QuestionForm, State
from core.parse.text import EMOJI, NOCASE

_MARK_RE = re.compile(r"[?]")
_WORD_RE = lexicon().pattern("question.word", "question.feedback")
#: Asking for an opinion or feedback ("给点意见", "be honest"): a question about the picture.
FEEDBACK_RE = lexicon().pattern("question.feedback")
#: "吗/呢/么" ending the message or one of its clauses ("可以给我做个视频吗，海边日落").
_END_RE = re.compile(
    rf"{words('question.end')}[\s\x00\x01~…]*(?:{words('question.end_tail')}[\s\x00\x01~…]*)?"
    rf"(?:(?:{words('chat.laugh')}|{EMOJI})[\s\x00\x01~…!]*)*(?:[,.;!?]|\Z)"
    rf"|{words('question.end_spaced')}\s",
    NOCASE,
)
#: "能做音乐不", "可以画图没": a modal, then 不/没 ending the clause (no description); or a
#: bare 不 ending it after anything but an adverb of negation ("支持竖屏视频不").
_END_NOT_RE = re.compile(
    rf"(?:{words('question.modal')}[^,.;!?\n]{{0,12}}?(?P<not>{words('question.end_not')})"
    rf"|(?<!{words('question.end_not_adverb')})(?P<bare>不))"
    rf"[\s\x00\x01~…]*(?:[,.;!?]|\Z)"
)
_SKIP = r"[\s\x00\x01,.!~]*"
#: Interjections before a question's opening: "wait does it do 4k", "ok so is it free".
_LEAD = rf"{_SKIP}(?:{words('question.interjection')}{_SKIP})*"
_OPENING_RE = re.compile(
    rf"{_LEAD}(?:{words('question.start', 'question.wh')}"
    rf"|{words('question.aux')}\s*(?:{words('question.subject')}|\x00"
    rf"|(?!{words('question.not_name')}\s)[A-Za-z0-9.\-]+\s+"
    rf"{words('frame.request_verb', 'question.aux_verb')})"
    rf"|{words('question.do')}\s+{words('question.do_subject')})",
    NOCASE,
)
#: An aux opening the message before any word ("are videos expensive", "do videos have
#: sfx?"): a question when something else says so too.
_AUX_START_RE = re.compile(rf"{_LEAD}{words('question.aux', 'question.do')}\s+\w", NOCASE)
#: "贵不贵", "快不快", "要不要": A-not-A asks.
_A_NOT_A_RE = re.compile(r"([\u4e00-\u9fff])[不没]\1")
#: "几张/几秒/几个" asks how many ("能生成几个", "视频能做几秒"), except right after a verb
#: with no modal before it, where it is "a few" ("多来几张", "再画几个", "来几张猫的图").
_HOW_MANY_RE = re.compile(rf"(?P<before>.{{0,6}}?){words('question.how_many')}")
_A_FEW_VERB_RE = re.compile(rf"{words('question.a_few_after')}\Z")
_MODAL_RE = lexicon().pattern("question.modal")


def _asks_how_many(view: str) -> bool:
    """Whether a "几…" in the text asks how many."""
    for m in _HOW_MANY_RE.finditer(view):
        before = m["before"]
        if not _A_FEW_VERB_RE.search(before) or _MODAL_RE.search(before):
            return True
    return False


#: A request phrased as a question opens with one of these, maybe after a few words ("hey can
#: you…", "my oc!! can u…").
_POLITE_RE = re.compile(rf"{_SKIP}(?:\w+[\s,!~]+){{0,3}}?{words('question.polite')}", NOCASE)
_WH_RE = lexicon().pattern("question.wh")
_ASKS_FOR_RE = lexicon().pattern("question.asks_for")
_CHANGE_VERB_RE = lexicon().pattern("edit.verb", "edit.change")
#: "不知道做什么", "not sure what to make": the question is the person's, to themselves.
_EMBEDDED_RE = re.compile(rf"{words('question.embedded')}[^,.;!?\n]*", NOCASE)
_IMPERATIVE_RE = re.compile(LEAD_VERB, NOCASE)
_THESE_FEW_RE = lexicon().pattern("question.these_few")
#: A model name (masked by the directives pass) opening the message before a modal.
_MODEL_SUBJECT_RE = re.compile(rf"[\s,.!~]*\x00+\s*{words('question.modal')}", NOCASE)
#: A bare media noun opening the message before a modal: what the medium can do ("music 可以自己
#: 写 lyrics 吗", "视频能加音效吗"); "这个 video 能改成 9:16 吗" is about the result.
_MEDIA_SUBJECT_RE = re.compile(
    rf"[\s,.!~]*{words('media.video', 'media.music', 'media.image')}\s*{words('question.modal')}",
    NOCASE,
)
#: "by itself", "自己": what the bot does on its own, a capability.
_BY_ITSELF_RE = lexicon().pattern("question.by_itself")
#: A request's words in a yes/no question, anywhere: "这个 video 能改成 9:16 吗", "hey could u…".
_ASKING_RE = lexicon().pattern("question.polite")

#: Topics, in the order one is picked when several are named; each phrase of all topics is
#: tried longest first ("多长时间" is time, "多长" a limit).
_TOPICS = (
    QuestionTopic.MODELS,
    QuestionTopic.PRICE,
    QuestionTopic.LIMITS,
    QuestionTopic.TIME,
    QuestionTopic.CREDITS,
    QuestionTopic.CAPABILITIES,
)
_TOPIC_PHRASES = sorted(
    (
        (topic, phrase)
        for topic in _TOPICS
        for phrase in lexicon().phrases(f"question.topic.{topic.value}")
    ),
    key=lambda tp: (-len(tp[1]), tp[1]),
)
_TOPIC_RE = re.compile(
    any_phrase(
        [p for _, p in _TOPIC_PHRASES],
        [f"{t.value}_{i}" for i, (t, _) in enumerate(_TOPIC_PHRASES)],
    ),
    NOCASE,
)
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
    "question.feedback",
    "question.end",
    "question.wh",
    "question.polite",
    "question.benefactive",
    "question.asks_for",
    "question.topic.capabilities",
    "question.not_subject",
    "frame.request_verb",
    "chat.laugh",
)


def question(state: State) -> None:
    """Fill ``state.question`` and ``state.question_form`` when the message is a question."""
    scan = state.scan
    view = _THESE_FEW_RE.sub(" ", _EMBEDDED_RE.sub(" ", scan.edges()))
    start = lead_end(scan.view)
    mark = _MARK_RE.search(view) is not None
    end = _END_RE.search(view) is not None
    not_end = scan.search(_END_NOT_RE)
    if not_end is not None:
        end = True
        scan.mask([not_end.span("not" if not_end["not"] is not None else "bare")])
        described(state)  # the 不 described nothing
    opening = _OPENING_RE.match(view) is not None or _OPENING_RE.match(view, start) is not None
    # A-not-A ("贵不贵", "快不快") asks as surely as a question mark.
    end = end or _A_NOT_A_RE.search(view) is not None
    word = _WORD_RE.search(view) is not None or _asks_how_many(view)
    aux = _AUX_START_RE.match(view) is not None
    if not (mark or end or opening or word or aux):
        return
    topic = _topic(state)
    asks = topic is not QuestionTopic.OTHER or _WH_RE.search(view) is not None
    # "will smith eating spaghetti", "have him wave" (a picture attached): an aux before a plain
    # description or request; a picture alone asks nothing.
    about = asks and topic is not QuestionTopic.ABOUT_INPUT
    if aux and not (mark or end or opening or word or about):
        return
    # "画一个什么都不怕的女孩": a question word inside a plain request is description, unless
    # it asks about something ("用可灵做视频要多少钱").
    imperative = _IMPERATIVE_RE.match(scan.view, start) is not None and state.described
    if not (mark or end or opening) and imperative and topic is QuestionTopic.OTHER:
        return
    directed = state.directives.model is not None or state.directives.quality is not None
    polite = (
        _POLITE_RE.match(scan.view) is not None or _POLITE_RE.match(scan.view, start) is not None
    ) and (
        has_request_verb(view)
        or _ASKS_FOR_RE.search(view) is not None
        or directed
        # "could you remove the car in the background" with the picture: a change of it
        or (state.images > 0 and _CHANGE_VERB_RE.search(view) is not None)
    )
    # "veo能配音吗", "midjourney 能做图生图吗", "music 可以自己写 lyrics 吗": what a model or a
    # medium can do, not a request to use it.
    capability = (
        _MODEL_SUBJECT_RE.match(scan.view) is not None
        or _MEDIA_SUBJECT_RE.match(scan.view) is not None
        or _BY_ITSELF_RE.search(view) is not None
        or _WH_RE.search(view) is not None
    )
    state.question_form = QuestionForm(
        polite=polite and not capability,
        asks_to_do=_ASKING_RE.search(view) is not None and not capability,
        # "a cat in space?": a question mark on a plain description, asking about nothing.
        mark_only=mark and not (end or opening or word or aux or asks),
        subject=bool(content_words(_NOT_SUBJECT_RE.sub(" ", view))),
    )
    feature = _feature(state)
    named = state.directives.model is not None
    if topic is QuestionTopic.OTHER and feature is not None and (aux or opening or named):
        topic = QuestionTopic.CAPABILITIES  # "does veo have sound?", "pixverse 有 sound 吗"
    state.question = Question(topic=topic, feature=feature)


def _topic(state: State) -> QuestionTopic:
    """What the question is about, read in the text as written (a model name or "the best
    model" was taken out by the directives). With a picture attached and no other topic, the
    question is about the picture."""
    kept = state.scan.original()
    if state.images and FEEDBACK_RE.search(kept):
        return QuestionTopic.ABOUT_INPUT  # "这图能打几分": an opinion of it, not a price
    found = {QuestionTopic((m.lastgroup or "").rsplit("_", 1)[0]) for m in _TOPIC_RE.finditer(kept)}
    for topic in _TOPICS[:-1]:
        if topic in found:
            return topic
    if state.images:
        return QuestionTopic.ABOUT_INPUT
    if QuestionTopic.CAPABILITIES in found:
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

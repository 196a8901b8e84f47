"""The lexicon files: they load, every phrase compiles in the documented syntax, and every phrase
is used by a row of the tables (dead vocabulary is caught)."""

from __future__ import annotations

import re

import pytest

import core.parse
from core.parse.lexicon import FILES, LED, LexiconError, compile_phrase, load, longest_first
from core.parse.text import FOLD
from tests.core.parse.test_tables import all_rows


def test_every_file_loads_and_has_phrases() -> None:
    lexicon = load()
    for file in FILES:
        assert any(e.file == file for e in lexicon.entries), file


def test_every_phrase_is_used_by_a_row() -> None:
    """Each phrase must match the text of at least one row of this package's tables."""
    text = "\n".join(row.text.translate(FOLD) for row in all_rows())
    unused = [e for e in load().entries if not e.pattern().search(text)]
    assert not unused, "\n".join(f"{e.file} {e.category}: {e.phrase}" for e in unused)


def test_leads_hide_no_match() -> None:
    """A pattern behind a first-character test matches what its body alone matches."""
    assert core.parse.PASSES  # importing the passes compiles their patterns
    assert LED
    text = "\n".join(row.text.translate(FOLD) for row in all_rows())
    for pattern, body in LED:
        alone = re.compile(body, re.IGNORECASE)
        assert [m.span() for m in pattern.finditer(text)] == [
            m.span() for m in alone.finditer(text)
        ], body[:80]


@pytest.mark.parametrize(
    ("phrase", "matches", "misses"),
    [
        ("make [me] a", ["make a", "make me a", "MAKE  me a"], ["makeme a", "make mea"]),
        ("(video|clip)[s]", ["video", "clips"], ["videoss", "vid"]),
        ("wan", ["wan", "用wan做"], ["want", "swan"]),
        ("lo-fi", ["lo-fi", "lofi", "lo fi"], ["lo--fi"]),
        ("don't", ["don't", "dont"], ["don t"]),
        ("视频 封面", ["视频封面", "视频 封面"], ["视频的封面"]),
        ("ha(ha)+", ["haha", "hahaha"], ["ha", "hahah"]),
        ("\\[x\\]", ["[x]"], ["x"]),
        ("[the ]best", ["best", "the best"], ["thebest"]),
        ("[the] best", ["best", "the best"], ["thebest"]),
        ("画风{!景}", ["画风", "画风很好"], ["画风景"]),
    ],
)
def test_phrase_syntax(phrase: str, matches: list[str], misses: list[str]) -> None:
    pattern = re.compile(compile_phrase(phrase), re.IGNORECASE)
    for text in matches:
        assert pattern.search(text), text
    for text in misses:
        assert not pattern.search(text), text


@pytest.mark.parametrize(
    ("phrase", "text", "taken"),
    [
        ("add (sound[s]|sound effects)", "add sound effects now", "add sound effects"),
        ("with (audio|sound[ effects]|sfx)", "with sound effects", "with sound effects"),
        ("(带|加) (sound|sound effects)", "加 sound effects", "加 sound effects"),
        ("(最|最好的)模型", "最好的模型", "最好的模型"),
        ("x[(a|ab)]c", "xabc", "xabc"),
    ],
)
def test_a_choice_that_starts_another_is_tried_after_it(phrase: str, text: str, taken: str) -> None:
    """Inside a phrase the longest choice is tried first, whatever the order written."""
    found = re.compile(compile_phrase(phrase), re.IGNORECASE).search(text)
    assert found is not None
    assert found.group() == taken


@pytest.mark.parametrize(
    ("phrase", "ordered"),
    [
        ("(a|abc|ab)", "(abc|ab|a)"),
        ("[x|yy[z]]w", "[yy[z]|x]w"),
        ("(b|a[bc])", "(a[bc]|b)"),  # ties keep the written order: both take two characters
        ("ha(ha)+", "ha(ha)+"),
        ("画风{!景|山水}", "画风{!景|山水}"),  # a lookahead takes nothing: left as written
    ],
)
def test_choices_are_ordered_longest_first(phrase: str, ordered: str) -> None:
    assert longest_first(phrase) == ordered


@pytest.mark.parametrize("phrase", ["a|b", "(a", "a]", "", "+a", "x\\", "(a]", "{x}"])
def test_malformed_phrases_are_refused(phrase: str) -> None:
    with pytest.raises(LexiconError):
        compile_phrase(phrase)

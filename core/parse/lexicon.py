"""The parser's vocabulary: phrase lists read once from ``lexicon/*.toml`` and compiled.

Every word the parser knows lives in a lexicon file: ``zh.toml`` (Chinese), ``en.toml``
(English) and ``common.toml`` (symbols and words of no one language). A file is TOML tables of
phrase lists; a list's name is its table and key (``[media]`` ``video = [...]`` is the category
``media.video``). A category is the union of its lists in all files, so a pass asks for
``media.video`` and gets the Chinese and the English words together. A pass names the
categories it reads; which categories exist is what the passes ask for (a missing one is an
error at import, not a silent empty list).

A phrase is plain text, matched case-insensitively on the message with full-width characters
folded to ASCII. Only these characters are special:

- ``[x]`` makes ``x`` optional and ``(a|b|c)`` offers a choice (``[a|b]``: an optional
  choice); both nest. ``|`` only separates choices inside brackets: one line is one phrase.
- A space matches any whitespace: none or more next to an ideograph or emoji (``视频 封面``
  also matches ``视频封面``); elsewhere one or more, or none where an optional word left out
  already ends the word (``make [me] a`` matches ``make a``, ``[the] best`` matches ``best``).
- ``-`` matches a hyphen, a space or nothing (``lo-fi``: ``lofi``, ``lo fi``); ``'`` matches an
  apostrophe or nothing (``don't``: ``dont``).
- ``{!x}`` matches only where ``x`` does not follow, and takes nothing (``画风{!景}`` is "art
  style", not the start of "画风景", "draw scenery").
- ``+`` repeats what comes before it, a character or a bracket, once or more (``ha(ha)+``).
- ``\\`` takes the next character literally (``\\[``).
- A phrase starting or ending with a Latin letter matches only where no letter touches it
  there (``wan`` is not in ``want``, ``seed`` is in ``seed42``); at a digit, no letter or digit
  may touch it. Ideographs need no spaces and get no boundary.

Everything else (``.``, ``?``, ``*``…) is an ordinary character. Alternatives of a category are
tried longest first, so ``music video`` wins over ``music``; so are the choices inside a phrase,
by the longest text each can match, so ``add (sound[s]|sound effects)`` takes "sound effects"
whole rather than stopping at "sound" (a tie keeps the written order).
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

#: The lexicon files, in no particular order: categories are unions.
FILES = ("common.toml", "en.toml", "zh.toml")

#: A Latin edge of a match may not touch another letter ("wan" is not in "want"), and a digit
#: edge no letter or digit; a letter may touch a digit ("seed42", "3:30pm"). These check
#: whichever character a match starts or ends with, for phrases whose edge is a bracket.
#: Letter classes are case-sensitive inside case-insensitive patterns ("(?-i:…)"): the same
#: test, and much cheaper to compile.
_L = "(?-i:[A-Za-z])"
_LD = "(?-i:[A-Za-z0-9])"
_START = f"(?:(?<!{_L})|(?!{_L}))"
_END = f"(?:(?!{_L})|(?<!{_L}))"
_SYNTAX = "[](){}|+"
#: A space between Latin words: whitespace, or nothing at a word boundary already there.
_LATIN_SPACE = rf"(?:\s+|(?<!{_LD})|(?!{_LD}))"


class LexiconError(ValueError):
    """A lexicon file is malformed: a phrase that can't compile or a category that is missing."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One phrase of one lexicon file."""

    file: str
    category: str
    phrase: str

    def pattern(self) -> re.Pattern[str]:
        """This phrase alone, as the parser matches it."""
        return re.compile(compile_phrase(self.phrase), re.IGNORECASE)


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _neighbour(phrase: str, index: int, step: int) -> str:
    """The nearest ordinary character before (step -1) or after (step 1) ``index``."""
    i = index + step
    while 0 <= i < len(phrase):
        ch = phrase[i]
        if ch == "\\" and step > 0:
            return phrase[i + 1] if i + 1 < len(phrase) else ""
        if ch not in _SYNTAX and ch != " ":
            return ch
        i += step
    return ""


def compile_phrase(phrase: str) -> str:
    """The regular expression for one phrase (see the module doc for the syntax)."""
    head, tail = _split(phrase)
    return head + tail


def longest_first(phrase: str) -> str:
    """The phrase with the choices of each bracket ordered by the longest text they can match,
    longest first (stable): a regular expression takes the first choice that fits, so a choice
    that is the start of another ("sound[s]", "sound effects") must come after it."""
    text, _, end = _sequence(phrase, 0)
    if end < len(phrase):
        if phrase[end] == "|":
            raise LexiconError(f"{phrase!r}: | outside brackets (one line, one phrase)")
        raise LexiconError(f"{phrase!r}: unbalanced {phrase[end]}")
    return text


def _sequence(phrase: str, i: int) -> tuple[str, int, int]:
    """The sequence starting at ``i`` up to a closing bracket or ``|``: its text with the
    choices inside reordered, the longest text it can match, and where it ends."""
    out: list[str] = []
    longest = 0
    while i < len(phrase) and phrase[i] not in ")]}|":
        ch = phrase[i]
        if ch == "\\":
            if i + 1 == len(phrase):
                raise LexiconError(f"{phrase!r}: nothing after \\")
            out.append(phrase[i : i + 2])
            longest += 1
            i += 2
        elif ch in "([{":
            close = {"(": ")", "[": "]", "{": "}"}[ch]
            opening = "{!" if ch == "{" else ch
            if phrase[i : i + len(opening)] != opening:
                raise LexiconError(f"{phrase!r}: {{ must be {{!")
            i += len(opening)
            choices: list[tuple[str, int]] = []
            while True:
                text, size, i = _sequence(phrase, i)
                choices.append((text, size))
                if i >= len(phrase) or phrase[i] != "|":
                    break
                i += 1
            if i >= len(phrase):
                raise LexiconError(f"{phrase!r}: unclosed bracket")
            if phrase[i] != close:
                raise LexiconError(f"{phrase!r}: unbalanced {phrase[i]}")
            i += 1
            if ch != "{":  # a lookahead takes nothing, so its order is no preference
                choices.sort(key=lambda choice: -choice[1])
                longest += choices[0][1]
            out.append(opening + "|".join(text for text, _ in choices) + close)
        else:
            out.append(ch)
            longest += ch != "+"
            i += 1
    return "".join(out), longest, i


def _split(phrase: str) -> tuple[str, str]:
    """The regular expression of a phrase as its first character (with its boundary test) and
    the rest; the first part is "" when the phrase opens with a bracket. Phrases sharing a
    first character share it in an alternation, which then fails fast on it."""
    phrase = longest_first(phrase)  # brackets balanced, "\\" followed, "{" opening "{!"
    out: list[str] = []
    i = 0
    while i < len(phrase):
        ch = phrase[i]
        if ch == "\\":
            out.append(re.escape(phrase[i + 1]))
            i += 2
            continue
        if ch == " ":
            wide = not (_neighbour(phrase, i, -1) + _neighbour(phrase, i, 1)).isascii()
            out.append(r"\s*" if wide else _LATIN_SPACE)
        elif ch in "[(":
            out.append("(?:")
        elif ch == "{":
            out.append("(?!")
            i += 1
        elif ch in "])}":
            out.append(")?" if ch == "]" else ")")
        elif ch == "|":
            out.append("|")
        elif ch == "+":
            if not out or phrase[i - 1] in " [(|":
                raise LexiconError(f"{phrase!r}: + repeats nothing")
            out.append("+")
        elif ch == "-":
            out.append(r"[-\s]?")
        elif ch == "'":
            out.append("'?")
        else:
            out.append(re.escape(ch))
        i += 1
    body = "".join(out)
    if not body:
        raise LexiconError("empty phrase")
    # A match never starts or ends with whitespace, even when an optional word at its edge is
    # left out ("[in] portrait mode" does not take the space before "portrait").
    end = _edge(phrase[-1], r"(?<!\s)" + _END, "(?!{})")
    first = phrase[0]
    if first in _SYNTAX or first in " \\-'" or phrase[1:2] == "+":
        return "", _edge(first, r"(?!\s)" + _START, "") + body + end
    head = re.escape(first.lower())
    if _is_latin(first):
        # The first letter before its boundary test ("v(?<![A-Za-z].)ideo" rather than
        # "(?<![A-Za-z])video"): the engine tries the cheap test first.
        head += f"(?<!{_L if first.isalpha() else _LD}.)"
    return head, "".join(out[1:]) + end


def _edge(ch: str, either: str, plain: str) -> str:
    """The boundary at one end of a phrase: none at an ideograph, a plain one at a letter or
    digit, and one that checks the matched character when a bracket leaves it open."""
    if ch in _SYNTAX or ch == "\\":
        return either
    if not _is_latin(ch):
        return ""
    return plain.format(_LD if ch.isdigit() else _L)


#: Stands for "any whitespace" in a set of first characters.
_WHITESPACE = "\\s"


def first_chars(phrase: str) -> frozenset[str] | None:
    """The characters a match of the phrase can start with (None when it can be empty)."""
    found, nullable, _ = _sequence_firsts(phrase, 0)
    return None if nullable else frozenset(found)


def _sequence_firsts(phrase: str, i: int) -> tuple[set[str], bool, int]:
    """First characters of the sequence starting at ``i`` (up to a closing bracket or ``|``),
    whether it can match nothing, and where it ends."""
    found: set[str] = set()
    nullable = True
    while i < len(phrase) and phrase[i] not in ")]}|":
        ch = phrase[i]
        if ch in "([{":
            close = {"(": ")", "[": "]", "{": "}"}[ch]
            inner: set[str] = set()
            inner_nullable = ch != "("
            i += 2 if ch == "{" else 1
            while True:
                alt, alt_nullable, i = _sequence_firsts(phrase, i)
                inner |= alt
                inner_nullable = inner_nullable or alt_nullable
                if i >= len(phrase) or phrase[i] == close:
                    i += 1
                    break
                i += 1  # past "|"
            element, element_nullable = (set(), True) if ch == "{" else (inner, inner_nullable)
        elif ch == "+":
            i += 1
            continue
        elif ch == "\\":
            element, element_nullable = {phrase[i + 1 : i + 2]}, False
            i += 2
        elif ch == " ":
            element, element_nullable = {_WHITESPACE}, True
            i += 1
        elif ch in "-'":
            element, element_nullable = {ch, _WHITESPACE} if ch == "-" else {ch}, True
            i += 1
        else:
            element, element_nullable = {ch}, False
            i += 1
        if nullable:
            found |= element
            nullable = element_nullable
    return found, nullable, i


def _first_class(phrases: list[str], also: str = "") -> str:
    """A lookahead for the first characters of any of the phrases (a letter only at the start
    of a word), or "" when one can start anywhere: the regular expression engine then skips
    most positions at once instead of trying every phrase there."""
    chars: set[str] = set()
    for phrase in phrases:
        firsts = first_chars(phrase)
        if firsts is None:
            return ""
        chars |= firsts
    letters = "".join(sorted(c for c in chars if c.isascii() and c.isalpha()))
    others = also + "".join(
        c if c == _WHITESPACE else re.escape(c)
        for c in sorted(chars)
        if not (c.isascii() and c.isalpha())
    )
    if not letters:
        return f"(?=[{others}])"
    if not others:
        return f"(?<!{_L})(?=[{letters}])"
    return f"(?=[{letters}{others}])(?:(?<!{_L})|(?=[{others}]))"


def any_phrase(phrases: list[str], names: list[str] | None = None) -> str:
    """One regular expression for phrases given longest first: a first-character test, then
    the phrases grouped by their first character, longest first within each group, then the
    phrases that open with a bracket. With ``names``, each phrase is a named group (the match's
    ``lastgroup`` says which phrase it was)."""
    grouped: dict[str, list[str]] = {}
    loose: list[str] = []
    for i, phrase in enumerate(phrases):
        head, tail = _split(phrase)
        if names is not None:
            tail = f"(?P<{names[i]}>{tail})"
        if head:
            grouped.setdefault(head, []).append(tail)
        else:
            loose.append(tail)
    branches = [f"{head}(?:{'|'.join(tails)})" for head, tails in grouped.items()] + loose
    return f"(?:{_first_class(phrases)}(?:{'|'.join(branches)}))"


def _flatten(table: dict[str, Any], prefix: str, file: str) -> Iterator[Entry]:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            yield from _flatten(value, name, file)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            for phrase in value:
                yield Entry(file, name, phrase)
        else:
            raise LexiconError(f"{file}: {name} is neither a table nor a list of phrases")


@dataclass(frozen=True, slots=True)
class Lexicon:
    """All phrases of all files, by category."""

    entries: tuple[Entry, ...]

    def phrases(self, category: str) -> tuple[str, ...]:
        """The phrases of a category in every file, longest first."""
        found = [e.phrase for e in self.entries if e.category == category]
        if not found:
            raise LexiconError(f"no lexicon file has the category {category!r}")
        return tuple(sorted(dict.fromkeys(found), key=lambda p: (-len(p), p)))

    def alternation(self, *categories: str) -> str:
        """One regular expression (a non-capturing group) matching any phrase of the categories,
        longest first."""
        phrases = sorted(
            {p for c in categories for p in self.phrases(c)}, key=lambda p: (-len(p), p)
        )
        return any_phrase(phrases)

    def lead(self, *categories: str, also: str = "") -> str:
        """The lookahead an alternation of these categories starts with: put it in front of a
        pattern made of several of them, so that most places are skipped at once. ``also``
        adds characters (in regular expression class syntax) other parts can start with."""
        return _first_class([p for c in categories for p in self.phrases(c)], also)

    def pattern(self, *categories: str) -> re.Pattern[str]:
        return re.compile(self.alternation(*categories), re.IGNORECASE)


def load() -> Lexicon:
    """Read and check every lexicon file (each phrase must compile)."""
    entries: list[Entry] = []
    folder = resources.files("core.parse") / "lexicon"
    for file in FILES:
        table = tomllib.loads((folder / file).read_text(encoding="utf-8"))
        entries.extend(_flatten(table, "", file))
    for entry in entries:
        compile_phrase(entry.phrase)
    return Lexicon(tuple(entries))


@functools.cache
def lexicon() -> Lexicon:
    """The lexicon, read once per process."""
    return load()


def words(*categories: str) -> str:
    """Shorthand for the passes: the alternation of some categories."""
    return lexicon().alternation(*categories)


def lead(*categories: str, also: str = "") -> str:
    """Shorthand for :meth:`Lexicon.lead`."""
    return lexicon().lead(*categories, also=also)


#: Every pattern compiled behind a lead, with its body alone: a test checks that no lead hides
#: a match (a category missing from its list would).
LED: list[tuple[re.Pattern[str], str]] = []


def led(body: str, *categories: str, also: str = "") -> re.Pattern[str]:
    """``body`` compiled behind the lead of ``categories``: every alternative of the body must
    start with a phrase of one of them, or a character of ``also``."""
    pattern = re.compile(lead(*categories, also=also) + f"(?:{body})", re.IGNORECASE)
    LED.append((pattern, body))
    return pattern

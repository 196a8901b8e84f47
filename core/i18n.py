"""Message catalogs: TOML files in ``locales/``, flattened to dotted keys.

``en.toml`` holds the engine's messages; a part of the program with its own words (an adapter)
keeps them in ``<part>.<locale>.toml`` beside it, merged into the same catalog.

The locale is always passed explicitly (chosen per request from the user's platform locale or
the language they wrote in), never read from a global, so background jobs speak the language of
the person who asked.

Words that follow a number are written ``{n:# pt|# pts}``: the singular form, ``|``, the plural
form, ``#`` standing for the number (:func:`plural` picks one). Chinese needs none.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from locales import LOCALES_DIR

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "en"


def normalize_locale(hint: str | None, default: str = DEFAULT_LOCALE) -> str:
    """``zh-CN`` / ``zh_TW`` / ``zh`` → ``zh``; ``en-US`` → ``en``; anything else → default."""
    if not hint:
        return default
    lang = hint.replace("_", "-").split("-")[0].lower()
    return lang if lang in LOCALES else default


def plural(locale: str, count: object) -> str:
    """``count``'s plural category in ``locale``, by CLDR's names: "one" or "other".

    In English only exactly 1 is singular ("1 pt", "0 pts", "5–10 pts"); Chinese words have a
    single form for every number.
    """
    if locale == "en" and _integer(count) == 1:
        return "one"
    return "other"


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d+", value):
        return int(value)
    return None


class _Formatter(string.Formatter):
    """``str.format``, plus ``{n:one|other}`` plural forms (see the module's docstring)."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" not in format_spec:
            return str(super().format_field(value, format_spec))
        one, other = format_spec.split("|", 1)
        form = one if plural(self.locale, value) == "one" else other
        return form.replace("#", str(value))


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


class Translator:
    def __init__(self, catalogs: Mapping[str, Mapping[str, str]], default: str = DEFAULT_LOCALE):
        self.catalogs = catalogs
        self.default = default

    @classmethod
    def load(cls, directory: Path = LOCALES_DIR, default: str = DEFAULT_LOCALE) -> Translator:
        catalogs: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.toml")):
            locale = path.stem.rsplit(".", 1)[-1]
            messages = _flatten(tomllib.loads(path.read_text("utf-8")))
            target = catalogs.setdefault(locale, {})
            if clash := target.keys() & messages.keys():
                raise ValueError(f"{path.name} repeats keys {sorted(clash)}")
            target.update(messages)
        return cls(catalogs, default)

    def t(self, locale: str, key: str, /, **values: Any) -> str:
        """The message ``key`` in ``locale`` (falling back to the default locale), formatted."""
        if locale not in self.catalogs or key not in self.catalogs[locale]:
            locale = self.default
        template = self.catalogs[locale].get(key)
        if template is None:
            raise KeyError(f"no message {key!r}")
        return _Formatter(locale).format(template, **values) if values else template

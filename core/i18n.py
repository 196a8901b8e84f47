"""Message catalogs: TOML files in ``locales/``, flattened to dotted keys.

``en.toml`` holds the engine's messages; a part of the program with its own words (an adapter)
keeps them in ``<part>.<locale>.toml`` beside it, merged into the same catalog.

The locale is always passed explicitly (chosen per request from the user's platform locale or
the language they wrote in), never read from a global, so background jobs speak the language of
the person who asked.
"""

from __future__ import annotations

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
        catalog = self.catalogs.get(locale) or self.catalogs[self.default]
        template = catalog.get(key) or self.catalogs[self.default].get(key)
        if template is None:
            raise KeyError(f"no message {key!r}")
        return template.format(**values) if values else template

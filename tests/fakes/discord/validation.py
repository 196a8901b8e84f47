"""Discord's documented limits on message, command and autocomplete payloads.

Only limits the bot can realistically hit are checked; each violation becomes a 400 / 50035
"Invalid Form Body" with the field path, and one bad field fails the whole request, like the
real API. Numbers come from Discord's OpenAPI spec (``discord/discord-api-spec``) and its
developer docs; where they disagree (the spec allows 6000-character string choice values, the
docs say 100) the stricter documented value is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

import discord

from .errors import FormErrors

JSON = dict[str, Any]

MAX_CONTENT_LENGTH = 2000
MAX_NONCE_LENGTH = 25
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_ACTION_ROWS = 5
MAX_ROW_COMPONENTS = 5
MAX_CUSTOM_ID_LENGTH = 100
MAX_BUTTON_LABEL_LENGTH = 80
MAX_BUTTON_URL_LENGTH = 512
MAX_CHOICES = 25
MAX_CHOICE_LENGTH = 100
MAX_COMMAND_OPTIONS = 25
#: Bounds of a string option's ``min_length`` and ``max_length``.
MAX_STRING_OPTION_LENGTH = 6000

IS_COMPONENTS_V2 = 1 << 15
ACTION_ROW = 1

_EMBED_TEXT_LIMITS = {"title": 256, "description": 4096}
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_VALID_LOCALES = frozenset(locale.value for locale in discord.Locale)
_CHAT_INPUT = 1
_SUB_COMMAND = 1
_SUB_COMMAND_GROUP = 2
_SUBCOMMAND_TYPES = (_SUB_COMMAND, _SUB_COMMAND_GROUP)
_STRING = 3


def check_message(payload: JSON) -> None:
    """Raise 50035 when content, embeds or components exceed Discord's limits."""
    errors = FormErrors()
    content = payload.get("content")
    if isinstance(content, str) and len(content) > MAX_CONTENT_LENGTH:
        errors.too_long(["content"], MAX_CONTENT_LENGTH)
    _check_embeds(payload.get("embeds") or [], errors)
    _check_components(payload.get("components") or [], int(payload.get("flags") or 0), errors)
    errors.raise_if_any()


def check_nonce(payload: JSON) -> str | None:
    """A message's ``nonce`` as a string: an integer or a string of at most 25 characters."""
    nonce = payload.get("nonce")
    if nonce is None:
        return None
    if isinstance(nonce, int) and not isinstance(nonce, bool):
        return str(nonce)
    if isinstance(nonce, str) and len(nonce) <= MAX_NONCE_LENGTH:
        return nonce
    errors = FormErrors()
    errors.too_long(["nonce"], MAX_NONCE_LENGTH)
    errors.raise_if_any()
    return None


def _check_embeds(embeds: list[JSON], errors: FormErrors) -> None:
    if len(embeds) > MAX_EMBEDS:
        errors.too_long(["embeds"], MAX_EMBEDS)
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in _EMBED_TEXT_LIMITS.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                errors.too_long(["embeds", index, key], limit)
        for field in embed.get("fields") or []:
            total += len(field.get("name") or "") + len(field.get("value") or "")
        total += len((embed.get("footer") or {}).get("text") or "")
        total += len((embed.get("author") or {}).get("name") or "")
    if total > MAX_EMBED_TOTAL:
        errors.add(
            ["embeds"],
            "BASE_TYPE_MAX_LENGTH",
            f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}",
        )


def iter_components(components: list[JSON]) -> Iterator[JSON]:
    """Every component, depth first, including those nested in rows, sections and containers."""
    for component in components:
        yield component
        yield from iter_components(component.get("components") or [])
        accessory = component.get("accessory")
        if accessory:
            yield from iter_components([accessory])


def _check_components(components: list[JSON], flags: int, errors: FormErrors) -> None:
    if not flags & IS_COMPONENTS_V2:
        if len(components) > MAX_ACTION_ROWS:
            errors.too_long(["components"], MAX_ACTION_ROWS)
        for index, row in enumerate(components):
            if row.get("type") != ACTION_ROW:
                errors.add(
                    ["components", index, "type"], "UNION_TYPE_CHOICES", "Expected an action row."
                )
            elif len(row.get("components") or []) > MAX_ROW_COMPONENTS:
                errors.too_long(["components", index, "components"], MAX_ROW_COMPONENTS)
    seen: set[str] = set()
    for component in iter_components(components):
        custom_id = component.get("custom_id")
        if custom_id is not None:
            if len(custom_id) > MAX_CUSTOM_ID_LENGTH:
                errors.too_long(["components", "custom_id"], MAX_CUSTOM_ID_LENGTH)
            if custom_id in seen:
                errors.add(
                    ["components", "custom_id"],
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                )
            seen.add(custom_id)
        label = component.get("label")
        if isinstance(label, str) and len(label) > MAX_BUTTON_LABEL_LENGTH:
            errors.too_long(["components", "label"], MAX_BUTTON_LABEL_LENGTH)
        url = component.get("url")  # link buttons
        if isinstance(url, str) and len(url) > MAX_BUTTON_URL_LENGTH:
            errors.too_long(["components", "url"], MAX_BUTTON_URL_LENGTH)


def check_choices(choices: list[JSON]) -> None:
    """Autocomplete results: at most 25 choices, names 1-100 chars, string values <= 100."""
    errors = FormErrors()
    _check_choice_list(choices, ["data", "choices"], errors)
    errors.raise_if_any()


def _check_choice_list(choices: list[JSON], path: list[str | int], errors: FormErrors) -> None:
    if len(choices) > MAX_CHOICES:
        errors.too_long(path, MAX_CHOICES)
    for index, choice in enumerate(choices):
        for locale, name in _localized(choice, "name"):
            if not 1 <= len(name or "") <= MAX_CHOICE_LENGTH:
                where = (
                    [*path, index, "name"]
                    if locale is None
                    else [*path, index, "name_localizations", locale]
                )
                errors.add(
                    where,
                    "BASE_TYPE_BAD_LENGTH",
                    f"Must be between 1 and {MAX_CHOICE_LENGTH} in length.",
                )
        value = choice.get("value")
        if isinstance(value, str) and len(value) > MAX_CHOICE_LENGTH:
            errors.too_long([*path, index, "value"], MAX_CHOICE_LENGTH)


def check_commands(commands: list[JSON]) -> None:
    """Validate a bulk-overwrite body the way Discord does for the fields a bot controls.

    Localized names and descriptions are checked too: a bad translation fails the whole sync.
    """
    errors = FormErrors()
    seen: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        kind = int(command.get("type") or _CHAT_INPUT)
        key = (kind, str(command.get("name")))
        if key in seen:
            errors.add(
                [index, "name"],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        seen.add(key)
        _check_named(command, [index], errors, chat_input=kind == _CHAT_INPUT)
        _check_options(command.get("options") or [], [index, "options"], errors)
    errors.raise_if_any()


def _check_options(
    options: list[JSON], path: list[str | int], errors: FormErrors, *, parent: int | None = None
) -> None:
    """Options of a command (``parent`` None), of a subcommand group or of a subcommand."""
    if len(options) > MAX_COMMAND_OPTIONS:
        errors.too_long(path, MAX_COMMAND_OPTIONS)
    optional_seen = False
    for index, option in enumerate(options):
        here = [*path, index]
        _check_named(option, here, errors, chat_input=True)
        _check_nesting(option.get("type"), parent, options[0].get("type"), here, errors)
        if option.get("required"):
            if optional_seen:
                errors.add(
                    here,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        elif option.get("type") not in _SUBCOMMAND_TYPES:
            optional_seen = True
        if option.get("type") == _STRING:
            _check_length_bounds(option, here, errors)
        _check_choice_list(option.get("choices") or [], [*here, "choices"], errors)
        _check_options(
            option.get("options") or [], [*here, "options"], errors, parent=option.get("type")
        )


def _check_nesting(
    kind: object, parent: int | None, first: object, path: list[str | int], errors: FormErrors
) -> None:
    """A group holds only subcommands, a subcommand holds no subcommands, and a command's
    options are either all subcommands (and groups) or none, like its ``first`` one."""
    if parent == _SUB_COMMAND_GROUP:
        allowed = kind == _SUB_COMMAND
    elif parent == _SUB_COMMAND:
        allowed = kind not in _SUBCOMMAND_TYPES
    else:
        allowed = (kind in _SUBCOMMAND_TYPES) == (first in _SUBCOMMAND_TYPES)
    if not allowed:
        errors.add([*path, "type"], "UNION_TYPE_CHOICES", "Invalid option type at this level.")


def _check_length_bounds(option: JSON, path: list[str | int], errors: FormErrors) -> None:
    """A string option may declare ``min_length`` 0-6000 and ``max_length`` 1-6000."""
    for key, lowest in (("min_length", 0), ("max_length", 1)):
        value = option.get(key)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool):
            errors.add([*path, key], "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")
        elif value > MAX_STRING_OPTION_LENGTH:
            errors.add(
                [*path, key],
                "NUMBER_TYPE_MAX",
                f"int value should be less than or equal to {MAX_STRING_OPTION_LENGTH}.",
            )
        elif value < lowest:
            errors.add(
                [*path, key],
                "NUMBER_TYPE_MIN",
                f"int value should be greater than or equal to {lowest}.",
            )


def _localized(item: JSON, key: str) -> list[tuple[str | None, Any]]:
    """The default value of ``key`` (locale None) followed by its ``<key>_localizations``."""
    return [(None, item.get(key)), *dict(item.get(f"{key}_localizations") or {}).items()]


def _check_named(
    item: JSON, path: Sequence[str | int], errors: FormErrors, *, chat_input: bool
) -> None:
    for locale, name in _localized(item, "name"):
        where = [*path, "name"] if locale is None else [*path, "name_localizations", locale]
        if locale is not None and locale not in _VALID_LOCALES:
            errors.add(where, "LOCALE_INVALID", f"Invalid locale {locale!r}")
        elif chat_input and not _valid_chat_input_name(name):
            errors.add(where, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
        elif not chat_input and not 1 <= len(str(name or "")) <= 32:
            errors.add(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    if not chat_input:
        return
    for locale, description in _localized(item, "description"):
        where = (
            [*path, "description"]
            if locale is None
            else [*path, "description_localizations", locale]
        )
        if not 1 <= len(description or "") <= 100:
            errors.add(where, "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _valid_chat_input_name(name: object) -> bool:
    """Discord: 1-32 letters/digits/``-_'``, lower case wherever a lower-case form exists."""
    return isinstance(name, str) and bool(_COMMAND_NAME.match(name)) and name == name.lower()

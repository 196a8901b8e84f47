"""Build ``INTERACTION_CREATE`` data the way the Discord client would for a synced command.

Options are typed from the synced command definition, so a test that passes an option the
bot never registered fails here instead of silently producing an impossible interaction. The
same goes for values Discord's client would not let a user send: a string longer than the
option's ``max_length`` (6000 when it declares none) or shorter than its ``min_length``, a number
outside ``min_value``..``max_value``, a value that is not one of the option's ``choices``. While
the user is still typing (autocomplete) only the length cap applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .models import FakeChannel, FakeUser
from .state import FakeState
from .validation import MAX_STRING_OPTION_LENGTH

JSON = dict[str, Any]

#: ``(filename, content_type, data)`` of a file a user attaches to a command.
Upload = tuple[str, str, bytes]

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER = 6
CHANNEL = 7
NUMBER = 10
ATTACHMENT = 11


class _Resolved:
    """Collects ``data.resolved`` entries for user, channel and attachment options."""

    def __init__(self, state: FakeState, channel: FakeChannel) -> None:
        self.state = state
        self.channel = channel
        self.data: dict[str, JSON] = {}

    def _put(self, kind: str, key: int, value: JSON) -> str:
        self.data.setdefault(kind, {})[str(key)] = value
        return str(key)

    def user(self, user: FakeUser) -> str:
        if self.channel.guild_id is not None:
            guild = self.state.guilds[self.channel.guild_id]
            member = guild.member_payload(user, with_user=False)
            member["permissions"] = str(guild.member_permissions(user))
            self._put("members", user.id, member)
        return self._put("users", user.id, user.to_payload())

    def channel_option(self, channel: FakeChannel) -> str:
        payload = channel.to_payload(self.state.bot_user.id)
        payload["permissions"] = str(channel.bot_permissions)
        return self._put("channels", channel.id, payload)

    def attachment(self, upload: Upload) -> str:
        filename, content_type, data = upload
        attachment = self.state.new_attachment(
            self.channel.id, filename, content_type, data, ephemeral=True
        )
        return self._put("attachments", attachment.id, attachment.to_payload())


def command_data(
    state: FakeState,
    name: str,
    channel: FakeChannel,
    options: Mapping[str, Any],
    *,
    attachments: Sequence[Upload] = (),
    focused: str | None = None,
) -> JSON:
    """``data`` of a chat-input command (type 2) or, with ``focused``, of autocomplete (type 4).

    ``name`` may name a subcommand path: ``"video create"``. ``attachments`` fill the
    command's attachment options that ``options`` leaves out, in declaration order.
    """
    top, *path = name.split()
    command = state.find_command(top, channel)
    definitions: list[JSON] = command.get("options") or []
    chain: list[JSON] = []
    for part in path:
        sub = next(
            (
                d
                for d in definitions
                if d["name"] == part and d["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)
            ),
            None,
        )
        if sub is None:
            raise LookupError(f"{top!r} has no subcommand {part!r}")
        chain.append(sub)
        definitions = sub.get("options") or []

    resolved = _Resolved(state, channel)
    leaf = _leaf_options(definitions, options, list(attachments), resolved, focused)
    for sub in reversed(chain):
        leaf = [{"name": sub["name"], "type": sub["type"], "options": leaf}]
    data: JSON = {"id": command["id"], "name": command["name"], "type": 1, "options": leaf}
    if resolved.data:
        data["resolved"] = resolved.data
    if "guild_id" in command:
        data["guild_id"] = command["guild_id"]
    return data


def _leaf_options(
    definitions: list[JSON],
    given: Mapping[str, Any],
    uploads: list[Upload],
    resolved: _Resolved,
    focused: str | None,
) -> list[JSON]:
    known = {d["name"] for d in definitions}
    unknown = (set(given) | ({focused} if focused else set())) - known
    if unknown:
        raise ValueError(f"options not in the synced command: {sorted(unknown)}")
    typing = focused is not None
    result = []
    for definition in definitions:
        option_name, kind = definition["name"], definition["type"]
        if option_name == focused:
            value = given.get(option_name, "")
            _check_sendable(definition, value, typing=True)
            result.append({"name": option_name, "type": kind, "value": value, "focused": True})
        elif option_name in given:
            value = _option_value(kind, given[option_name], resolved)
            _check_sendable(definition, value, typing=typing)
            result.append({"name": option_name, "type": kind, "value": value})
        elif kind == ATTACHMENT and uploads:
            value = resolved.attachment(uploads.pop(0))
            result.append({"name": option_name, "type": kind, "value": value})
        elif definition.get("required") and not typing:
            raise ValueError(f"required option {option_name!r} is missing")
    if uploads:
        raise ValueError("more attachments than the command has attachment options")
    return result


def _check_sendable(definition: JSON, value: Any, *, typing: bool) -> None:
    """Raise ``ValueError`` where Discord's client would not send ``value`` for this option."""
    name, kind = definition["name"], definition["type"]
    problem = None
    if kind == STRING:
        longest = definition.get("max_length") or MAX_STRING_OPTION_LENGTH
        shortest = definition.get("min_length") or 0
        if len(value) > longest:
            problem = f"{len(value)} characters, over its max_length {longest}"
        elif len(value) < shortest and not typing:
            problem = f"{len(value)} characters, under its min_length {shortest}"
    elif kind in (INTEGER, NUMBER) and not typing:
        low, high = definition.get("min_value"), definition.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            problem = f"{value} is outside {low}..{high}"
    choices = [choice["value"] for choice in definition.get("choices") or []]
    if problem is None and choices and not typing and value not in choices:
        problem = f"{value!r} is not one of its choices {choices}"
    if problem is not None:
        raise ValueError(f"Discord's client would not send option {name!r}: {problem}")


def _option_value(kind: int, value: Any, resolved: _Resolved) -> Any:
    if kind == STRING:
        return str(value)
    if kind == INTEGER:
        return int(value)
    if kind == NUMBER:
        return float(value)
    if kind == BOOLEAN:
        return bool(value)
    if kind == USER and isinstance(value, FakeUser):
        return resolved.user(value)
    if kind == CHANNEL and isinstance(value, FakeChannel):
        return resolved.channel_option(value)
    if kind == ATTACHMENT and isinstance(value, tuple):
        return resolved.attachment(value)
    raise ValueError(f"the fake cannot build option type {kind} from {value!r}")

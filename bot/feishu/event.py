"""Feishu event JSON → typed events (pure; tested by replaying recorded-style payloads).

Payloads are the v2.0 envelope both delivery modes carry::

    {"schema": "2.0", "header": {"event_id": ..., "event_type": ...}, "event": {...}}

Message ``content`` is itself a JSON string. Mentions appear in the text as ``@_user_N`` keys
resolved by ``message.mentions``; the bot is recognised by its open_id, never by its name (names
are not unique: anyone can call a colleague "IMA Bot").

Anything malformed or not for the bot becomes ``None``: a strange payload must never crash the
adapter. A direct message of a kind the bot can't use (a file, a voice message, a video, a
sticker) becomes :class:`UnusableMessage`, so the person hears what it can take instead of
nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.door import Press
from core.request import Attachment, ChatRequest

PLATFORM = "feishu"
MESSAGE_RECEIVED = "im.message.receive_v1"
CARD_ACTION = "card.action.trigger"

#: The mention of everyone in the chat, as text and rich text write it.
_ALL = "@_all"
_MENTION_KEY = re.compile(rf"@_user_\d+|{_ALL}")
#: Message kinds a person may send the bot that carry nothing it can use.
UNUSABLE_KINDS = frozenset({"file", "audio", "media", "sticker"})
_SPACES = re.compile(r"[ \t\u3000]+")


@dataclass(frozen=True)
class MessageEvent:
    """A user's message the bot should answer: a DM, or a group message that @mentions it."""

    event_id: str
    message_id: str
    chat_id: str
    direct: bool
    sender_id: str
    #: The words, without the bot's mention; other people's mentions become their names.
    text: str
    #: Images in the message, in order (downloaded later through the message's resources).
    image_keys: tuple[str, ...] = ()
    #: The message this one replies to, if it is a reply (a result card, for a follow-up).
    reply_to: str | None = None

    def request(self) -> ChatRequest:
        """The message as the engine's request; answers reply to it (or, gone, go to its chat)."""
        return ChatRequest(
            platform=PLATFORM,
            user_id=self.sender_id,
            chat_id=self.chat_id,
            reply_target={"message_id": self.message_id, "chat_id": self.chat_id},
            text=self.text,
            message_id=self.message_id,
            attachments=tuple(
                Attachment(key, {"message_id": self.message_id, "image_key": key})
                for key in self.image_keys
            ),
            reply_to=self.reply_to,
            private=self.direct,
        )


@dataclass(frozen=True)
class UnusableMessage:
    """A direct message of a kind the bot can't use: it answers with what it can take."""

    message_id: str
    chat_id: str
    sender_id: str


@dataclass(frozen=True)
class CardAction:
    """Someone pressed a button on one of the bot's cards."""

    event_id: str
    user_id: str
    #: The engine's action, carried in the button's value.
    action: str
    #: The language of the card the button was on.
    locale: str | None
    message_id: str
    chat_id: str
    #: Whose card it is (the button's value says): others get a "not yours" at once.
    owner: str | None = None

    def press(self) -> Press:
        return Press(
            platform=PLATFORM,
            user_id=self.user_id,
            chat_id=self.chat_id,
            action=self.action,
            locale=self.locale,
            reply_target={"message_id": self.message_id, "chat_id": self.chat_id},
            event_id=self.event_id,
        )


def parse_message(payload: Any, bot_open_id: str) -> MessageEvent | UnusableMessage | None:
    """``im.message.receive_v1`` → a message for the bot, or ``None`` (ignored)."""
    event = _event_of(payload, MESSAGE_RECEIVED)
    if event is None:
        return None
    sender = _dict(event.get("sender"))
    message = _dict(event.get("message"))
    event_id = _str(_dict(payload.get("header")).get("event_id"))
    sender_id = _str(_dict(sender.get("sender_id")).get("open_id"))
    message_id = _str(message.get("message_id"))
    chat_id = _str(message.get("chat_id"))
    chat_type = message.get("chat_type")
    if sender.get("sender_type") != "user" or not (event_id and sender_id and message_id):
        return None  # other bots (and ourselves) are never answered
    if not chat_id or chat_type not in ("p2p", "group"):
        return None
    mentions = {
        _str(m.get("key")): m for m in message.get("mentions") or () if isinstance(m, Mapping)
    }
    mentioned = any(
        _str(_dict(m.get("id")).get("open_id")) == bot_open_id for m in mentions.values()
    )
    direct = chat_type == "p2p"
    if not direct and not (bot_open_id and mentioned):
        return None
    message_type = message.get("message_type")
    if direct and message_type in UNUSABLE_KINDS:
        return UnusableMessage(message_id, chat_id, sender_id)
    parsed = _content(message_type, message.get("content"))
    if parsed is None:
        return None
    text, images = parsed
    text = _resolve_mentions(text, mentions, bot_open_id)
    if not text and not images:
        return None
    reply_to = _str(message.get("parent_id")) or None
    return MessageEvent(event_id, message_id, chat_id, direct, sender_id, text, images, reply_to)


def parse_card_action(payload: Any) -> CardAction | None:
    """``card.action.trigger`` from one of our buttons → the press, or ``None``."""
    event = _event_of(payload, CARD_ACTION)
    if event is None:
        return None
    value = _value(_dict(event.get("action")).get("value"))
    context = _dict(event.get("context"))
    event_id = _str(_dict(payload.get("header")).get("event_id"))
    user_id = _str(_dict(event.get("operator")).get("open_id"))
    action = _str(value.get("action"))
    message_id = _str(context.get("open_message_id"))
    if not (event_id and user_id and action and message_id):
        return None
    locale = value.get("locale")
    return CardAction(
        event_id=event_id,
        user_id=user_id,
        action=action,
        locale=locale if isinstance(locale, str) else None,
        message_id=message_id,
        chat_id=_str(context.get("open_chat_id")),
        owner=_str(value.get("owner")) or None,
    )


def _value(raw: Any) -> dict[str, Any]:
    """A button's value: an object, or (the docs allow it) a string — JSON of one, or not."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return _dict(raw)


# ── content ──────────────────────────────────────────────────────────────────────────────


def _content(message_type: Any, raw: Any) -> tuple[str, tuple[str, ...]] | None:
    """``(text, image keys)`` of a text, rich text or image message; ``None`` for other kinds."""
    try:
        content = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(content, dict):
        return None
    if message_type == "text":
        return _str(content.get("text")), ()
    if message_type == "image":
        key = _str(content.get("image_key"))
        return ("", (key,)) if key else None
    if message_type == "post":
        return _post(content)
    return None


def _post(content: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    """Received rich text is ``{"title", "content": [[element, ...], ...]}``; sent rich text (and
    some clients' forwards) wrap that in a locale (``{"zh_cn": {...}}``): accept both."""
    if "content" not in content:
        content = next((v for v in content.values() if isinstance(v, dict)), {})
    lines: list[str] = []
    images: list[str] = []
    title = _str(content.get("title")).strip()
    if title:
        lines.append(title)
    for row in content.get("content") or ():
        if not isinstance(row, list):
            continue
        words: list[str] = []
        for element in row:
            if not isinstance(element, Mapping):
                continue
            tag = element.get("tag")
            if tag in ("text", "a", "code_block", "md"):
                words.append(_str(element.get("text")))
            elif tag == "at":
                # user_id holds the mention key (@_user_N); resolved like keys in plain text.
                # Everyone is "all" in sent rich text: never a word of the prompt.
                key = _str(element.get("user_id"))
                words.append(f" {_ALL if key == 'all' else key} ")
            elif tag == "img" and _str(element.get("image_key")):
                # Only pictures: a video ("media") carries its cover as an image_key too.
                images.append(_str(element.get("image_key")))
        line = "".join(words)
        if line.strip():
            lines.append(line)
    return "\n".join(lines), tuple(images)


def _resolve_mentions(text: str, mentions: Mapping[str, Any], bot_open_id: str) -> str:
    """Drop the bot's mention and @all (even when ``mentions`` names it, "所有人"); other
    people keep their name, it may be the subject."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(0)
        mention = _dict(mentions.get(key))
        if (
            key == _ALL
            or not mention
            or _str(_dict(mention.get("id")).get("open_id")) == bot_open_id
        ):
            return " "
        name = _str(mention.get("name"))
        return f" @{name} " if name else " "

    resolved = _MENTION_KEY.sub(replace, text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in resolved.splitlines()).strip()


# ── helpers ──────────────────────────────────────────────────────────────────────────────


def _event_of(payload: Any, event_type: str) -> dict[str, Any] | None:
    if not isinstance(payload, Mapping):
        return None
    header = _dict(payload.get("header"))
    event = payload.get("event")
    if header.get("event_type") != event_type or not isinstance(event, dict):
        return None
    return event


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""

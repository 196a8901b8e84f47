"""A :class:`~core.replier.Reply` as a Feishu interactive card (pure).

Cards are shared (``config.update_multi: true``) so the bot can PATCH the same card through the
four steps, and everyone in a group sees the update. Buttons carry the engine's action string,
the card's language so a "not yours" toast can be worded like the card, and whose card it is.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.replier import Reply, Stage

#: Feishu refuses cards over 30 KB (230025).
MAX_CARD_BYTES = 30 * 1024

HEADER_TEMPLATES = {
    Stage.BEFORE: "blue",
    Stage.PROGRESS: "wathet",
    Stage.SUCCESS: "green",
    Stage.FAILURE: "red",
    Stage.INFO: "grey",
    Stage.QUESTION: "orange",
}


@dataclass(frozen=True)
class Link:
    """A result too large to send, opened in the browser instead."""

    label: str
    url: str


def build_card(
    reply: Reply,
    *,
    title: str,
    locale: str,
    note: str | None = None,
    image_keys: Sequence[str] = (),
    links: Sequence[Link] = (),
) -> dict[str, Any]:
    """``note``: a line of the adapter's own under the reply's text. ``image_keys``: uploaded
    result images, shown inline. ``links``: results opened in the browser."""
    text = f"{reply.text}\n{note}" if note else reply.text
    card = _card(reply, title, locale, image_keys, links, text)
    overflow = card_size(card) - MAX_CARD_BYTES
    if overflow > 0:  # only a runaway text can do this: shorten it, keep everything else
        encoded = text.encode()
        card = _card(reply, title, locale, image_keys, links, _cut(encoded[: -overflow - 16]))
    return card


def with_mention(card: dict[str, Any], open_id: str) -> dict[str, Any]:
    """The card with an @ of ``open_id`` on top, for when it cannot reply to their message."""
    mention = {"tag": "div", "text": {"tag": "lark_md", "content": f"<at id={open_id}></at>"}}
    return {**card, "elements": [mention, *card["elements"]]}


def card_size(card: dict[str, Any]) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode())


def _card(
    reply: Reply,
    title: str,
    locale: str,
    image_keys: Sequence[str],
    links: Sequence[Link],
    text: str,
) -> dict[str, Any]:
    elements: list[dict[str, Any]] = []
    if text:
        elements.append({"tag": "div", "text": {"tag": "plain_text", "content": text}})
    elements += [
        {
            "tag": "img",
            "img_key": key,
            "alt": {"tag": "plain_text", "content": ""},
            "mode": "fit_horizontal",
            "preview": True,
        }
        for key in image_keys
    ]
    actions = [
        {"tag": "button", "text": _plain(link.label), "type": "default", "url": link.url}
        for link in links
    ]
    actions += [
        {
            "tag": "button",
            "text": _plain(button.label),
            "type": "primary" if i == 0 else "default",
            "value": _value(button.action, locale, reply.user_id),
        }
        for i, button in enumerate(reply.buttons)
    ]
    if actions:
        elements.append({"tag": "action", "actions": actions})
    return {
        "config": {"update_multi": True, "wide_screen_mode": True},
        "header": {"template": HEADER_TEMPLATES[reply.stage], "title": _plain(title)},
        "elements": elements,
    }


def _value(action: str, locale: str, owner: str | None) -> dict[str, str]:
    """What a press hands back: the action, the card's language, and whose card it is (so a
    press by someone else is refused at once, inside Feishu's callback time)."""
    value = {"action": action, "locale": locale}
    if owner:
        value["owner"] = owner
    return value


def _plain(text: str) -> dict[str, str]:
    return {"tag": "plain_text", "content": text}


def _cut(data: bytes) -> str:
    return data.decode(errors="ignore").rstrip() + "…"

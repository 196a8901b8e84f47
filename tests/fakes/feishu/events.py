"""Builders for the event and callback payloads Feishu delivers, as plain JSON-ready dicts.

Shapes follow the v2.0 schema Feishu sends in both delivery modes (webhook and long connection):
``{"schema": "2.0", "header": {...}, "event": {...}}`` where ``header.token`` is the app's
verification token. Message ``content`` is a JSON *string*, and mentions appear in text as
``@_user_N`` placeholders resolved by the ``mentions`` list; the bot is recognised by its open_id.

Every message built here is remembered (:attr:`EventFactory.incoming`) so the fake can resolve a
reply to it to the right chat, and each user gets one stable p2p chat shared with the REST side.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any

from tests.fakes.feishu.records import FakeUser, IncomingMessage


def new_id(prefix: str, hex_chars: int = 32) -> str:
    """Feishu-looking identifier: ``om_`` + 32 hex for messages, ``oc_`` for chats, and so on."""
    return prefix + secrets.token_hex(hex_chars // 2)


def _now_ms() -> str:
    return str(int(time.time() * 1000))


class EventFactory:
    """Builds events for one app; see :class:`FakeFeishu` for how to deliver them."""

    def __init__(
        self, *, app_id: str, tenant_key: str, verification_token: str, bot: FakeUser
    ) -> None:
        self.app_id = app_id
        self.tenant_key = tenant_key
        self.verification_token = verification_token
        self.bot = bot
        self.incoming: dict[str, IncomingMessage] = {}
        self._users: dict[str, FakeUser] = {}
        self._p2p_chats: dict[str, str] = {}
        self.default_user = self.new_user("Test User")
        self.default_group_chat_id = new_id("oc_")

    def new_user(self, name: str) -> FakeUser:
        user = FakeUser(
            open_id=new_id("ou_"), user_id=new_id("", 8), union_id=new_id("on_"), name=name
        )
        for key in (user.open_id, user.user_id, user.union_id):
            self._users[key] = user
        return user

    def p2p_chat_id(self, who: FakeUser | str) -> str:
        """The single chat between the bot and a user (given as user or any of their ids)."""
        if isinstance(who, str):
            known = self._users.get(who)
            key = known.open_id if known else who
        else:
            key = who.open_id
        return self._p2p_chats.setdefault(key, new_id("oc_"))

    # --- im.message.receive_v1 ------------------------------------------------------------

    def group_text_mentioning_bot(
        self, text: str, *, chat_id: str | None = None, sender: FakeUser | None = None
    ) -> dict[str, Any]:
        """``@Bot <text>`` in a group: the case the bot must answer."""
        return self.text(text, chat_id=chat_id, sender=sender, mentions=[self.bot])

    def group_text_mentioning(
        self,
        someone: FakeUser,
        text: str,
        *,
        chat_id: str | None = None,
        sender: FakeUser | None = None,
    ) -> dict[str, Any]:
        """``@someone <text>`` in a group: the bot receives it (with the group-message scope) and
        must stay quiet."""
        return self.text(text, chat_id=chat_id, sender=sender, mentions=[someone])

    def dm_text(self, text: str, *, sender: FakeUser | None = None) -> dict[str, Any]:
        """A direct message to the bot; no mention needed."""
        return self.text(text, chat_type="p2p", sender=sender)

    def text(
        self,
        text: str,
        *,
        chat_type: str = "group",
        chat_id: str | None = None,
        sender: FakeUser | None = None,
        mentions: Sequence[FakeUser] = (),
    ) -> dict[str, Any]:
        """A text message; each mention is prefixed to ``text`` as ``@_user_N``."""
        keys = [f"@_user_{i}" for i in range(1, len(mentions) + 1)]
        body = " ".join([*keys, text]) if keys else text
        return self._message(
            "text",
            {"text": body},
            chat_type=chat_type,
            chat_id=chat_id,
            sender=sender,
            mentions=list(zip(keys, mentions, strict=True)),
        )

    def image(
        self,
        image_key: str | None = None,
        *,
        chat_type: str = "p2p",
        chat_id: str | None = None,
        sender: FakeUser | None = None,
    ) -> dict[str, Any]:
        """An image message (``content: {"image_key": ...}``); register its bytes with
        :meth:`FakeFeishu.add_message_resource` so the bot can download it."""
        return self._message(
            "image",
            {"image_key": image_key or new_id("img_v3_", 36)},
            chat_type=chat_type,
            chat_id=chat_id,
            sender=sender,
        )

    def post(
        self,
        text: str,
        image_keys: Sequence[str],
        *,
        title: str = "",
        mention_bot: bool = True,
        chat_type: str = "group",
        chat_id: str | None = None,
        sender: FakeUser | None = None,
    ) -> dict[str, Any]:
        """Rich text as received: a first line ``[@bot] text``, then one line per image."""
        first_line: list[dict[str, Any]] = []
        mentions: list[tuple[str, FakeUser]] = []
        if mention_bot:
            mentions.append(("@_user_1", self.bot))
            first_line.append(
                {"tag": "at", "user_id": "@_user_1", "user_name": self.bot.name, "style": []}
            )
        first_line.append({"tag": "text", "text": text, "style": []})
        lines = [first_line] + [
            [{"tag": "img", "image_key": key, "width": 1024, "height": 1024}] for key in image_keys
        ]
        return self._message(
            "post",
            {"title": title, "content": lines},
            chat_type=chat_type,
            chat_id=chat_id,
            sender=sender,
            mentions=mentions,
        )

    # --- callbacks ------------------------------------------------------------------------

    def card_action(
        self,
        value: dict[str, Any],
        *,
        message_id: str,
        chat_id: str,
        operator: FakeUser | None = None,
        tag: str = "button",
    ) -> dict[str, Any]:
        """A ``card.action.trigger`` callback (new-style card callback) for a button press.

        The same payload arrives by webhook and, as a ``type=event`` frame, over the long
        connection; the SDK routes it to ``register_p2_card_action_trigger``. ``event.token`` is
        the card's delayed-update token, not the verification token (that one is in the header).
        """
        who = operator or self.default_user
        return {
            "schema": "2.0",
            "header": self._header("card.action.trigger"),
            "event": {
                "operator": {
                    "tenant_key": self.tenant_key,
                    "user_id": who.user_id,
                    "open_id": who.open_id,
                    "union_id": who.union_id,
                },
                "token": new_id("c-"),
                "action": {"value": value, "tag": tag},
                "host": "im_message",
                "context": {"open_message_id": message_id, "open_chat_id": chat_id},
            },
        }

    def url_verification(self, challenge: str | None = None) -> dict[str, Any]:
        """The challenge Feishu sends when a webhook URL is saved in the console."""
        return {
            "challenge": challenge or secrets.token_urlsafe(16),
            "token": self.verification_token,
            "type": "url_verification",
        }

    @staticmethod
    def message_id(event: dict[str, Any]) -> str:
        value = event["event"]["message"]["message_id"]
        assert isinstance(value, str)
        return value

    # --- internals ------------------------------------------------------------------------

    def _header(self, event_type: str) -> dict[str, str]:
        return {
            "event_id": new_id(""),
            "event_type": event_type,
            "create_time": _now_ms(),
            "token": self.verification_token,
            "app_id": self.app_id,
            "tenant_key": self.tenant_key,
        }

    def _message(
        self,
        message_type: str,
        content: dict[str, Any],
        *,
        chat_type: str,
        chat_id: str | None,
        sender: FakeUser | None,
        mentions: Sequence[tuple[str, FakeUser]] = (),
    ) -> dict[str, Any]:
        who = sender or self.default_user
        if chat_id is None:
            chat_id = self.p2p_chat_id(who) if chat_type == "p2p" else self.default_group_chat_id
        message_id = new_id("om_")
        message: dict[str, Any] = {
            "message_id": message_id,
            "root_id": "",
            "parent_id": "",
            "create_time": _now_ms(),
            "update_time": _now_ms(),
            "chat_id": chat_id,
            "chat_type": chat_type,
            "message_type": message_type,
            "content": json.dumps(content, ensure_ascii=False),
        }
        if mentions:
            message["mentions"] = [
                {
                    "key": key,
                    "id": {"union_id": u.union_id, "user_id": u.user_id, "open_id": u.open_id},
                    "name": u.name,
                    "tenant_key": self.tenant_key,
                }
                for key, u in mentions
            ]
        self.incoming[message_id] = IncomingMessage(message_id, chat_id, chat_type, who)
        return {
            "schema": "2.0",
            "header": self._header("im.message.receive_v1"),
            "event": {
                "sender": {
                    "sender_id": {
                        "union_id": who.union_id,
                        "user_id": who.user_id,
                        "open_id": who.open_id,
                    },
                    "sender_type": "user",
                    "tenant_key": self.tenant_key,
                },
                "message": message,
            },
        }

"""Builders for the event and callback payloads Feishu delivers, as plain JSON-ready dicts.

Most shapes follow the v2.0 schema Feishu sends in both delivery modes (webhook and long
connection): ``{"schema": "2.0", "header": {...}, "event": {...}}`` where ``header.token`` is the
app's verification token. Message ``content`` is a JSON *string*, and mentions appear in text as
``@_user_N`` placeholders resolved by the ``mentions`` list; the bot is recognised by its open_id.

Bots also receive events nobody asked for: read receipts, recalls, reactions, "bot added to a
group", and old-style schema 1.0 events ``{"uuid": ..., "type": "event_callback", "event":
{"type": ...}}``. Their builders follow the payloads in Feishu's documentation and recorded
deliveries, so a test can check that the bot answers every one of them with 200.

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


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


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
        value: dict[str, Any] | str,
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
        ``value`` is the button's value as Feishu sends it: usually an object, but a JSON *string*
        for buttons whose value was configured as one.
        """
        who = operator or self.default_user
        return self.event(
            "card.action.trigger",
            {
                "operator": {"tenant_key": self.tenant_key, **self._user_id(who)},
                "token": new_id("c-"),
                "action": {"value": value, "tag": tag},
                "host": "im_message",
                "context": {"open_message_id": message_id, "open_chat_id": chat_id},
            },
        )

    def url_verification(self, challenge: str | None = None) -> dict[str, Any]:
        """The challenge Feishu sends when a webhook URL is saved in the console."""
        return {
            "challenge": challenge or secrets.token_urlsafe(16),
            "token": self.verification_token,
            "type": "url_verification",
        }

    # --- events a bot receives without handling them -------------------------------------

    def event(self, event_type: str, body: dict[str, Any]) -> dict[str, Any]:
        """Any schema 2.0 event or callback: ``{"schema": "2.0", "header": ..., "event": body}``."""
        return {"schema": "2.0", "header": self._header(event_type), "event": body}

    def legacy_event(self, body: dict[str, Any]) -> dict[str, Any]:
        """Any schema 1.0 event; ``body["type"]`` names it (``message``, ``p2p_chat_create``)."""
        return {
            "uuid": new_id(""),
            "token": self.verification_token,
            "ts": f"{time.time():.6f}",
            "type": "event_callback",
            "event": {"app_id": self.app_id, "tenant_key": self.tenant_key, **body},
        }

    def legacy_message(
        self,
        text: str,
        *,
        chat_type: str = "p2p",
        chat_id: str | None = None,
        sender: FakeUser | None = None,
        mention_bot: bool = False,
    ) -> dict[str, Any]:
        """The schema 1.0 ``message`` event (the old "receive message"), shaped like a recorded
        delivery: ``chat_type`` is ``private`` for a DM, mentions are ``<at>`` tags in ``text``.
        A reply to its ``open_message_id`` reaches the same chat."""
        who = sender or self.default_user
        if chat_id is None:
            chat_id = self.p2p_chat_id(who) if chat_type == "p2p" else self.default_group_chat_id
        message_id = new_id("om_")
        self.incoming[message_id] = IncomingMessage(message_id, chat_id, chat_type, who)
        at = f'<at open_id="{self.bot.open_id}">@{self.bot.name}</at> ' if mention_bot else ""
        return self.legacy_event(
            {
                "type": "message",
                "chat_type": "private" if chat_type == "p2p" else chat_type,
                "employee_id": who.user_id,
                "is_mention": mention_bot,
                "lark_version": "lark/7.20.0",
                "message_id": "",
                "msg_type": "text",
                "open_chat_id": chat_id,
                "open_id": who.open_id,
                "open_message_id": message_id,
                "parent_id": "",
                "root_id": "",
                "text": at + text,
                "text_without_at_bot": text,
                "union_id": who.union_id,
                "user_agent": "Mozilla/5.0 Lark/7.20.0",
                "user_open_id": who.open_id,
            }
        )

    def message_read(
        self, message_ids: Sequence[str], *, reader: FakeUser | None = None
    ) -> dict[str, Any]:
        """``im.message.message_read_v1``: a user read the bot's messages (DMs only)."""
        who = reader or self.default_user
        return self.event(
            "im.message.message_read_v1",
            {
                "reader": {
                    "reader_id": self._user_id(who),
                    "read_time": _now_ms(),
                    "tenant_key": self.tenant_key,
                },
                "message_id_list": list(message_ids),
            },
        )

    def message_recalled(
        self, message_id: str, chat_id: str, *, recall_type: str = "message_owner"
    ) -> dict[str, Any]:
        """``im.message.recalled_v1``; ``recall_type`` is ``message_owner``, ``group_owner``,
        ``group_manager`` or ``enterprise_manager``."""
        return self.event(
            "im.message.recalled_v1",
            {
                "message_id": message_id,
                "chat_id": chat_id,
                "recall_time": _now_ms(),
                "recall_type": recall_type,
            },
        )

    def reaction_created(
        self, message_id: str, emoji_type: str = "THUMBSUP", *, operator: FakeUser | None = None
    ) -> dict[str, Any]:
        """``im.message.reaction.created_v1``: a user added an emoji reaction to a message."""
        who = operator or self.default_user
        return self.event(
            "im.message.reaction.created_v1",
            {
                "message_id": message_id,
                "reaction_type": {"emoji_type": emoji_type},
                "operator_type": "user",
                "user_id": self._user_id(who),
                "action_time": _now_ms(),
            },
        )

    def bot_p2p_chat_entered(
        self, user: FakeUser | None = None, *, last_message_id: str = ""
    ) -> dict[str, Any]:
        """``im.chat.access_event.bot_p2p_chat_entered_v1``: a user opened the DM with the bot."""
        who = user or self.default_user
        return self.event(
            "im.chat.access_event.bot_p2p_chat_entered_v1",
            {
                "chat_id": self.p2p_chat_id(who),
                "operator_id": self._user_id(who),
                "last_message_id": last_message_id,
                "last_message_create_time": _now_ms() if last_message_id else "",
            },
        )

    def bot_added(
        self,
        chat_id: str | None = None,
        *,
        operator: FakeUser | None = None,
        name: str = "Test Group",
    ) -> dict[str, Any]:
        """``im.chat.member.bot.added_v1``: someone added the bot to a group."""
        return self._bot_membership("im.chat.member.bot.added_v1", chat_id, operator, name)

    def bot_removed(
        self,
        chat_id: str | None = None,
        *,
        operator: FakeUser | None = None,
        name: str = "Test Group",
    ) -> dict[str, Any]:
        """``im.chat.member.bot.deleted_v1``: someone removed the bot from a group."""
        return self._bot_membership("im.chat.member.bot.deleted_v1", chat_id, operator, name)

    # --- reading events -------------------------------------------------------------------

    @staticmethod
    def message_id(event: dict[str, Any]) -> str:
        value = event["event"]["message"]["message_id"]
        assert isinstance(value, str)
        return value

    @staticmethod
    def event_type(event: dict[str, Any]) -> str | None:
        """``header.event_type`` (schema 2.0), ``event.type`` (schema 1.0), or the top-level
        ``type`` of a ``url_verification``."""
        header = event.get("header")
        if isinstance(header, dict):
            return _str_or_none(header.get("event_type"))
        body = event.get("event")
        if isinstance(body, dict):
            return _str_or_none(body.get("type"))
        return _str_or_none(event.get("type"))

    @staticmethod
    def event_id(event: dict[str, Any]) -> str | None:
        """``header.event_id`` (schema 2.0) or ``uuid`` (schema 1.0)."""
        header = event.get("header")
        if isinstance(header, dict):
            return _str_or_none(header.get("event_id"))
        return _str_or_none(event.get("uuid"))

    # --- internals ------------------------------------------------------------------------

    @staticmethod
    def _user_id(user: FakeUser) -> dict[str, str]:
        return {"union_id": user.union_id, "user_id": user.user_id, "open_id": user.open_id}

    def _bot_membership(
        self, event_type: str, chat_id: str | None, operator: FakeUser | None, name: str
    ) -> dict[str, Any]:
        return self.event(
            event_type,
            {
                "chat_id": chat_id or self.default_group_chat_id,
                "operator_id": self._user_id(operator or self.default_user),
                "external": False,
                "operator_tenant_key": self.tenant_key,
                "name": name,
                "i18n_names": {"zh_cn": name, "en_us": name},
            },
        )

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
                    "id": self._user_id(u),
                    "name": u.name,
                    "tenant_key": self.tenant_key,
                }
                for key, u in mentions
            ]
        self.incoming[message_id] = IncomingMessage(message_id, chat_id, chat_type, who)
        return self.event(
            "im.message.receive_v1",
            {
                "sender": {
                    "sender_id": self._user_id(who),
                    "sender_type": "user",
                    "tenant_key": self.tenant_key,
                },
                "message": message,
            },
        )

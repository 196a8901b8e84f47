"""The fake Feishu's world: messages, uploads, tokens, deliveries and its clock.

The REST routes, the long connection and the webhook sender all change it through
:class:`FeishuState`, which bumps its notifier after every change so that waiters re-check.
Time-based rules (token expiry, the one-hour ``uuid`` window) follow :meth:`FeishuState.now`,
which tests can move; the per-second rate windows use the real monotonic clock.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from typing import Any, Literal

from tests.fakes.feishu.errors import (
    MESSAGE_DELETED,
    MESSAGE_RECALLED,
    RATE_LIMITED,
    FeishuError,
)
from tests.fakes.feishu.events import EventFactory, new_id
from tests.fakes.feishu.records import (
    ApiErrorRecord,
    Delivery,
    PatchRecord,
    Removal,
    SentMessage,
    UploadedFile,
    UploadedImage,
)
from tests.fakes.loopback import Notifier

TOKEN_TTL = 7200
"""Seconds a tenant/app access token lives; Feishu hands out a new one when < 30 min remain."""
TOKEN_REISSUE_BELOW = 1800
UUID_WINDOW = 3600
MAX_PER_SECOND = 5
ANSWER_DEADLINE = 3.0
"""Seconds Feishu waits for the answer to an event or a card callback."""

_REMOVAL_ERRORS: dict[Removal, tuple[int, str]] = {
    "deleted": (MESSAGE_DELETED, "Action unavailable as the message has been deleted."),
    "recalled": (MESSAGE_RECALLED, "The message is recalled."),
}


@dataclass
class _Injection:
    remaining: int
    error: FeishuError


@dataclass(frozen=True)
class Resource:
    """A file or image inside a user's message, served to the bot on download."""

    data: bytes
    resource_type: str
    file_name: str
    content_type: str


class FeishuState:
    def __init__(self, *, events: EventFactory, enforce_rate_limits: bool) -> None:
        self.events = events
        self.enforce_rate_limits = enforce_rate_limits
        self.answer_deadline = ANSWER_DEADLINE
        self.notifier = Notifier("FakeFeishu")

        self.messages: list[SentMessage] = []
        """Every message sent or replied, in order (a deduplicated ``uuid`` adds nothing)."""
        self.messages_by_id: dict[str, SentMessage] = {}
        self.images: dict[str, UploadedImage] = {}
        self.files: dict[str, UploadedFile] = {}
        self.resources: dict[tuple[str, str], Resource] = {}
        self.removed: dict[str, Removal] = {}
        """Messages (sent by the bot or by users) that were deleted or recalled."""
        self.deliveries: list[Delivery] = []
        self.api_errors: list[ApiErrorRecord] = []
        self.calls: Counter[str] = Counter()
        self.tenant_tokens: dict[str, float] = {}
        self.app_tokens: dict[str, float] = {}

        self._messages_by_uuid: dict[str, tuple[SentMessage, float]] = {}
        self._injections: defaultdict[str, deque[_Injection]] = defaultdict(deque)
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._time_offset = 0.0

    def changed(self) -> None:
        self.notifier.bump()

    # --- the clock ------------------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self._time_offset

    def advance_time(self, seconds: float) -> None:
        self._time_offset += seconds

    # --- injected errors ------------------------------------------------------------------

    def inject(self, route: str, error: FeishuError, times: int) -> None:
        self._injections[route].append(_Injection(times, error))

    def take_injection(self, route: str) -> None:
        """Raise the next queued error of ``route``, if there is one."""
        queue = self._injections.get(route)
        if not queue:
            return
        injection = queue[0]
        injection.remaining -= 1
        if injection.remaining <= 0:
            queue.popleft()
        raise injection.error

    # --- tokens ---------------------------------------------------------------------------

    def issue(self, tokens: dict[str, float], prefix: str) -> tuple[str, int]:
        """Feishu returns the current token while it has ≥ 30 min left, else a new one."""
        now = self.now()
        for token, expires_at in tokens.items():
            if expires_at - now >= TOKEN_REISSUE_BELOW:
                return token, int(expires_at - now)
        token = new_id(prefix)
        tokens[token] = now + TOKEN_TTL
        return token, TOKEN_TTL

    def check_token(self, token: str) -> None:
        if not token or token == "None":
            raise FeishuError(
                400,
                99991661,
                "Missing access token for authorization. "
                "Please make a request with token attached.",
            )
        expires_at = self.tenant_tokens.get(token)
        if expires_at is None:
            raise FeishuError(
                400,
                99991663,
                "Invalid access token for authorization. "
                "Please make a request with token attached.",
            )
        if expires_at <= self.now():
            raise FeishuError(400, 99991677, "Authentication token expired.")

    # --- messages -------------------------------------------------------------------------

    def deduplicated(self, uuid: str | None) -> SentMessage | None:
        """The message an earlier request with this ``uuid`` sent within the hour, if any."""
        if uuid is None:
            return None
        hit = self._messages_by_uuid.get(uuid)
        if hit is None or self.now() - hit[1] >= UUID_WINDOW:
            return None
        return hit[0]

    def check_rate(self, key: str) -> None:
        """Feishu allows 5 messages/s per chat and 5 updates/s per message (wall clock)."""
        if not self.enforce_rate_limits:
            return
        now = time.monotonic()
        window = self._recent[key]
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= MAX_PER_SECOND:
            raise FeishuError(400, RATE_LIMITED, "This operation triggers the frequency limit.")
        window.append(now)

    def check_present(self, message_id: str) -> None:
        """``230110`` for a deleted message, ``230011`` for a recalled one."""
        removal = self.removed.get(message_id)
        if removal is not None:
            raise FeishuError(400, *_REMOVAL_ERRORS[removal])

    def remove(self, message_id: str, how: Removal) -> None:
        if message_id not in self.messages_by_id and message_id not in self.events.incoming:
            raise KeyError(f"no message {message_id} was sent or received")
        self.removed[message_id] = how
        self.changed()

    def store(
        self,
        *,
        chat_id: str,
        msg_type: str,
        content: str,
        uuid: str | None,
        receive_id: str | None = None,
        receive_id_type: str | None = None,
        reply_to: str | None = None,
        reply_in_thread: bool = False,
        root_id: str | None = None,
        thread_id: str | None = None,
    ) -> SentMessage:
        message = SentMessage(
            message_id=new_id("om_"),
            chat_id=chat_id,
            msg_type=msg_type,
            original_content=content,
            content=content,
            uuid=uuid,
            receive_id=receive_id,
            receive_id_type=receive_id_type,
            reply_to=reply_to,
            reply_in_thread=reply_in_thread,
            root_id=root_id,
            thread_id=thread_id,
            create_time_ms=int(self.now() * 1000),
        )
        self.messages.append(message)
        self.messages_by_id[message.message_id] = message
        if uuid is not None:
            self._messages_by_uuid[uuid] = (message, self.now())
        return message

    def add_patch(
        self, message: SentMessage, content: str, source: Literal["api", "callback"]
    ) -> None:
        message.patches.append(PatchRecord(content=content, source=source, at=self.now()))
        message.content = content
        self.changed()

    def apply_callback_answer(self, event: dict[str, Any], response: Any) -> None:
        """A callback answer ``{"card": {"type": "raw", "data": {...}}}`` replaces the card."""
        card = response.get("card") if isinstance(response, dict) else None
        if not isinstance(card, dict):
            return
        message = self.messages_by_id.get(event["event"]["context"]["open_message_id"])
        if message is None:
            return
        data = card.get("data") if card.get("type") == "raw" else card
        self.add_patch(message, json.dumps(data, ensure_ascii=False), "callback")

    def message_data(self, message: SentMessage) -> dict[str, Any]:
        """A message as the send, reply and patch routes return it."""
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "root_id": message.root_id or "",
            "parent_id": message.reply_to or "",
            "msg_type": message.msg_type,
            "create_time": str(message.create_time_ms),
            "update_time": str(message.create_time_ms),
            "deleted": False,
            "updated": bool(message.patches),
            "chat_id": message.chat_id,
            "sender": {
                "id": self.events.app_id,
                "id_type": "app_id",
                "sender_type": "app",
                "tenant_key": self.events.tenant_key,
            },
            "body": {"content": message.content},
            "upper_message_id": "",
        }
        if message.thread_id:
            data["thread_id"] = message.thread_id
        return data

    # --- deliveries -----------------------------------------------------------------------

    def record_delivery(
        self,
        mode: Literal["webhook", "ws"],
        event: dict[str, Any],
        status: int,
        seconds: float,
        response: Any,
        connection: int | None = None,
    ) -> Delivery:
        """Remember how the bot answered ``event``; apply a card callback's answer when Feishu
        would (200, in time)."""
        delivery = Delivery(
            mode=mode,
            event_type=EventFactory.event_type(event),
            event_id=EventFactory.event_id(event),
            status=status,
            seconds=seconds,
            late=seconds > self.answer_deadline,
            connection=connection,
        )
        self.deliveries.append(delivery)
        if delivery.ok and delivery.event_type == "card.action.trigger":
            self.apply_callback_answer(event, response)
        self.changed()
        return delivery

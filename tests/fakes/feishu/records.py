"""What the fake remembers, shaped for assertions in tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Route = Literal[
    "tenant_access_token",
    "app_access_token",
    "bot_info",
    "send",
    "reply",
    "patch",
    "upload_image",
    "upload_file",
    "resource",
    "ws_endpoint",
]
"""Names of the REST routes, for :meth:`FakeFeishu.inject_error` and :meth:`call_count`."""


@dataclass(frozen=True)
class FakeUser:
    """A Feishu account as events and mentions describe it (bots have an empty ``user_id``)."""

    open_id: str
    user_id: str
    union_id: str
    name: str


@dataclass(frozen=True)
class PatchRecord:
    """One replacement of a card's content.

    ``source`` is ``"api"`` for ``PATCH /im/v1/messages/{id}`` and ``"callback"`` when the card came
    back in the response to a ``card.action.trigger`` callback (Feishu's "update at once" path).
    """

    content: str
    source: Literal["api", "callback"]
    at: float

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class SentMessage:
    """A message the bot sent or replied with.

    ``content`` is the current content string (it follows card patches); ``original_content`` is
    what was first sent. ``reply_to`` is the message replied to, ``None`` for a plain send.
    """

    message_id: str
    chat_id: str
    msg_type: str
    original_content: str
    content: str
    uuid: str | None
    receive_id: str | None
    receive_id_type: str | None
    reply_to: str | None
    reply_in_thread: bool
    root_id: str | None
    thread_id: str | None
    create_time_ms: int
    patches: list[PatchRecord] = field(default_factory=list)

    def json(self) -> Any:
        """The current content, decoded."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        """The text of a ``text`` message."""
        if self.msg_type != "text":
            raise ValueError(f"{self.message_id} is a {self.msg_type} message, not text")
        value = self.json()["text"]
        assert isinstance(value, str)
        return value


@dataclass(frozen=True)
class UploadedImage:
    image_key: str
    data: bytes
    image_type: str
    filename: str | None


@dataclass(frozen=True)
class UploadedFile:
    file_key: str
    data: bytes
    file_type: str
    file_name: str
    duration_ms: int | None


@dataclass(frozen=True)
class ApiErrorRecord:
    """A request the fake answered with an error (validation failure or injected)."""

    route: str
    status: int
    code: int
    msg: str


Removal = Literal["deleted", "recalled"]
"""How a message went away: Feishu answers ``230110`` for a deleted one, ``230011`` for a recalled
one."""


@dataclass(frozen=True)
class WebhookResult:
    """What the bot's webhook answered to one delivery, plus the plaintext that was delivered.

    ``seconds`` is how long the answer took, from sending the request to reading the response.
    """

    status: int
    body: bytes
    headers: dict[str, str]
    sent: dict[str, Any]
    seconds: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class WsAck:
    """The client's answer to one data frame pushed over the long connection.

    ``code`` is the HTTP-like status the SDK reports (200, or 500 when the handler raised);
    ``data`` is the decoded callback response (e.g. ``{"toast": ...}`` for card actions), ``None``
    for plain events. ``latency`` is seconds from push to ack as seen by the fake; ``biz_rt_ms``
    is the handler time the SDK reported in the ``biz_rt`` header. ``connection`` is the
    :attr:`WsConnection.number` of the connection the frame went to.
    """

    message_id: str
    trace_id: str
    event_type: str | None
    code: int
    data: Any
    biz_rt_ms: int | None
    latency: float
    connection: int = 1


@dataclass
class WsConnection:
    """One long connection a client opened; ``number`` counts from 1 over the fake's life."""

    number: int
    #: The URL the client connected to; its ``access_key`` and ``ticket`` are credentials.
    url: str = ""
    open: bool = True
    #: Data frames (events and callbacks) pushed to this connection.
    events: int = 0


@dataclass(frozen=True)
class Delivery:
    """One event or callback handed to the bot, and how the bot answered it.

    ``status`` is the HTTP status of the webhook's answer, or the ``code`` of the long-connection
    ack; 200 means the bot took it. ``seconds`` runs from sending to the answer as the fake saw it,
    and ``late`` says it took longer than the fake's ``answer_deadline`` (Feishu's 3 s): Feishu
    would deliver such an event again, and it drops a late card-callback answer (the user sees an
    error; callbacks are never retried). ``connection`` is the long connection it went to.
    """

    mode: Literal["webhook", "ws"]
    event_type: str | None
    event_id: str | None
    status: int
    seconds: float
    late: bool
    connection: int | None = None

    @property
    def ok(self) -> bool:
        """Answered with 200 in time: Feishu counts it as delivered."""
        return self.status == 200 and not self.late


@dataclass(frozen=True)
class IncomingMessage:
    """A user message an event builder produced; the fake resolves replies to it."""

    message_id: str
    chat_id: str
    chat_type: str
    sender: FakeUser


@dataclass
class Dispatch:
    """One event as Feishu keeps delivering it (:mod:`.redelivery`): ``attempts`` so far, until
    one is ``taken`` (answered 200 in time) or the retries run out (``given_up``). Each attempt
    is also a :class:`Delivery` once the bot answers it."""

    event_id: str | None
    event_type: str | None
    mode: Literal["webhook", "ws"]
    attempts: int = 0
    taken: bool = False
    given_up: bool = False

    @property
    def settled(self) -> bool:
        """Feishu is done with it: taken, or given up."""
        return self.taken or self.given_up

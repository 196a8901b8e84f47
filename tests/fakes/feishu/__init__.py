"""A fake Feishu open platform for end-to-end tests with the real lark-oapi SDK.

    from tests.fakes.feishu import FakeFeishu

    async with FakeFeishu() as fake:
        client = (
            lark.Client.builder()
            .app_id(fake.app_id).app_secret(fake.app_secret).domain(fake.domain)
            .build()
        )
        # webhook mode: deliver a signed, encrypted event to the bot's route
        result = await fake.post_event(url, fake.events.group_text_mentioning_bot("draw a cat"))
        # long-connection mode: lark_oapi.ws.Client(..., domain=fake.domain) connects here
        ack = await fake.push_event(fake.events.dm_text("hi"))
        reply = await fake.wait_for_message(lambda m: m.reply_to is not None)

See :mod:`tests.fakes.feishu.server` for the rules the fake enforces and
``tests/fakes/test_fake_feishu.py`` for the SDK quirks it was checked against. The package:
``server`` (the ``FakeFeishu`` facade), ``rest`` (IM, upload and token routes), ``ws`` (the long
connection), ``webhook`` (signed, encrypted delivery), ``redelivery`` (events sent again until
the bot takes them), ``validation`` (content and card rules), ``state`` (what the fake
remembers), ``records`` (what tests inspect), ``events`` (payload builders), ``frames`` and
``crypto`` (wire formats).
"""

from tests.fakes.feishu.events import EventFactory
from tests.fakes.feishu.records import (
    ApiErrorRecord,
    Delivery,
    Dispatch,
    FakeUser,
    IncomingMessage,
    PatchRecord,
    Removal,
    Route,
    SentMessage,
    UploadedFile,
    UploadedImage,
    WebhookResult,
    WsAck,
    WsConnection,
)
from tests.fakes.feishu.redelivery import RETRY_INTERVALS
from tests.fakes.feishu.server import FakeFeishu
from tests.fakes.feishu.ws import WsClientConfig

__all__ = [
    "RETRY_INTERVALS",
    "ApiErrorRecord",
    "Delivery",
    "Dispatch",
    "EventFactory",
    "FakeFeishu",
    "FakeUser",
    "IncomingMessage",
    "PatchRecord",
    "Removal",
    "Route",
    "SentMessage",
    "UploadedFile",
    "UploadedImage",
    "WebhookResult",
    "WsAck",
    "WsClientConfig",
    "WsConnection",
]

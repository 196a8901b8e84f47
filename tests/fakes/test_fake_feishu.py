"""The fake Feishu platform, checked against the real lark-oapi SDK over loopback.

lark-oapi quirks these tests pin down (1.7.5):

* Every *sync* call is a blocking ``requests`` call, and the *async* calls fetch the tenant token
  with a blocking ``requests`` call too unless the client has ``enable_set_token(True)`` and the
  token comes in ``RequestOption``. On the loop serving the fake that deadlocks, so sync calls
  run in ``asyncio.to_thread`` here, and the bot should fetch and cache tokens itself.
* Async calls open a new ``httpx.AsyncClient`` per request and lower-case response header names:
  ``message_resource.aget`` then misses ``Content-Type`` and leaves ``code`` unset on errors, so
  callers must check ``raw.status_code``.
* ``TokenManager.cache`` is process-wide and keyed by app_id: each fake gets a fresh app_id.
* ``lark_oapi.ws.Client`` uses the module global ``lark_oapi.ws.client.loop`` (taken at import)
  and an ``ExpiringCache`` that grabs the current loop in ``__init__``; ``start()`` never returns.
  :class:`SdkWsThread` shows how to run it on its own thread and loop and stop it cleanly.
* Card actions (``card.action.trigger``) arrive over the long connection as ordinary
  ``type=event`` frames; the handler's ``P2CardActionTriggerResponse`` goes back base64-encoded in
  the ack's ``data``. By webhook the same response is the HTTP body. (Frames of ``type=card`` are
  dropped by this SDK without an ack.)
* A card action whose ``value`` is a JSON string never reaches the handler: ``P2CardActionTrigger``
  types it as a dict, unmarshalling fails and the SDK answers 500 (webhook) or acks 500.
* Event types without a registered handler get 500 "processor not found" in both modes, schema 1.0
  events (``register_p1_customized_event``) included.
* The SDK keeps its event loop in a module global that it reads whenever it schedules work, so
  several ``ws.Client`` in one process must share one loop (:class:`SdkWsThread` with ``count``).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import lark_oapi as lark
import lark_oapi.ws.client as lark_ws_client
import pytest
from aiohttp import web
from lark_oapi.api.im.v1 import (
    CreateFileRequest,
    CreateFileRequestBody,
    CreateImageRequest,
    CreateImageRequestBody,
    CreateMessageRequest,
    CreateMessageRequestBody,
    GetMessageResourceRequest,
    PatchMessageRequest,
    PatchMessageRequestBody,
    ReplyMessageRequest,
    ReplyMessageRequestBody,
)
from lark_oapi.event.callback.model.p2_card_action_trigger import P2CardActionTriggerResponse
from lark_oapi.ws.exception import ClientException

from tests.fakes.feishu import FakeFeishu

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
SAMPLE_MP4 = Path(__file__).resolve().parents[2] / "sim" / "assets" / "sample.mp4"


def shared_card(title: str) -> str:
    return json.dumps(
        {
            "config": {"update_multi": True},
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": title}],
        }
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeFeishu]:
    async with FakeFeishu() as fake:
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def fetch_token(fake: FakeFeishu, http: aiohttp.ClientSession) -> str:
    """What the bot should do: fetch the tenant token asynchronously and pass it per request."""
    async with http.post(
        f"{fake.domain}/open-apis/auth/v3/tenant_access_token/internal",
        json={"app_id": fake.app_id, "app_secret": fake.app_secret},
    ) as response:
        token = (await response.json())["tenant_access_token"]
    assert isinstance(token, str)
    return token


def sdk_client(fake: FakeFeishu, *, set_token: bool = False) -> Any:
    return (
        lark.Client.builder()
        .app_id(fake.app_id)
        .app_secret(fake.app_secret)
        .domain(fake.domain)
        .enable_set_token(set_token)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


def with_token(token: str) -> Any:
    return lark.RequestOption.builder().tenant_access_token(token).build()


def create_message(
    receive_id: str,
    msg_type: str,
    content: str,
    *,
    receive_id_type: str = "chat_id",
    uuid: str | None = None,
) -> Any:
    body = CreateMessageRequestBody.builder().receive_id(receive_id).msg_type(msg_type)
    body = body.content(content)
    if uuid is not None:
        body = body.uuid(uuid)
    return (
        CreateMessageRequest.builder()
        .receive_id_type(receive_id_type)
        .request_body(body.build())
        .build()
    )


def reply_message(message_id: str, content: str, *, uuid: str, in_thread: bool = False) -> Any:
    body = (
        ReplyMessageRequestBody.builder()
        .msg_type("text")
        .content(content)
        .uuid(uuid)
        .reply_in_thread(in_thread)
        .build()
    )
    return ReplyMessageRequest.builder().message_id(message_id).request_body(body).build()


def patch_message(message_id: str, content: str) -> Any:
    body = PatchMessageRequestBody.builder().content(content).build()
    return PatchMessageRequest.builder().message_id(message_id).request_body(body).build()


def upload_image(data: io.IOBase) -> Any:
    body = CreateImageRequestBody.builder().image_type("message").image(data).build()
    return CreateImageRequest.builder().request_body(body).build()


def upload_file(data: io.IOBase, file_type: str, name: str, duration: int | None = None) -> Any:
    body = CreateFileRequestBody.builder().file_type(file_type).file_name(name).file(data)
    if duration is not None:
        body = body.duration(duration)
    return CreateFileRequest.builder().request_body(body.build()).build()


def get_resource(message_id: str, file_key: str, kind: str = "image") -> Any:
    return (
        GetMessageResourceRequest.builder()
        .message_id(message_id)
        .file_key(file_key)
        .type(kind)
        .build()
    )


# --- auth -----------------------------------------------------------------------------------


async def test_tenant_token_checks_credentials_and_is_reused(
    fake: FakeFeishu, http: aiohttp.ClientSession
) -> None:
    url = f"{fake.domain}/open-apis/auth/v3/tenant_access_token/internal"
    async with http.post(url, json={"app_id": fake.app_id, "app_secret": "wrong"}) as response:
        assert response.status == 400
        assert (await response.json())["code"] == 10014

    first = await fetch_token(fake, http)
    async with http.post(
        url, json={"app_id": fake.app_id, "app_secret": fake.app_secret}
    ) as response:
        again = await response.json()
    assert again["tenant_access_token"] == first
    assert 7000 < again["expire"] <= 7200

    fake.advance_time(7200 - 1000)  # under 30 min left: Feishu issues a fresh token
    assert await fetch_token(fake, http) != first
    assert fake.token_requests == 4

    async with http.post(
        f"{fake.domain}/open-apis/auth/v3/app_access_token/internal",
        json={"app_id": fake.app_id, "app_secret": fake.app_secret},
    ) as response:
        both = await response.json()
    assert both["app_access_token"].startswith("a-")
    assert both["tenant_access_token"].startswith("t-")
    assert both["expire"] == 7200


async def test_api_calls_need_a_valid_tenant_token(
    fake: FakeFeishu, http: aiohttp.ClientSession
) -> None:
    url = f"{fake.domain}/open-apis/bot/v3/info"

    async def code_for(headers: dict[str, str]) -> int:
        async with http.get(url, headers=headers) as response:
            body = await response.json()
            assert response.status == (200 if body["code"] == 0 else 400)
            return int(body["code"])

    token = await fetch_token(fake, http)
    assert await code_for({}) == 99991661
    assert await code_for({"Authorization": "Bearer t-made-up"}) == 99991663
    assert await code_for({"Authorization": f"Bearer {token}"}) == 0
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        bot = (await response.json())["bot"]
    assert (bot["open_id"], bot["app_name"]) == (fake.bot.open_id, "IMA Bot")

    fake.advance_time(7201)
    assert await code_for({"Authorization": f"Bearer {token}"}) == 99991677
    fresh = await fetch_token(fake, http)
    fake.revoke_tokens()
    assert await code_for({"Authorization": f"Bearer {fresh}"}) == 99991663
    assert [e.code for e in fake.api_errors] == [99991661, 99991663, 99991677, 99991663]


# --- REST through the SDK -------------------------------------------------------------------


async def test_sync_sdk_calls_with_the_sdks_own_token(fake: FakeFeishu) -> None:
    client = sdk_client(fake)
    chat_id = fake.events.default_group_chat_id
    incoming = fake.make_image_message(PNG)
    incoming_id = incoming["event"]["message"]["message_id"]
    incoming_key = json.loads(incoming["event"]["message"]["content"])["image_key"]

    def run() -> dict[str, Any]:
        im = client.im.v1
        sent = im.message.create(create_message(chat_id, "interactive", shared_card("queued")))
        patched = im.message.patch(patch_message(sent.data.message_id, shared_card("50%")))
        reply = im.message.reply(reply_message(incoming_id, '{"text":"got it"}', uuid="r-1"))
        # requests-toolbelt sends the file part without a filename
        image = im.image.create(upload_image(io.BytesIO(PNG)))
        sent_image = im.message.create(
            create_message(chat_id, "image", json.dumps({"image_key": image.data.image_key}))
        )
        resource = im.message_resource.get(get_resource(incoming_id, incoming_key))
        missing = im.message_resource.get(get_resource(incoming_id, "img_unknown"))
        return {
            "codes": [r.code for r in (sent, patched, reply, image, sent_image, resource)],
            "card_id": sent.data.message_id,
            "reply": reply.data,
            "image_key": image.data.image_key,
            "resource": resource.file.read(),
            "missing": (missing.code, missing.raw.status_code),
        }

    result = await asyncio.to_thread(run)

    assert result["codes"] == [0] * 6
    assert [m.msg_type for m in fake.messages] == ["interactive", "text", "image"]
    assert fake.patches(result["card_id"])[0].json()["header"]["title"]["content"] == "50%"
    assert result["reply"].parent_id == incoming_id
    assert result["reply"].chat_id == fake.events.incoming[incoming_id].chat_id
    uploaded = fake.image(result["image_key"])
    assert fake.images == [uploaded]
    assert (uploaded.data, uploaded.filename) == (PNG, None)
    assert result["resource"] == PNG
    assert result["missing"] == (234003, 404)  # sync calls keep header case: code is parsed
    assert fake.token_requests == 1  # fetched once, then cached by the SDK


async def test_async_sdk_calls_with_token_per_request(
    fake: FakeFeishu, http: aiohttp.ClientSession
) -> None:
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    im = client.im.v1
    user = fake.events.new_user("Bob")

    card = await im.message.acreate(
        create_message(
            user.open_id, "interactive", shared_card("queued"), receive_id_type="open_id"
        ),
        option,
    )
    assert card.code == 0, card.msg
    card_id = card.data.message_id
    assert card.data.chat_id == fake.events.p2p_chat_id(user)
    for step in ("25%", "done"):
        patched = await im.message.apatch(patch_message(card_id, shared_card(step)), option)
        assert patched.code == 0, patched.msg
    assert [p.json()["elements"][0]["content"] for p in fake.patches(card_id)] == ["25%", "done"]
    assert fake.message(card_id).json()["elements"][0]["content"] == "done"
    assert json.loads(fake.message(card_id).original_content)["elements"][0]["content"] == "queued"

    first = await im.message.areply(reply_message(card_id, '{"text":"a"}', uuid="u-1"), option)
    retry = await im.message.areply(reply_message(card_id, '{"text":"a"}', uuid="u-1"), option)
    assert first.data.message_id == retry.data.message_id  # same uuid: no duplicate
    threaded = await im.message.areply(
        reply_message(card_id, '{"text":"b"}', uuid="u-2", in_thread=True), option
    )
    assert threaded.data.thread_id.startswith("omt_")
    assert [m.text for m in fake.messages if m.msg_type == "text"] == ["a", "b"]
    assert fake.messages[1].reply_to == card_id
    assert fake.messages[1].root_id == card_id

    image = await im.image.acreate(upload_image(io.BytesIO(PNG)), option)
    assert fake.image(image.data.image_key).filename == "upload"  # httpx's default name
    with SAMPLE_MP4.open("rb") as video:
        uploaded = await im.file.acreate(upload_file(video, "mp4", "result.mp4", 5000), option)
    media = await im.message.acreate(
        create_message(
            user.open_id,
            "media",
            json.dumps({"file_key": uploaded.data.file_key, "image_key": image.data.image_key}),
            receive_id_type="open_id",
        ),
        option,
    )
    assert media.code == 0, media.msg
    stored = fake.file(uploaded.data.file_key)
    assert fake.files == [stored]
    assert (stored.file_type, stored.file_name, stored.duration_ms) == ("mp4", "result.mp4", 5000)
    assert stored.data == SAMPLE_MP4.read_bytes()

    incoming = fake.make_post_message("make it anime", [PNG, PNG[::-1]])
    message = incoming["event"]["message"]
    keys = [line[0]["image_key"] for line in json.loads(message["content"])["content"][1:]]
    downloaded = await im.message_resource.aget(
        get_resource(message["message_id"], keys[1]), option
    )
    assert downloaded.code == 0
    assert downloaded.file.read() == PNG[::-1]

    missing = await im.message_resource.aget(get_resource(message["message_id"], "nope"), option)
    assert missing.code is None  # async path: lower-cased headers, the JSON error is not parsed
    assert missing.raw.status_code == 404
    assert json.loads(missing.raw.content)["code"] == 234003

    assert fake.token_requests == 1  # only ours: the SDK never fetched one


async def test_async_sdk_call_fetching_its_own_token_blocks_its_loop(fake: FakeFeishu) -> None:
    """Without enable_set_token the async call runs a blocking token fetch first, so it only works
    here from another thread's loop; on the fake's own loop it would hang."""
    client = sdk_client(fake)

    async def send() -> Any:
        return await client.im.v1.message.acreate(
            create_message(fake.events.default_group_chat_id, "text", '{"text":"hi"}')
        )

    response = await asyncio.to_thread(asyncio.run, send())
    assert response.code == 0
    assert fake.token_requests == 1


async def test_message_rules(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    fake.enforce_rate_limits = False  # many sends to one chat in well under a second
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    im = client.im.v1
    chat = fake.events.default_group_chat_id

    async def send(msg_type: str, content: Any, uuid: str | None = None) -> Any:
        text = content if isinstance(content, str) else json.dumps(content)
        return await im.message.acreate(create_message(chat, msg_type, text, uuid=uuid), option)

    pdf = await im.file.acreate(upload_file(io.BytesIO(b"%PDF-1.4"), "pdf", "a.pdf"), option)
    mp4 = await im.file.acreate(upload_file(io.BytesIO(b"mp4"), "mp4", "a.mp4"), option)
    assert (await send("media", {"file_key": pdf.data.file_key})).code == 230055
    assert (await send("audio", {"file_key": mp4.data.file_key})).code == 230055
    assert (await send("file", {"file_key": pdf.data.file_key})).code == 0
    assert (await send("image", {"image_key": "img_never_uploaded"})).code == 230001
    assert (await send("text", "not json")).code == 230001
    assert (await send("post", {"zh_cn": {"content": "flat"}})).code == 230001
    post = {"zh_cn": {"title": "t", "content": [[{"tag": "text", "text": "hi"}]]}}
    assert (await send("post", post)).code == 0

    async def patch(message: Any, content: str) -> Any:
        return await im.message.apatch(patch_message(message.data.message_id, content), option)

    text = await send("text", {"text": "x"})
    assert (await patch(text, shared_card("x"))).code == 230001  # not a card
    not_shared = await patch(await send("interactive", {"elements": []}), shared_card("x"))
    assert (not_shared.code, "update_multi" in not_shared.msg) == (230001, True)
    v2 = await send("interactive", {"schema": "2.0", "body": {"elements": []}})  # shared by default
    assert (await patch(v2, json.dumps({"elements": []}))).code == 230001  # new card not shared
    huge = shared_card("x" * 31 * 1024)
    assert (await patch(v2, huge)).code == 230025
    assert (await send("interactive", huge)).code == 230025
    assert (await patch(v2, shared_card("ok"))).code == 0

    first = await send("text", {"text": "once"}, uuid="dup")
    fake.advance_time(3599)
    assert (await send("text", {"text": "once"}, uuid="dup")).data.message_id == (
        first.data.message_id
    )
    fake.advance_time(2)  # the uuid window is one hour
    assert (await send("text", {"text": "once"}, uuid="dup")).data.message_id != (
        first.data.message_id
    )
    assert [e.code for e in fake.api_errors].count(230055) == 2


async def test_per_chat_and_per_card_rate_limits(
    fake: FakeFeishu, http: aiohttp.ClientSession
) -> None:
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    carol = fake.events.new_user("Carol").open_id
    codes = []
    for i in range(6):
        response = await client.im.v1.message.acreate(
            create_message(carol, "text", json.dumps({"text": str(i)}), receive_id_type="open_id"),
            option,
        )
        codes.append(response.code)
    assert codes == [0, 0, 0, 0, 0, 230020]

    card = await client.im.v1.message.acreate(
        create_message(fake.events.default_group_chat_id, "interactive", shared_card("0")), option
    )
    patch_codes = []
    for i in range(6):
        request = patch_message(card.data.message_id, shared_card(str(i)))
        patch_codes.append((await client.im.v1.message.apatch(request, option)).code)
    assert patch_codes == [0, 0, 0, 0, 0, 230020]


async def test_injected_gateway_rate_limit(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    fake.inject_rate_limit("send", times=2, reset_seconds=3)
    request = create_message(fake.events.default_group_chat_id, "text", '{"text":"hi"}')

    limited = [await client.im.v1.message.acreate(request, option) for _ in range(2)]
    assert [(r.code, r.raw.status_code) for r in limited] == [(99991400, 429)] * 2
    assert limited[0].raw.headers["x-ogw-ratelimit-reset"] == "3"
    assert (await client.im.v1.message.acreate(request, option)).code == 0
    assert fake.call_count("send") == 3
    assert len(fake.messages) == 1


async def test_upload_limits(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {await fetch_token(fake, http)}"}

    async def upload(route: str, fields: dict[str, str], name: str, data: bytes) -> int:
        form = aiohttp.FormData(fields)
        form.add_field(name, io.BytesIO(data), filename="x")
        async with http.post(
            f"{fake.domain}/open-apis/im/v1/{route}", data=form, headers=headers
        ) as response:
            return int((await response.json())["code"])

    image_fields = {"image_type": "message"}
    assert await upload("images", image_fields, "image", PNG + bytes(10 * 1024 * 1024)) == 234006
    assert await upload("images", image_fields, "image", b"plain text") == 234011
    assert await upload("images", {"image_type": "bogus"}, "image", PNG) == 234001
    file_fields = {"file_type": "stream", "file_name": "a.bin"}
    assert await upload("files", file_fields, "file", b"") == 234010
    assert await upload("files", {"file_type": "exe", "file_name": "a"}, "file", b"x") == 234001
    assert await upload("files", file_fields, "file", b"x") == 0


async def test_message_resource_route(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": f"Bearer {await fetch_token(fake, http)}"}
    message_id = fake.events.message_id(fake.events.dm_text("see attachment"))
    fake.add_message_resource(
        message_id, "file_v3_doc", b"%PDF-1.4", resource_type="file", file_name="report.pdf"
    )
    image_event = fake.make_image_message(PNG)
    image_key = json.loads(image_event["event"]["message"]["content"])["image_key"]

    async def get(message: str, key: str, kind: str) -> tuple[int, bytes, dict[str, str]]:
        url = f"{fake.domain}/open-apis/im/v1/messages/{message}/resources/{key}?type={kind}"
        async with http.get(url, headers=headers) as response:
            return response.status, await response.read(), dict(response.headers)

    status, body, response_headers = await get(message_id, "file_v3_doc", "file")
    assert (status, body) == (200, b"%PDF-1.4")
    assert 'filename="report.pdf"' in response_headers["Content-Disposition"]
    status, body, response_headers = await get(
        fake.events.message_id(image_event), image_key, "image"
    )
    assert (status, body, response_headers["Content-Type"]) == (200, PNG, "image/png")

    for kind, key, expected in (
        ("image", "file_v3_doc", (400, 234001)),  # it is a file, not an image
        ("video", "file_v3_doc", (400, 99992402)),
        ("file", "file_v3_missing", (404, 234003)),
    ):
        status, body, _ = await get(message_id, key, kind)
        assert (status, json.loads(body)["code"]) == expected


async def test_waiting_helpers(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    chat = fake.events.default_group_chat_id

    async def bot_work() -> None:
        card = await client.im.v1.message.acreate(
            create_message(chat, "interactive", shared_card("0%")), option
        )
        for step in ("50%", "100%"):
            request = patch_message(card.data.message_id, shared_card(step))
            await client.im.v1.message.apatch(request, option)
        await client.im.v1.message.acreate(create_message(chat, "text", '{"text":"done"}'), option)

    work = asyncio.create_task(bot_work())
    card = await fake.wait_for_message(lambda m: m.msg_type == "interactive")
    patches = await fake.wait_for_patches(card.message_id, 2)
    done = await fake.wait_for_message(lambda m: m.msg_type == "text")
    await work
    assert [p.json()["elements"][0]["content"] for p in patches] == ["50%", "100%"]
    assert {p.source for p in patches} == {"api"}
    assert done.text == "done"
    assert len(await fake.wait_for_messages(2)) == 2

    fake.wait_timeout = 0.05
    with pytest.raises(TimeoutError, match="3 message"):
        await fake.wait_for_messages(3)


# --- webhook mode ---------------------------------------------------------------------------


#: Events Feishu sends a bot that never subscribed a handler for them, with the SDK's
#: registration method for each. Without a handler the SDK answers 500 "processor not found",
#: which Feishu retries and counts against the app.
UNASKED_EVENTS = (
    "register_p2_im_message_message_read_v1",
    "register_p2_im_message_recalled_v1",
    "register_p2_im_message_reaction_created_v1",
    "register_p2_im_chat_access_event_bot_p2p_chat_entered_v1",
    "register_p2_im_chat_member_bot_added_v1",
    "register_p2_im_chat_member_bot_deleted_v1",
)


def subscribe_unasked(builder: Any, seen: Callable[[Any], None]) -> Any:
    """No-op handlers (that only record) for every unasked event, schema 1.0 ``message`` too."""
    for register in UNASKED_EVENTS:
        builder = getattr(builder, register)(seen)
    return builder.register_p1_customized_event("message", seen)


def unasked_events(fake: FakeFeishu) -> tuple[str, list[dict[str, Any]]]:
    """A user message's id, and one event of each unasked kind about it or its chat."""
    message_id = fake.events.message_id(fake.events.dm_text("hello"))
    return message_id, [
        fake.events.legacy_message("draw a cat"),
        fake.events.message_read([message_id]),
        fake.recall_message(message_id),
        fake.events.reaction_created(message_id, "SMILE"),
        fake.events.bot_p2p_chat_entered(),
        fake.events.bot_added(name="Art"),
        fake.events.bot_removed(name="Art"),
    ]


def check_unasked(fake: FakeFeishu, message_id: str, seen: list[Any]) -> None:
    """The SDK parsed each unasked event into its own model."""
    [legacy, read, recalled, reaction, entered, added, removed] = seen
    assert legacy.event["type"] == "message"
    assert legacy.event["text_without_at_bot"] == "draw a cat"
    assert read.event.message_id_list == [message_id]
    assert read.event.reader.reader_id.open_id == fake.events.default_user.open_id
    assert (recalled.event.message_id, recalled.event.recall_type) == (message_id, "message_owner")
    assert reaction.event.reaction_type.emoji_type == "SMILE"
    assert entered.event.chat_id == fake.events.p2p_chat_id(fake.events.default_user)
    assert (added.event.name, removed.event.name) == ("Art", "Art")
    assert added.event.chat_id == fake.events.default_group_chat_id


class Webhook:
    """A bot-side webhook route feeding lark's EventDispatcherHandler, as the adapter will.

    ``unasked`` adds handlers for the unasked events; ``delay`` makes the bot slow to answer;
    the next ``refuse`` requests are answered 500 unread.
    """

    def __init__(self, fake: FakeFeishu, *, unasked: bool = False) -> None:
        self.messages: list[Any] = []
        self.card_actions: list[Any] = []
        self.unasked: list[Any] = []
        self.delay = 0.0
        self.refuse = 0
        builder = (
            lark.EventDispatcherHandler.builder(fake.encrypt_key, fake.verification_token)
            .register_p2_im_message_receive_v1(self.messages.append)
            .register_p2_card_action_trigger(self._on_card_action)
        )
        if unasked:
            builder = subscribe_unasked(builder, self.unasked.append)
        self.handler = builder.build()
        self.url = ""

    def _on_card_action(self, data: Any) -> Any:
        self.card_actions.append(data)
        return P2CardActionTriggerResponse(
            {
                "toast": {"type": "info", "content": "retrying"},
                "card": {"type": "raw", "data": json.loads(shared_card("retrying"))},
            }
        )

    async def handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        if self.refuse > 0:
            self.refuse -= 1
            return web.json_response({"msg": "busy"}, status=500)
        raw = lark.RawRequest()
        raw.uri = request.path
        raw.headers = request.headers  # case-insensitive; a plain dict breaks signature lookup
        raw.body = await request.read()
        response = self.handler.do(raw)
        return web.Response(
            status=response.status_code, body=response.content, headers=response.headers
        )


@contextlib.asynccontextmanager
async def serving(hook: Webhook) -> AsyncIterator[Webhook]:
    """Serve ``hook`` on 127.0.0.1 and set its ``url``."""
    app = web.Application()
    app.router.add_post("/feishu/events", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/feishu/events"
    try:
        yield hook
    finally:
        await runner.cleanup()


@pytest.fixture
async def webhook(fake: FakeFeishu) -> AsyncIterator[Webhook]:
    async with serving(Webhook(fake)) as hook:
        yield hook


async def send_card(fake: FakeFeishu, http: aiohttp.ClientSession, title: str) -> str:
    """The bot sends a shared card to the default group; returns its message_id."""
    client = sdk_client(fake, set_token=True)
    sent = await client.im.v1.message.acreate(
        create_message(fake.events.default_group_chat_id, "interactive", shared_card(title)),
        with_token(await fetch_token(fake, http)),
    )
    assert sent.code == 0, sent.msg
    message_id = sent.data.message_id
    assert isinstance(message_id, str)
    return message_id


async def test_webhook_events_are_signed_and_encrypted(fake: FakeFeishu, webhook: Webhook) -> None:
    event = fake.events.group_text_mentioning_bot("draw a cat")
    result = await fake.post_event(webhook.url, event)
    assert (result.status, result.json()) == (200, {"msg": "success"})

    plain = await fake.post_event(webhook.url, fake.events.dm_text("hi"), encrypt=False)
    assert plain.status == 200
    # A day-old signed delivery still passes: the SDK has no replay window, the adapter needs one.
    replayed = await fake.post_event(webhook.url, event, timestamp=int(time.time()) - 86400)
    assert replayed.status == 200

    [group, dm, again] = webhook.messages
    assert again.header.event_id == group.header.event_id
    assert group.header.event_id == event["header"]["event_id"]
    assert group.event.message.chat_type == "group"
    assert json.loads(group.event.message.content) == {"text": "@_user_1 draw a cat"}
    assert group.event.message.mentions[0].id.open_id == fake.bot.open_id
    assert dm.event.message.chat_type == "p2p"
    assert dm.event.message.mentions is None


async def test_webhook_rejects_a_tampered_signature(fake: FakeFeishu, webhook: Webhook) -> None:
    other = fake.events.new_user("Dave")
    event = fake.events.group_text_mentioning(other, "not for the bot")
    result = await fake.post_event(webhook.url, event, tamper_signature=True)
    assert result.status == 500
    assert "signature verification failed" in result.json()["msg"]
    assert webhook.messages == []


async def test_webhook_url_verification(fake: FakeFeishu, webhook: Webhook) -> None:
    for encrypt in (True, False):
        result = await fake.post_url_verification(webhook.url, encrypt=encrypt)
        assert result.json() == {"challenge": result.sent["challenge"]}


async def test_webhook_card_action_answer_updates_the_card(
    fake: FakeFeishu, webhook: Webhook, http: aiohttp.ClientSession
) -> None:
    card = await send_card(fake, http, "failed")
    chat = fake.events.default_group_chat_id
    action = fake.events.card_action(
        {"action": "retry", "job": "j1"}, message_id=card, chat_id=chat
    )
    result = await fake.post_event(webhook.url, action)

    assert result.status == 200
    assert result.json()["toast"] == {"type": "info", "content": "retrying"}
    [data] = webhook.card_actions
    assert data.event.action.value == {"action": "retry", "job": "j1"}
    assert data.event.operator.open_id == fake.events.default_user.open_id
    assert data.event.context.open_message_id == card
    [patch] = fake.patches(card)
    assert (patch.source, patch.json()["header"]["title"]["content"]) == ("callback", "retrying")

    # Some buttons carry their value as a JSON string. lark-oapi 1.7.5 cannot parse that into
    # P2CardActionTrigger (value is typed Dict): it answers 500 before any handler runs.
    as_text = fake.events.card_action('{"job": "j2"}', message_id=card, chat_id=chat)
    refused = await fake.post_event(webhook.url, as_text)
    assert refused.status == 500
    assert "expected typing.Dict[str, typing.Any] but was <class 'str'>" in refused.json()["msg"]
    assert len(webhook.card_actions) == 1
    assert fake.failed_deliveries == [fake.delivery_of(as_text)]


async def test_a_card_callback_answered_late_is_dropped(
    fake: FakeFeishu, webhook: Webhook, http: aiohttp.ClientSession
) -> None:
    card = await send_card(fake, http, "failed")
    chat = fake.events.default_group_chat_id
    fake.answer_deadline = 0.1  # Feishu's is 3 s; a callback is never sent again
    webhook.delay = 0.3
    slow = fake.events.card_action({"job": "j1"}, message_id=card, chat_id=chat)
    result = await fake.post_event(webhook.url, slow)

    assert result.status == 200  # the bot did answer, but too late for Feishu
    late = fake.delivery_of(slow)
    assert (late.late, late.ok, late.mode) == (True, False, "webhook")
    assert fake.answer_seconds(slow) == late.seconds == result.seconds >= 0.3
    assert fake.failed_deliveries == [late]
    assert fake.patches(card) == []  # the card in the late answer never reaches the user

    webhook.delay = 0
    fake.answer_deadline = 3.0
    quick = fake.events.card_action({"job": "j1"}, message_id=card, chat_id=chat)
    await fake.post_event(webhook.url, quick)
    assert fake.delivery_of(quick).ok
    assert [p.source for p in fake.patches(card)] == ["callback"]


async def test_webhook_events_a_bot_gets_unasked_are_answered_200(fake: FakeFeishu) -> None:
    async with serving(Webhook(fake, unasked=True)) as hook:
        message_id, events = unasked_events(fake)
        for event in events:
            await fake.post_event(hook.url, event)
        assert [d.status for d in fake.deliveries] == [200] * len(events)
        assert fake.failed_deliveries == []
        check_unasked(fake, message_id, hook.unasked)

        # One the bot has no handler for: the SDK answers 500, which Feishu would retry.
        reaction_gone = fake.events.event(
            "im.message.reaction.deleted_v1", {"message_id": message_id}
        )
        refused = await fake.post_event(hook.url, reaction_gone)
    assert (refused.status, refused.json()["msg"]) == (
        500,
        "processor not found, type: im.message.reaction.deleted_v1",
    )
    assert fake.failed_deliveries == [fake.delivery_of(reaction_gone)]
    assert [d.event_type for d in fake.deliveries][:2] == ["message", "im.message.message_read_v1"]


# --- long connection ------------------------------------------------------------------------


class SdkWsThread:
    """Runs ``count`` of the SDK's ``lark_oapi.ws.Client`` on their own thread and event loop.

    Start: make a loop in the thread, set it as the thread's loop *and* as the module global
    ``lark_oapi.ws.client.loop`` (``start()`` uses the global), then construct the client there
    (its ``ExpiringCache`` schedules a task on the current loop in ``__init__``) and call the
    blocking ``start()``.

    Several clients share that one loop: the SDK reads the module global whenever it schedules
    work, so clients on two threads of one process would schedule onto each other's loops. They
    cannot all call the blocking ``start()``, so each runs what ``start()`` runs: ``_connect()``,
    then ``_ping_loop()`` as a task.

    Stop: ``start()`` has no exit, so cancel every task on that loop from outside
    (``call_soon_threadsafe``); ``start()`` then raises ``CancelledError`` (a BaseException, so
    the SDK's ``except Exception`` reconnect paths do not swallow it). Afterwards close the socket
    with the SDK's ``_disconnect()`` and close the loop. Joining is async because the closing
    handshake needs the fake's loop, which a blocking ``join()`` would stall.
    """

    def __init__(
        self, app_id: str, app_secret: str, domain: str, handler: Any, *, count: int = 1
    ) -> None:
        self._credentials = (app_id, app_secret, domain)
        self._handler = handler
        self._count = count
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="lark-ws-client", daemon=True)
        self.error: Exception | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        app_id, app_secret, domain = self._credentials
        previous_global = lark_ws_client.loop
        asyncio.set_event_loop(self._loop)
        lark_ws_client.loop = self._loop
        clients = [
            lark.ws.Client(
                app_id,
                app_secret,
                event_handler=self._handler,
                domain=domain,
                log_level=lark.LogLevel.ERROR,
            )
            for _ in range(self._count)
        ]
        try:
            if len(clients) == 1:
                clients[0].start()
            else:
                self._loop.run_until_complete(_run_together(clients))
        except asyncio.CancelledError:
            pass
        except Exception as error:  # re-raised by join()
            self.error = error
        finally:
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            for client in clients:
                self._loop.run_until_complete(client._disconnect())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()
            asyncio.set_event_loop(None)
            lark_ws_client.loop = previous_global

    async def stop(self) -> None:
        def cancel_all() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        with contextlib.suppress(RuntimeError):  # the loop already closed: start() failed
            self._loop.call_soon_threadsafe(cancel_all)
        await self.join()

    async def join(self) -> None:
        await asyncio.to_thread(self._thread.join, 10)
        assert not self._thread.is_alive(), "ws client thread did not stop"
        if self.error is not None:
            raise self.error


async def _run_together(clients: list[Any]) -> None:
    """What ``Client.start()`` does, for several clients on the running loop."""
    for client in clients:
        await client._connect()
        asyncio.get_running_loop().create_task(client._ping_loop())
    await asyncio.Event().wait()  # until stop() cancels everything


class WsBot:
    """Handlers called on the ws thread hand their data to the test's loop.

    ``unasked`` adds handlers for the unasked events (collected in :attr:`unasked`). A message
    ``boom`` always fails; ``flaky…`` fails the first time it arrives.
    """

    def __init__(self, *, unasked: bool = False) -> None:
        self._loop = asyncio.get_running_loop()
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        self.unasked: list[Any] = []
        self._flaky_seen: set[str] = set()
        builder = (
            lark.EventDispatcherHandler.builder("", "")
            .register_p2_im_message_receive_v1(self._on_message)
            .register_p2_card_action_trigger(self._on_card_action)
        )
        if unasked:
            builder = subscribe_unasked(builder, self.unasked.append)
        self.handler = builder.build()

    def _on_message(self, data: Any) -> None:
        text = json.loads(data.event.message.content).get("text", "")
        if text == "boom":
            raise RuntimeError("handler failed")
        if text.startswith("flaky") and data.header.event_id not in self._flaky_seen:
            self._flaky_seen.add(data.header.event_id)
            raise RuntimeError("handler failed once")
        self._loop.call_soon_threadsafe(self.messages.put_nowait, data)

    def _on_card_action(self, data: Any) -> Any:
        value = data.event.action.value
        return P2CardActionTriggerResponse({"toast": {"type": "success", "content": value["job"]}})


@contextlib.asynccontextmanager
async def connected(fake: FakeFeishu, bot: WsBot, *, count: int = 1) -> AsyncIterator[WsBot]:
    """``count`` SDK clients connected to ``fake`` with ``bot``'s handlers; stopped on exit."""
    pings = fake.ws_pings
    runner = SdkWsThread(fake.app_id, fake.app_secret, fake.domain, bot.handler, count=count)
    runner.start()
    try:
        await fake.wait_for_ws_connections(count)
        # The SDK pings once right after connecting (then every PingInterval). Waiting for it
        # keeps the tests clear of an SDK race: a ping racing a server-side close logs via the
        # deprecated logger.warn.
        await fake.wait_until(lambda: fake.ws_pings >= pings + count, "first pings")
        yield bot
    finally:
        await runner.stop()
    await fake.wait_until(lambda: not fake.ws_connected, "client disconnect")


@pytest.fixture
async def ws_bot(fake: FakeFeishu) -> AsyncIterator[WsBot]:
    async with connected(fake, WsBot()) as bot:
        yield bot


async def next_message(bot: WsBot) -> Any:
    async with asyncio.timeout(5):
        return await bot.messages.get()


async def test_long_connection_delivers_events_and_records_acks(
    fake: FakeFeishu, ws_bot: WsBot
) -> None:
    event = fake.events.group_text_mentioning_bot("draw a dog")
    ack = await fake.push_event(event)
    received = await next_message(ws_bot)
    assert received.header.event_id == event["header"]["event_id"]
    assert received.event.message.mentions[0].id.open_id == fake.bot.open_id
    assert (ack.code, ack.data, ack.event_type) == (200, None, "im.message.receive_v1")
    assert ack.biz_rt_ms is not None
    assert ack.latency < 2

    failing = await fake.push_event(fake.events.dm_text("boom"))
    assert failing.code == 500  # the SDK still acks, with 500, when the handler raises
    assert fake.ws_unacked == []
    assert len(fake.ws_acks) == 2


async def test_long_connection_card_action_response_rides_on_the_ack(
    fake: FakeFeishu, ws_bot: WsBot, http: aiohttp.ClientSession
) -> None:
    card = await send_card(fake, http, "failed")
    chat = fake.events.default_group_chat_id
    action = fake.events.card_action({"job": "j9"}, message_id=card, chat_id=chat)
    ack = await fake.push_event(action)
    assert ack.code == 200
    assert ack.data == {"toast": {"type": "success", "content": "j9"}}
    assert fake.patches(card) == []  # a toast alone leaves the card as it is
    assert fake.delivery_of(action).ok

    # A string value fails inside the SDK, as by webhook: it acks 500 and, since Feishu never
    # sends a callback twice, the user is left with an error.
    as_text = fake.events.card_action('{"job": "j9"}', message_id=card, chat_id=chat)
    assert (await fake.push_event(as_text)).code == 500
    assert fake.failed_deliveries == [fake.delivery_of(as_text)]


async def test_long_connection_reconnects_after_a_drop(fake: FakeFeishu, ws_bot: WsBot) -> None:
    fake.inject_error("ws_endpoint", status=500, code=1, msg="system busy")
    await fake.drop_ws_connections()
    # first attempt: endpoint 500 -> retry after ReconnectInterval (1 s here) -> connected
    await fake.wait_for_ws_connection(count=2)
    assert fake.call_count("ws_endpoint") == 3

    await fake.push_event(fake.events.dm_text("still there?"))
    received = await next_message(ws_bot)
    assert json.loads(received.event.message.content) == {"text": "still there?"}


async def test_long_connection_rejects_bad_credentials(fake: FakeFeishu) -> None:
    runner = SdkWsThread(fake.app_id, "wrong", fake.domain, WsBot().handler)
    runner.start()
    with pytest.raises(ClientException, match="invalid"):
        await runner.join()  # start() raised by itself: no reconnect loop for a client error
    assert fake.ws_connections_total == 0


async def test_long_connection_events_a_bot_gets_unasked_are_acked_200(fake: FakeFeishu) -> None:
    async with connected(fake, WsBot(unasked=True)) as bot:
        message_id, events = unasked_events(fake)
        acks = [await fake.push_event(event) for event in events]
    assert [a.code for a in acks] == [200] * len(events)
    assert [d.mode for d in fake.deliveries] == ["ws"] * len(events)
    assert fake.failed_deliveries == []
    check_unasked(fake, message_id, bot.unasked)


async def test_each_event_goes_to_one_long_connection_at_random() -> None:
    async with FakeFeishu(ws_seed=7) as fake, connected(fake, WsBot(), count=3) as bot:
        events = [fake.events.dm_text(f"event {i}") for i in range(30)]
        acks = [await fake.push_event(event) for event in events]
        received = [await next_message(bot) for _ in events]

    # Handled once each, not once per connection, by whichever connection the seed picked.
    assert sorted(r.header.event_id for r in received) == sorted(
        e["header"]["event_id"] for e in events
    )
    picks = random.Random(7)
    assert [a.connection for a in acks] == [picks.choice([1, 2, 3]) for _ in events]
    assert [c.events for c in fake.ws_connections] == [
        [a.connection for a in acks].count(n) for n in (1, 2, 3)
    ]
    assert all(c.events > 0 for c in fake.ws_connections)
    assert not any(c.open for c in fake.ws_connections)


async def test_long_connections_beyond_the_limit_are_refused() -> None:
    async with FakeFeishu(max_ws_connections=2) as fake:
        runner = SdkWsThread(fake.app_id, fake.app_secret, fake.domain, WsBot().handler, count=3)
        runner.start()
        with pytest.raises(ClientException, match="exceeded connection limit"):
            await runner.join()
        assert fake.ws_connections_total == 2


async def test_deleted_and_recalled_messages(fake: FakeFeishu, http: aiohttp.ClientSession) -> None:
    client = sdk_client(fake, set_token=True)
    option = with_token(await fetch_token(fake, http))
    im = client.im.v1

    card = await send_card(fake, http, "queued")
    fake.delete_message(card)
    patched = await im.message.apatch(patch_message(card, shared_card("50%")), option)
    replied = await im.message.areply(reply_message(card, '{"text":"done"}', uuid="r-1"), option)
    assert (patched.code, replied.code) == (230110, 230110)

    incoming = fake.make_image_message(PNG)
    message_id = fake.events.message_id(incoming)
    image_key = json.loads(incoming["event"]["message"]["content"])["image_key"]
    recalled = fake.recall_message(message_id)
    assert recalled["header"]["event_type"] == "im.message.recalled_v1"
    assert recalled["event"]["chat_id"] == fake.events.incoming[message_id].chat_id
    reply = await im.message.areply(reply_message(message_id, '{"text":"ok"}', uuid="r-2"), option)
    download = await im.message_resource.aget(get_resource(message_id, image_key), option)
    assert reply.code == 230011
    assert (download.raw.status_code, json.loads(download.raw.content)["code"]) == (400, 230011)

    assert [e.code for e in fake.api_errors] == [230110, 230110, 230011, 230011]
    assert len(fake.messages) == 1  # only the card: nothing was sent to a message that is gone
    with pytest.raises(KeyError):
        fake.delete_message("om_never_sent")


# --- redelivery -----------------------------------------------------------------------------

#: Feishu's 15 s, 5 min, 1 h, 6 h, compressed.
QUICK_RETRIES = (0.2, 0.3, 0.4, 0.5)


async def test_an_event_answered_500_is_posted_again_until_taken(
    fake: FakeFeishu, webhook: Webhook
) -> None:
    fake.redelivery_intervals = QUICK_RETRIES
    webhook.refuse = 2
    event = fake.events.dm_text("draw a cat")
    first = await fake.post_event(webhook.url, event)
    assert first.status == 500
    await fake.wait_for_taken(event)

    dispatch = fake.dispatch_of(event)
    assert (dispatch.attempts, dispatch.taken, dispatch.mode) == (3, True, "webhook")
    assert [d.status for d in fake.deliveries] == [500, 500, 200]
    [taken] = webhook.messages  # the same event each time: only the taken one was read
    assert taken.header.event_id == event["header"]["event_id"]
    await asyncio.sleep(0.6)  # nothing more once taken
    assert len(fake.deliveries) == 3


async def test_a_late_answer_is_delivered_again_and_feishu_gives_up_at_last(
    fake: FakeFeishu, webhook: Webhook
) -> None:
    fake.redelivery_intervals = QUICK_RETRIES
    fake.answer_deadline = 0.1
    webhook.delay = 0.15  # the bot takes every one, too late for Feishu
    event = fake.events.dm_text("draw a dog")
    started = time.monotonic()
    await fake.post_event(webhook.url, event)
    with pytest.raises(AssertionError, match="gave up"):
        await fake.wait_for_taken(event)
    took = time.monotonic() - started

    dispatch = fake.dispatch_of(event)
    assert (dispatch.attempts, dispatch.taken, dispatch.given_up) == (5, False, True)
    # Each retry waits its interval after the attempt before failed (at the deadline).
    assert took >= sum(QUICK_RETRIES) + 4 * fake.answer_deadline
    await fake.wait_until(lambda: len(fake.deliveries) == 5, "the last late answer")
    assert all(d.late and d.status == 200 for d in fake.deliveries)
    assert [m.header.event_id for m in webhook.messages] == [event["header"]["event_id"]] * 5


async def test_card_callbacks_and_url_checks_are_never_sent_again(
    fake: FakeFeishu, webhook: Webhook, http: aiohttp.ClientSession
) -> None:
    fake.redelivery_intervals = QUICK_RETRIES
    card = await send_card(fake, http, "failed")
    webhook.refuse = 2
    press = fake.events.card_action({"job": "j1"}, message_id=card, chat_id="oc_x")
    assert (await fake.post_event(webhook.url, press)).status == 500
    assert (await fake.post_url_verification(webhook.url)).status == 500
    await asyncio.sleep(0.5)
    assert [d.status for d in fake.deliveries] == [500, 500]
    assert all(d.given_up and d.attempts == 1 for d in fake.dispatches)


async def test_a_webhook_nobody_listens_on_is_posted_again_once_it_is_up(
    fake: FakeFeishu,
) -> None:
    fake.redelivery_intervals = (0.3, 0.3, 0.3, 0.3)
    hook = Webhook(fake)
    app = web.Application()
    app.router.add_post("/feishu/events", hook.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    event = fake.events.dm_text("anyone?")
    with pytest.raises(aiohttp.ClientConnectionError):
        await fake.post_event(f"http://127.0.0.1:{port}/feishu/events", event)
    await web.TCPSite(runner, "127.0.0.1", port).start()  # the bot comes up
    try:
        await fake.wait_for_taken(event)
    finally:
        await runner.cleanup()
    assert fake.dispatch_of(event).attempts >= 2
    assert [d.status for d in fake.deliveries] == [200]  # the refused attempt had no answer
    assert len(hook.messages) == 1


async def test_a_long_connection_event_failed_is_pushed_again_as_a_new_frame() -> None:
    async with (
        FakeFeishu(ws_seed=3, redelivery_intervals=QUICK_RETRIES) as fake,
        connected(fake, WsBot(), count=3) as bot,
    ):
        events = [fake.events.dm_text(f"flaky {n}") for n in range(12)]
        frames = [await fake.send_ws_event(e) for e in events]
        await fake.wait_for_taken(*events)
        received = [await next_message(bot) for _ in events]

    assert sorted(r.header.event_id for r in received) == sorted(
        e["header"]["event_id"] for e in events
    )
    assert all(fake.dispatch_of(e).attempts == 2 for e in events)
    acks = fake.ws_acks
    assert sorted(a.code for a in acks) == [200] * 12 + [500] * 12
    assert len({a.message_id for a in acks}) == 24  # every attempt is a frame of its own
    assert {a.message_id for a in acks if a.code == 500} == set(frames)
    # Each retry goes to a connection picked again: some to another one than the first.
    by_event: dict[str | None, list[int]] = {}
    for delivery in fake.deliveries:
        by_event.setdefault(delivery.event_id, []).append(delivery.connection or 0)
    assert any(a != b for a, b in by_event.values())


class SilentConnection:
    """A long connection of the app that reads frames and never acks one: a replica that
    froze, or died with them unread."""

    def __init__(self, fake: FakeFeishu) -> None:
        self.fake = fake
        self.received: list[bytes] = []
        self.arrived = asyncio.Event()
        self._http = aiohttp.ClientSession()
        self._reader: asyncio.Task[None] | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def open(self) -> None:
        async with self._http.post(
            f"{self.fake.domain}/callback/ws/endpoint",
            json={"AppID": self.fake.app_id, "AppSecret": self.fake.app_secret},
        ) as response:
            url = (await response.json())["data"]["URL"]
        self._ws = ws = await self._http.ws_connect(url)

        async def read() -> None:
            async for message in ws:
                self.received.append(message.data)
                self.arrived.set()

        self._reader = asyncio.create_task(read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await self._reader
        await self._http.close()


async def test_a_frame_never_acked_is_pushed_again_to_another_connection() -> None:
    async with FakeFeishu(redelivery_intervals=QUICK_RETRIES) as fake:
        fake.answer_deadline = 0.3
        silent = SilentConnection(fake)
        await silent.open()
        try:
            async with connected(fake, WsBot()) as bot:
                await fake.wait_for_ws_connections(2)
                event = fake.events.dm_text("draw a fox")
                frame = await fake.send_ws_event(event, connection=1)  # the silent one
                async with asyncio.timeout(5):
                    await silent.arrived.wait()
                await silent.close()  # gone with it unacked: the retry goes to the one left
                await fake.wait_until(lambda: fake.ws.open_numbers() == [2], "#1 closed")
                await fake.wait_for_taken(event)
                received = await next_message(bot)
        finally:
            await silent.close()

    assert received.header.event_id == event["header"]["event_id"]
    assert fake.ws_unacked == [frame]
    [ack] = fake.ws_acks
    assert (ack.connection, ack.code) == (2, 200)
    assert fake.dispatch_of(event).attempts == 2

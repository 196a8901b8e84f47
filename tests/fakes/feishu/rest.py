"""The fake's REST routes: tokens, bot info, send / reply / patch messages, uploads, downloads.

Every named route goes through :meth:`RestApi.middleware`, which counts the call, raises an
injected error if one is queued, checks the tenant token (except on the routes that hand tokens
out) and answers a :class:`~tests.fakes.feishu.errors.FeishuError` in Feishu's envelope.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.fakes.feishu import validation
from tests.fakes.feishu.errors import FeishuError, field_error, invalid
from tests.fakes.feishu.events import new_id
from tests.fakes.feishu.records import ApiErrorRecord, UploadedFile, UploadedImage
from tests.fakes.feishu.state import FeishuState, Resource

RECEIVE_ID_TYPES = frozenset({"open_id", "user_id", "union_id", "email", "chat_id"})
#: Routes that need no tenant token: the ones handing tokens out, and the long connection's.
UNAUTHENTICATED = frozenset({"tenant_access_token", "app_access_token", "ws_endpoint"})


@dataclass(frozen=True)
class _Part:
    data: bytes
    filename: str | None

    @property
    def text(self) -> str:
        return self.data.decode()


def ok(data: Any) -> web.Response:
    return web.json_response({"code": 0, "msg": "success", "data": data})


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise field_error("body is not JSON") from None
    if not isinstance(body, dict):
        raise field_error("body is not a JSON object")
    return body


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise field_error(f"{name} is required")
    return value


async def _multipart(request: web.Request) -> dict[str, _Part]:
    """Parts by name. Reads raw part bytes, so a file part without ``filename`` (what the SDK's
    sync upload sends via requests-toolbelt) is as good as one with it."""
    # The raw header, not ``request.content_type``: aiohttp parses that with the email
    # package, a twentieth of the fake's CPU per request at 1,000 a second.
    if not request.headers.get("Content-Type", "").lower().startswith("multipart/"):
        raise FeishuError(400, 234001, "Invalid request param: multipart/form-data expected.")
    parts: dict[str, _Part] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, aiohttp.BodyPartReader) or not part.name:
            raise FeishuError(400, 234001, "Invalid request param: unexpected part.")
        parts[part.name] = _Part(bytes(await part.read(decode=True)), part.filename)
    return parts


class RestApi:
    def __init__(self, state: FeishuState, *, app_secret: str) -> None:
        self.state = state
        self.app_secret = app_secret
        auth = "/open-apis/auth/v3"
        im = "/open-apis/im/v1"
        self.routes = [
            web.post(
                f"{auth}/tenant_access_token/internal",
                self.tenant_token,
                name="tenant_access_token",
            ),
            web.post(f"{auth}/app_access_token/internal", self.app_token, name="app_access_token"),
            web.get("/open-apis/bot/v3/info", self.bot_info, name="bot_info"),
            web.post(f"{im}/messages", self.send, name="send"),
            web.post(f"{im}/messages/{{message_id}}/reply", self.reply, name="reply"),
            web.patch(f"{im}/messages/{{message_id}}", self.patch, name="patch"),
            web.post(f"{im}/images", self.upload_image, name="upload_image"),
            web.post(f"{im}/files", self.upload_file, name="upload_file"),
            web.get(
                f"{im}/messages/{{message_id}}/resources/{{file_key}}",
                self.resource,
                name="resource",
            ),
        ]

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name
        if route is None or route == "ws":
            return await handler(request)
        state = self.state
        state.calls[route] += 1
        try:
            state.take_injection(route)
            if route not in UNAUTHENTICATED:
                auth = request.headers.get("Authorization", "")
                bearer = auth.startswith("Bearer ")
                state.check_token(auth.removeprefix("Bearer ").strip() if bearer else "")
            response = await handler(request)
        except FeishuError as error:
            state.api_errors.append(ApiErrorRecord(route, error.status, error.code, error.msg))
            response = error.to_response()
        response.headers["X-Tt-Logid"] = new_id("", 24)
        state.changed()
        return response

    # --- auth and bot ---------------------------------------------------------------------

    def check_credentials(self, app_id: Any, app_secret: Any) -> None:
        if app_id != self.state.events.app_id:
            raise FeishuError(400, 10003, "invalid param: app_id not found")
        if app_secret != self.app_secret:
            raise FeishuError(400, 10014, "app secret invalid")

    async def tenant_token(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        self.check_credentials(body.get("app_id"), body.get("app_secret"))
        token, expire = self.state.issue(self.state.tenant_tokens, "t-")
        return web.json_response(
            {"code": 0, "msg": "ok", "tenant_access_token": token, "expire": expire}
        )

    async def app_token(self, request: web.Request) -> web.Response:
        """Self-built apps get both tokens from this route."""
        body = await json_body(request)
        self.check_credentials(body.get("app_id"), body.get("app_secret"))
        app_token, expire = self.state.issue(self.state.app_tokens, "a-")
        tenant_token, _ = self.state.issue(self.state.tenant_tokens, "t-")
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "app_access_token": app_token,
                "tenant_access_token": tenant_token,
                "expire": expire,
            }
        )

    async def bot_info(self, request: web.Request) -> web.Response:
        """Unlike most APIs the payload is under ``bot``, not ``data``."""
        bot = self.state.events.bot
        return web.json_response(
            {
                "code": 0,
                "msg": "ok",
                "bot": {
                    "activate_status": 2,
                    "app_name": bot.name,
                    "avatar_url": "https://example.invalid/bot-avatar.png",
                    "ip_white_list": [],
                    "open_id": bot.open_id,
                },
            }
        )

    # --- messages -------------------------------------------------------------------------

    def _check_content(self, msg_type: str, content: str) -> None:
        validation.check_content(
            msg_type, content, images=self.state.images, files=self.state.files
        )

    async def send(self, request: web.Request) -> web.Response:
        state = self.state
        receive_id_type = request.query.get("receive_id_type", "")
        if receive_id_type not in RECEIVE_ID_TYPES:
            raise field_error("receive_id_type must be one of " + ", ".join(RECEIVE_ID_TYPES))
        body = await json_body(request)
        receive_id = _required_str(body, "receive_id")
        msg_type = _required_str(body, "msg_type")
        content = _required_str(body, "content")
        uuid = body.get("uuid") or None
        if (existing := state.deduplicated(uuid)) is not None:
            return ok(state.message_data(existing))
        if receive_id_type == "chat_id":
            chat_id = receive_id
        else:
            chat_id = state.events.p2p_chat_id(receive_id)
        self._check_content(msg_type, content)
        state.check_rate(f"chat:{chat_id}")
        message = state.store(
            chat_id=chat_id,
            msg_type=msg_type,
            content=content,
            uuid=uuid,
            receive_id=receive_id,
            receive_id_type=receive_id_type,
        )
        return ok(state.message_data(message))

    async def reply(self, request: web.Request) -> web.Response:
        state = self.state
        target = request.match_info["message_id"]
        body = await json_body(request)
        msg_type = _required_str(body, "msg_type")
        content = _required_str(body, "content")
        uuid = body.get("uuid") or None
        in_thread = bool(body.get("reply_in_thread", False))
        if (existing := state.deduplicated(uuid)) is not None:
            return ok(state.message_data(existing))
        if (sent := state.messages_by_id.get(target)) is not None:
            chat_id, root_id, thread_id = sent.chat_id, sent.root_id, sent.thread_id
        elif (incoming := state.events.incoming.get(target)) is not None:
            chat_id, root_id, thread_id = incoming.chat_id, None, None
        else:
            raise invalid(f"message {target} not found")
        state.check_present(target)
        self._check_content(msg_type, content)
        state.check_rate(f"chat:{chat_id}")
        message = state.store(
            chat_id=chat_id,
            msg_type=msg_type,
            content=content,
            uuid=uuid,
            reply_to=target,
            reply_in_thread=in_thread,
            root_id=root_id or target,
            thread_id=thread_id or (new_id("omt_", 16) if in_thread else None),
        )
        return ok(state.message_data(message))

    async def patch(self, request: web.Request) -> web.Response:
        state = self.state
        message_id = request.match_info["message_id"]
        body = await json_body(request)
        content = _required_str(body, "content")
        message = state.messages_by_id.get(message_id)
        if message is None:
            raise invalid(f"message {message_id} not found or not sent by this app")
        state.check_present(message_id)
        if message.msg_type != "interactive":
            raise invalid("This message is NOT a card")
        if not validation.is_shared_card(json.loads(message.content)):
            raise invalid("the sent card is not shared: config.update_multi must be true")
        card = validation.check_card(content)
        if not validation.is_shared_card(card):
            raise invalid("the new card is not shared: config.update_multi must be true")
        state.check_rate(f"patch:{message_id}")
        state.add_patch(message, content, "api")
        return ok({})

    # --- uploads and resources ------------------------------------------------------------

    async def upload_image(self, request: web.Request) -> web.Response:
        parts = await _multipart(request)
        image_type = parts["image_type"].text if "image_type" in parts else ""
        if image_type not in ("message", "avatar"):
            raise FeishuError(400, 234001, "Invalid request param: image_type.")
        image = parts.get("image")
        if image is None:
            raise FeishuError(400, 234001, "Invalid request param: image is required.")
        validation.check_upload_size(image.data, validation.MAX_IMAGE_BYTES)
        if validation.image_mime(image.data) is None:
            raise FeishuError(400, 234011, "Can't recognize image format.")
        key = new_id("img_v3_", 36)
        self.state.images[key] = UploadedImage(key, image.data, image_type, image.filename)
        return ok({"image_key": key})

    async def upload_file(self, request: web.Request) -> web.Response:
        parts = await _multipart(request)
        file_type = parts["file_type"].text if "file_type" in parts else ""
        if file_type not in validation.FILE_TYPES:
            raise FeishuError(400, 234001, f"Invalid request param: file_type {file_type!r}.")
        file_name = parts["file_name"].text if "file_name" in parts else ""
        if not file_name:
            raise FeishuError(400, 234001, "Invalid request param: file_name is required.")
        upload = parts.get("file")
        if upload is None:
            raise FeishuError(400, 234001, "Invalid request param: file is required.")
        validation.check_upload_size(upload.data, validation.MAX_FILE_BYTES)
        duration = None
        if "duration" in parts:
            try:
                duration = int(parts["duration"].text)
            except ValueError:
                raise FeishuError(400, 234001, "Invalid request param: duration.") from None
        key = new_id("file_v3_", 36)
        self.state.files[key] = UploadedFile(key, upload.data, file_type, file_name, duration)
        return ok({"file_key": key})

    async def resource(self, request: web.Request) -> web.Response:
        resource_type = request.query.get("type", "")
        if resource_type not in ("image", "file"):
            raise field_error("type must be image or file")
        message_id = request.match_info["message_id"]
        resource: Resource | None = self.state.resources.get(
            (message_id, request.match_info["file_key"])
        )
        if resource is None:
            raise FeishuError(404, 234003, "File not in msg.")
        self.state.check_present(message_id)
        if resource.resource_type != resource_type:
            raise FeishuError(
                400, 234001, f"Invalid request param: resource is not a {resource_type}."
            )
        return web.Response(
            body=resource.data,
            content_type=resource.content_type,
            headers={"Content-Disposition": f'attachment; filename="{resource.file_name}"'},
        )

"""The fake REST API (``/api/v10``) and attachment CDN.

Routes carrying the bot token check ``Authorization: Bot <token>``; interaction callbacks and
interaction webhooks are authorised by the interaction token in the URL only, as on Discord.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from . import errors
from .errors import DiscordAPIError, ErrorSpec, json_response
from .gateway import Gateway
from .models import (
    APPLICATION_COMMAND,
    ATTACH_FILES,
    AUTOCOMPLETE,
    EPHEMERAL,
    LOADING,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    SEND_MESSAGES,
    VIEW_CHANNEL,
    Answer,
    ApiError,
    FakeChannel,
    FakeInteraction,
    RequestRecord,
    StoredMessage,
)
from .state import INTERACTION_MESSAGE_FLAGS, FakeState, MessageBody, UploadedFile
from .validation import check_choices, check_commands, check_message, check_nonce

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

API_PREFIX = "/api/v10"
#: The fake's session-start budget never resets; Discord's resets daily.
SESSION_START_RESET_MS = 24 * 60 * 60 * 1000
#: How long a send with ``enforce_nonce`` and a nonce already used returns the first message
#: instead of a new one (Discord: "the past few minutes").
NONCE_WINDOW = 5 * 60
_log = logging.getLogger(__name__)
_FILE_FIELD = re.compile(r"^files\[(\d+)\]$")
_INTERACTION_KEY = web.RequestKey("fake_discord_interaction", FakeInteraction)

# Interaction callback types (1 PONG only answers HTTP-endpoint PINGs, which never come
# over the gateway, so it is rejected like any callback type that does not fit)
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

_ALLOWED_CALLBACKS = {
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    MESSAGE_COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}
_TRUE = ("1", "true", "True")


@dataclass
class _Injection:
    method: str
    route: str
    error: DiscordAPIError
    remaining: int


def _decode(raw: str | bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise DiscordAPIError(errors.INVALID_JSON) from None


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    return _decode(raw) if raw else {}


async def read_body(request: web.Request) -> MessageBody:
    """JSON bodies, or multipart ``payload_json`` + ``files[n]`` parts."""
    # The raw header, not ``request.content_type``: aiohttp parses that with the email
    # package, a twentieth of the fake's CPU per request at 1,000 a second.
    if not request.headers.get("Content-Type", "").lower().startswith("multipart/"):
        return MessageBody(await read_json(request))
    body = MessageBody({})
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            continue
        match = _FILE_FIELD.match(part.name or "")
        if part.name == "payload_json":
            body.payload = _decode(await part.text())
        elif match:
            body.files.append(
                UploadedFile(
                    index=int(match.group(1)),
                    filename=part.filename or f"file{match.group(1)}",
                    content_type=part.headers.get("Content-Type", "application/octet-stream"),
                    data=bytes(await part.read()),
                )
            )
    return body


class RestApi:
    def __init__(self, state: FakeState, gateway: Gateway) -> None:
        self.state = state
        self.gateway = gateway
        self._injections: list[_Injection] = []
        self.internal_errors: list[str] = []
        bot = self._bot_only
        api = API_PREFIX
        webhook = f"{api}/webhooks/{{application_id}}/{{interaction_token}}"
        self.route_defs = [
            web.get(f"{api}/gateway", self.get_gateway),
            web.get(f"{api}/gateway/bot", bot(self.get_gateway_bot)),
            web.get(f"{api}/users/@me", bot(self.get_me)),
            web.post(f"{api}/users/@me/channels", bot(self.open_dm)),
            web.get(f"{api}/users/{{user_id}}", bot(self.get_user)),
            web.get(f"{api}/oauth2/applications/@me", bot(self.get_application)),
            web.get(f"{api}/applications/{{application_id}}/commands", bot(self.get_commands)),
            web.put(f"{api}/applications/{{application_id}}/commands", bot(self.put_commands)),
            web.get(
                f"{api}/applications/{{application_id}}/guilds/{{guild_id}}/commands",
                bot(self.get_commands),
            ),
            web.put(
                f"{api}/applications/{{application_id}}/guilds/{{guild_id}}/commands",
                bot(self.put_commands),
            ),
            web.get(f"{api}/channels/{{channel_id}}", bot(self.get_channel)),
            web.post(f"{api}/channels/{{channel_id}}/typing", bot(self.typing)),
            web.post(f"{api}/channels/{{channel_id}}/messages", bot(self.post_channel_message)),
            web.get(
                f"{api}/channels/{{channel_id}}/messages/{{message_id}}",
                bot(self.get_channel_message),
            ),
            web.patch(
                f"{api}/channels/{{channel_id}}/messages/{{message_id}}",
                bot(self.patch_channel_message),
            ),
            web.delete(
                f"{api}/channels/{{channel_id}}/messages/{{message_id}}",
                bot(self.delete_channel_message),
            ),
            web.post(
                f"{api}/interactions/{{interaction_id}}/{{interaction_token}}/callback",
                self.interaction_callback,
            ),
            web.post(webhook, self.post_followup),
            web.get(f"{webhook}/messages/{{message_id}}", self.get_webhook_message),
            web.patch(f"{webhook}/messages/{{message_id}}", self.patch_webhook_message),
            web.delete(f"{webhook}/messages/{{message_id}}", self.delete_webhook_message),
            web.get("/cdn/attachments/{channel_id}/{attachment_id}/{filename}", self.cdn),
        ]
        self.route_templates = {
            (d.method, d.path.removeprefix(API_PREFIX))
            for d in self.route_defs
            if isinstance(d, web.RouteDef)
        }

    # -- plumbing ------------------------------------------------------------------------

    def inject(self, method: str, route: str, error: DiscordAPIError, times: int) -> None:
        method = method.upper()
        if (method, route) not in self.route_templates:
            known = "\n".join(sorted(f"{m} {r}" for m, r in self.route_templates))
            raise ValueError(f"the fake serves no {method} {route}; routes:\n{known}")
        self._injections.append(_Injection(method, route, error, times))

    def _take_injection(self, method: str, route: str) -> DiscordAPIError | None:
        for injection in self._injections:
            if injection.method == method and injection.route == route and injection.remaining:
                injection.remaining -= 1
                return injection.error
        return None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Injected errors, Discord-shaped errors, and the request log."""
        resource = request.match_info.route.resource
        template = resource.canonical.removeprefix(API_PREFIX) if resource else request.path
        route = f"{request.method} {template}"
        code: int | None = None
        try:
            injected = self._take_injection(request.method, template)
            if injected is not None:
                raise injected
            response = await handler(request)
        except DiscordAPIError as exc:
            code = exc.spec.code
            response = exc.to_response()
            interaction = request.get(_INTERACTION_KEY)
            if interaction is not None:
                interaction.errors.append(
                    ApiError(request.method, template, exc.spec.status, code, exc.spec.message)
                )
        except web.HTTPException as exc:
            # Unknown route or method: answer like Discord, and keep it in the log so a test
            # can spot a call the fake does not implement.
            spec = errors.METHOD_NOT_ALLOWED if exc.status == 405 else errors.NOT_FOUND
            response = DiscordAPIError(spec).to_response()
        except Exception as exc:
            # A bug in the fake itself. A 500 would make discord.py retry with growing sleeps,
            # so answer 400 at once; FakeDiscord fails the test on exit.
            _log.exception("fake Discord failed on %s", route)
            self.internal_errors.append(f"{route}: {exc!r}")
            body = {"message": f"fake Discord bug: {exc!r}", "code": 0}
            response = json_response(body, status=400)
        self.state.requests.append(
            RequestRecord(request.method, request.path, route, response.status, code)
        )
        self.state.changed()
        return response

    def _bot_only(self, handler: Handler) -> Handler:
        async def checked(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization") != f"Bot {self.state.token}":
                raise DiscordAPIError(errors.UNAUTHORIZED)
            return await handler(request)

        return checked

    def _check_application(self, request: web.Request) -> None:
        if request.match_info["application_id"] != str(self.state.application_id):
            raise DiscordAPIError(errors.MISSING_ACCESS)

    def _channel(self, request: web.Request) -> FakeChannel:
        return self.state.channel(_snowflake(request.match_info["channel_id"]))

    # -- login, gateway, users ------------------------------------------------------------

    async def get_gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.gateway.url})

    async def get_gateway_bot(self, request: web.Request) -> web.Response:
        gateway = self.gateway
        return json_response(
            {
                "url": gateway.url,
                "shards": gateway.recommended_shards,
                "session_start_limit": {
                    "total": gateway.session_start_limit,
                    "remaining": gateway.session_starts_remaining,
                    "reset_after": SESSION_START_RESET_MS,
                    "max_concurrency": gateway.max_concurrency,
                },
            }
        )

    async def get_me(self, request: web.Request) -> web.Response:
        me = self.state.bot_user.to_payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        return json_response(me)

    async def get_user(self, request: web.Request) -> web.Response:
        return json_response(
            self.state.user(_snowflake(request.match_info["user_id"])).to_payload()
        )

    async def get_application(self, request: web.Request) -> web.Response:
        bot = self.state.bot_user
        return json_response(
            {
                "id": str(self.state.application_id),
                "name": bot.username,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": bot.to_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "summary": "",
                "flags": 0,
                "rpc_origins": [],
                # Must stay null: with an endpoint URL Discord stops sending interactions
                # over the gateway (discord.py logs a warning about it).
                "interactions_endpoint_url": None,
                "bot": bot.to_payload(),
            }
        )

    async def open_dm(self, request: web.Request) -> web.Response:
        payload = await read_json(request)
        user = self.state.users.get(_snowflake(str(payload.get("recipient_id"))))
        if user is None or user.bot:
            raise DiscordAPIError(errors.INVALID_RECIPIENT)
        channel = self.state.dm_channel(user)
        return json_response(channel.to_payload(self.state.bot_user.id))

    # -- application commands -------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> int | None:
        self._check_application(request)
        raw_guild = request.match_info.get("guild_id")
        if raw_guild is None:
            return None
        guild_id = _snowflake(raw_guild)
        if guild_id not in self.state.guilds:
            raise DiscordAPIError(errors.MISSING_ACCESS)
        return guild_id

    async def get_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        if guild_id is None:
            return json_response(self.state.global_commands)
        return json_response(self.state.guild_commands.get(guild_id, []))

    async def put_commands(self, request: web.Request) -> web.Response:
        guild_id = self._command_scope(request)
        commands = await read_json(request)
        check_commands(commands)
        return json_response(self.state.store_commands(guild_id, commands))

    # -- channels (bot token) -------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        return json_response(self._channel(request).to_payload(self.state.bot_user.id))

    async def typing(self, request: web.Request) -> web.Response:
        self._check_can_send(self._channel(request), with_files=False)
        return web.Response(status=204)

    def _check_can_send(self, channel: FakeChannel, *, with_files: bool) -> None:
        if channel.recipient is not None:
            if not channel.recipient.accepts_dms:
                raise DiscordAPIError(errors.CANNOT_DM_USER)
            return
        needed = VIEW_CHANNEL | SEND_MESSAGES | (ATTACH_FILES if with_files else 0)
        if channel.bot_permissions & needed != needed:
            raise DiscordAPIError(errors.MISSING_PERMISSIONS)

    def _validated(self, body: MessageBody) -> MessageBody:
        self.state.check_file_sizes(body.files)
        check_message(body.payload)
        return body

    async def post_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        body = self._validated(await read_body(request))
        self._check_can_send(channel, with_files=bool(body.files))
        mentioned = re.findall(r"<@!?(\d+)>", body.payload.get("content") or "")
        mentions = [self.state.users[int(i)] for i in mentioned if int(i) in self.state.users]
        nonce = check_nonce(body.payload)
        enforced = nonce is not None and body.payload.get("enforce_nonce") is True
        if enforced:
            earlier = self.state.nonces.get((self.state.bot_user.id, nonce or ""))
            if earlier is not None and _within_nonce_window(earlier):
                return json_response(earlier.to_payload())  # Discord's answer: the first one
        message = self.state.create_message(channel, self.state.bot_user, body, mentions=mentions)
        message.nonce = nonce
        if enforced:
            self.state.nonces[(self.state.bot_user.id, nonce or "")] = message
        await self.gateway.publish_message("MESSAGE_CREATE", message)
        return json_response(message.to_payload())

    def _channel_message(self, request: web.Request) -> StoredMessage:
        return self.state.message_in(
            self._channel(request).id, _snowflake(request.match_info["message_id"])
        )

    async def get_channel_message(self, request: web.Request) -> web.Response:
        return json_response(self._channel_message(request).to_payload())

    async def patch_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.author is not self.state.bot_user:
            raise DiscordAPIError(errors.NOT_MESSAGE_AUTHOR)
        self.state.edit_message(message, self._validated(await read_body(request)))
        await self.gateway.publish_message("MESSAGE_UPDATE", message)
        return json_response(message.to_payload())

    async def delete_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.author is not self.state.bot_user:
            raise DiscordAPIError(errors.MISSING_PERMISSIONS)
        self.state.delete_message(message)
        await self.gateway.publish_message_delete(message)
        return web.Response(status=204)

    # -- interaction callback -------------------------------------------------------------

    async def interaction_callback(self, request: web.Request) -> web.StreamResponse:
        interaction = self.state.interactions.get(_snowflake(request.match_info["interaction_id"]))
        if interaction is None:
            raise DiscordAPIError(errors.UNKNOWN_INTERACTION)
        request[_INTERACTION_KEY] = interaction
        if request.match_info["interaction_token"] != interaction.token:
            raise DiscordAPIError(errors.INVALID_WEBHOOK_TOKEN)
        body = await read_body(request)
        if interaction.acknowledged:
            raise DiscordAPIError(errors.ALREADY_ACKNOWLEDGED)
        if self.state.clock() > interaction.deadline_at:
            raise DiscordAPIError(errors.UNKNOWN_INTERACTION)
        kind = int(body.payload.get("type") or 0)
        if kind not in _ALLOWED_CALLBACKS[interaction.type]:
            form = errors.FormErrors()
            form.add(["type"], "INTERACTION_CALLBACK_TYPE_INVALID", "Invalid callback type")
            form.raise_if_any()
        data: JSON = body.payload.get("data") or {}
        message = await self._apply_callback(interaction, kind, MessageBody(data, body.files))
        interaction.response_type = kind
        interaction.response_data = data
        interaction.responded_at = self.state.clock()
        self.state.changed()
        if request.query.get("with_response") not in _TRUE:
            return web.Response(status=204)
        callback: JSON = {"id": str(interaction.id), "type": interaction.type}
        resource: JSON = {"type": kind}
        if message is not None:
            callback |= {
                "response_message_id": str(message.id),
                "response_message_loading": message.loading,
                "response_message_ephemeral": message.ephemeral,
            }
            resource["message"] = message.to_payload()
        return json_response({"interaction": callback, "resource": resource})

    async def _apply_callback(
        self, interaction: FakeInteraction, kind: int, body: MessageBody
    ) -> StoredMessage | None:
        """Apply an accepted callback; returns the message it created or updated, if any."""
        if kind == AUTOCOMPLETE_RESULT:
            check_choices(list(body.payload.get("choices") or []))
            return None
        if kind == MODAL:
            return None
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            message = interaction.message
            if message is None:
                # A modal opened from a slash command has no message to update.
                raise DiscordAPIError(errors.UNKNOWN_MESSAGE)
            if kind == UPDATE_MESSAGE:
                self.state.edit_message(message, self._validated(body))
                await self.gateway.publish_message("MESSAGE_UPDATE", message)
        elif kind == CHANNEL_MESSAGE:
            message = self._interaction_message(interaction, self._validated(body))
            await self.gateway.publish_message("MESSAGE_CREATE", message)
        else:  # DEFERRED_CHANNEL_MESSAGE: an empty "is thinking..." message
            flags = LOADING | (int(body.payload.get("flags") or 0) & EPHEMERAL)
            message = self._interaction_message(
                interaction, MessageBody({}), extra_flags=flags, allow_empty=True
            )
            await self.gateway.publish_message("MESSAGE_CREATE", message)
        interaction.original = message
        if kind != DEFERRED_UPDATE_MESSAGE:
            interaction.answers.append(Answer(message, message.ephemeral, kind))
        return message

    def _interaction_message(
        self,
        interaction: FakeInteraction,
        body: MessageBody,
        *,
        extra_flags: int = 0,
        allow_empty: bool = False,
    ) -> StoredMessage:
        metadata: JSON = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": interaction.user.to_payload(),
            "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
        }
        if interaction.message is not None:
            metadata["interacted_message_id"] = str(interaction.message.id)
        return self.state.create_message(
            interaction.channel,
            self.state.bot_user,
            body,
            allowed_flags=INTERACTION_MESSAGE_FLAGS,
            extra_flags=extra_flags,
            webhook_id=self.state.application_id,
            interaction_metadata=metadata,
            message_type=20 if interaction.type == APPLICATION_COMMAND else 0,
            allow_empty=allow_empty,
        )

    # -- interaction webhooks (original response, followups) ------------------------------

    def _webhook_interaction(self, request: web.Request) -> FakeInteraction:
        interaction = self.state.interactions_by_token.get(request.match_info["interaction_token"])
        if interaction is None:
            raise DiscordAPIError(errors.INVALID_WEBHOOK_TOKEN)
        request[_INTERACTION_KEY] = interaction
        if interaction.token_expired:
            raise DiscordAPIError(errors.INVALID_WEBHOOK_TOKEN)
        if request.match_info["application_id"] != str(interaction.application_id):
            raise DiscordAPIError(errors.UNKNOWN_WEBHOOK)
        return interaction

    def _webhook_message(self, request: web.Request) -> tuple[FakeInteraction, StoredMessage]:
        interaction = self._webhook_interaction(request)
        raw_id = request.match_info["message_id"]
        if raw_id == "@original":
            message = interaction.original
        else:
            wanted = _snowflake(raw_id)
            owned = [interaction.original, *interaction.followups]
            message = next((m for m in owned if m is not None and m.id == wanted), None)
        if message is None or message.deleted:
            raise DiscordAPIError(errors.UNKNOWN_MESSAGE)
        return interaction, message

    async def get_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        return json_response(message.to_payload())

    async def patch_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        self.state.edit_message(message, self._validated(await read_body(request)))
        await self.gateway.publish_message("MESSAGE_UPDATE", message)
        return json_response(message.to_payload())

    async def delete_webhook_message(self, request: web.Request) -> web.Response:
        _, message = self._webhook_message(request)
        self.state.delete_message(message)
        await self.gateway.publish_message_delete(message)
        return web.Response(status=204)

    async def post_followup(self, request: web.Request) -> web.Response:
        """A followup; the first one after a deferred (type 5) response fills that message."""
        interaction = self._webhook_interaction(request)
        if not interaction.acknowledged:
            raise DiscordAPIError(errors.UNKNOWN_WEBHOOK)
        body = self._validated(await read_body(request))
        original = interaction.original
        if original is not None and original.loading and not interaction.followups:
            self.state.edit_message(original, body)
            message = original
            await self.gateway.publish_message("MESSAGE_UPDATE", message)
        else:
            message = self._interaction_message(interaction, body)
            await self.gateway.publish_message("MESSAGE_CREATE", message)
        interaction.followups.append(message)
        interaction.answers.append(Answer(message, message.ephemeral))
        self.state.changed()
        if request.query.get("wait") not in _TRUE:
            return web.Response(status=204)
        return json_response(message.to_payload())

    # -- CDN ------------------------------------------------------------------------------

    async def cdn(self, request: web.Request) -> web.Response:
        attachment = self.state.attachments.get(_snowflake(request.match_info["attachment_id"]))
        if attachment is None:
            raise DiscordAPIError(errors.NOT_FOUND)
        return web.Response(body=attachment.data, headers={"Content-Type": attachment.content_type})


def rate_limit_error(retry_after: float, *, is_global: bool) -> DiscordAPIError:
    """A 429 as Discord sends it; discord.py only retries 429s that carry a ``Via`` header."""
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": "fake-bucket",
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    message = "You are being rate limited."
    body: JSON = {"message": message, "retry_after": retry_after, "global": is_global}
    return DiscordAPIError(ErrorSpec(429, 0, message), headers=headers, body=body)


def _within_nonce_window(message: StoredMessage) -> bool:
    age = datetime.now(UTC) - message.created_at
    return age.total_seconds() < NONCE_WINDOW


def _snowflake(raw: str) -> int:
    if not raw.isdigit():
        raise DiscordAPIError(errors.INVALID_FORM_BODY)
    return int(raw)

"""A local OpenAI-compatible chat-completions endpoint, strict about what it is sent.

``async with FakeOpenAI(key="k") as fake:`` serves ``POST /v1/chat/completions`` on 127.0.0.1
(``fake.base_url`` ends in ``/v1``). Every request is recorded; a wrong key gets 401 and a body
without ``model`` or ``messages`` 400, like the real ones. ``fake.answer`` (a dict, or a function
of the request body returning one) is what the model "says"; ``fake.mode`` misbehaves on
purpose: ``"slow"`` (answers after ``delay`` seconds), ``"malformed"`` (content that is not
JSON), ``"refuse"`` (a refusal), ``"error"`` (HTTP 500), ``"garbage"`` (not a completion).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

Answer = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


class FakeOpenAI:
    def __init__(self, *, key: str = "sk-fake-test-key") -> None:
        self.key = key
        self.answer: Answer = {
            "kind": "chat",
            "media": None,
            "topic": None,
            "preference": None,
            "prompt": None,
        }
        self.mode = "ok"
        self.delay = 5.0
        self.requests: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._server = LoopbackServer(app)

    @property
    def base_url(self) -> str:
        return f"{self._server.base_url}/v1"

    async def __aenter__(self) -> Self:
        await self._server.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._server.stop()

    def said(self) -> dict[str, Any]:
        """The user message of the last request, decoded (what the bot told the model)."""
        content = self.requests[-1]["messages"][-1]["content"]
        decoded: dict[str, Any] = json.loads(content)
        return decoded

    async def _complete(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.key}":
            return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)
        body = await request.json()
        if not isinstance(body, dict) or "model" not in body or not body.get("messages"):
            return web.json_response({"error": {"message": "bad request"}}, status=400)
        self.requests.append(body)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        if self.mode == "error":
            return web.json_response({"error": {"message": "overloaded"}}, status=500)
        if self.mode == "garbage":
            return web.Response(text="<html>gateway</html>", content_type="text/html")
        answer = self.answer(body) if callable(self.answer) else self.answer
        message: dict[str, Any] = {"role": "assistant", "content": json.dumps(answer)}
        if self.mode == "malformed":
            message["content"] = "Sure! Here is what I think: it's a picture."
        if self.mode == "refuse":
            message = {"role": "assistant", "content": None, "refusal": "I can't help."}
        return web.json_response(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            }
        )

"""A plain-aiohttp client for the simulator tests, written from the protocol, not from core/."""

import asyncio
import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

API_KEY = "ima_test_key"
HEADERS = {"Authorization": f"Bearer {API_KEY}", "x-app-source": "ima_skills"}
UPLOAD_CONTENT = b"\x89PNG\r\n\x1a\n-an-uploaded-image"


def walk_leaves(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for node in nodes:
        if node.get("type") == "3":
            yield node
        yield from walk_leaves(node.get("children") or [])


def build_body(
    category: str,
    leaf: dict[str, Any],
    rule: dict[str, Any],
    *,
    prompt: str = "a red fox in the snow",
    n: int = 1,
    images: list[str] | None = None,
) -> dict[str, Any]:
    """A create body as the protocol notes describe it: form defaults, then the rule's values."""
    inner = {
        fc["field"]: fc["value"]
        for fc in leaf.get("form_config") or []
        if not fc.get("is_ui_virtual")
    }
    inner.update({k: v for k, v in rule["attributes"].items() if k != "default"})
    images = images or []
    inner.update(
        prompt=prompt,
        n=n,
        input_images=list(images),
        cast={"points": rule["points"], "attribute_id": rule["attribute_id"]},
    )
    return {
        "task_type": category,
        "enable_multi_model": False,
        "src_img_url": list(images),
        "parameters": [
            {
                "attribute_id": rule["attribute_id"],
                "model_id": leaf["model_id"],
                "model_name": leaf["name"],
                "model_version": leaf["id"],
                "app": "ima",
                "platform": "web",
                "category": category,
                "credit": rule["points"],
                "parameters": inner,
            }
        ],
    }


def token_query(
    key: str = API_KEY,
    *,
    content_type: str = "image/png",
    suffix: str = "png",
    now: float | None = None,
) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_urlsafe(16)[:21]
    raw = f"webAgent|32jdskjdk320eew|{timestamp}|{nonce}"
    return {
        "appUid": key,
        "appId": "webAgent",
        "appKey": "32jdskjdk320eew",
        "cmimToken": key,
        "sign": hashlib.sha1(raw.encode()).hexdigest().upper(),  # noqa: S324 - the protocol's
        "timestamp": timestamp,
        "nonce": nonce,
        "fService": "privite",
        "fType": "picture",
        "fSuffix": suffix,
        "fContentType": content_type,
    }


class Api:
    """Calls to one simulator; every method returns what the wire said."""

    def __init__(self, http: aiohttp.ClientSession, base_url: str) -> None:
        self.http = http
        self.base = base_url

    async def product_list(self, category: str, **query: str) -> tuple[int, dict[str, Any]]:
        params = {"app": "ima", "platform": "web", "category": category, **query}
        async with self.http.get(f"{self.base}/open/v1/product/list", params=params) as resp:
            return resp.status, await resp.json()

    async def leaves(self, category: str) -> list[dict[str, Any]]:
        status, payload = await self.product_list(category)
        assert (status, payload["code"]) == (200, 0)
        return list(walk_leaves(payload["data"]))

    async def valid_body(
        self, category: str, *, leaf: int = 0, rule: int = 0, **kwargs: Any
    ) -> dict[str, Any]:
        chosen = (await self.leaves(category))[leaf]
        return build_body(category, chosen, chosen["credit_rules"][rule], **kwargs)

    async def create(self, body: Any) -> tuple[int, dict[str, Any]]:
        async with self.http.post(f"{self.base}/open/v1/tasks/create", json=body) as resp:
            return resp.status, await resp.json()

    async def create_ok(self, body: Any) -> dict[str, Any]:
        status, payload = await self.create(body)
        assert (status, payload["code"]) == (200, 0), payload
        data: dict[str, Any] = payload["data"]
        return data

    async def detail(self, task_id: str) -> dict[str, Any]:
        async with self.http.post(
            f"{self.base}/open/v1/tasks/detail", json={"task_id": task_id}
        ) as resp:
            payload = await resp.json()
        assert (resp.status, payload["code"]) == (200, 0), payload
        data: dict[str, Any] = payload["data"]
        return data

    async def poll(self, task_id: str) -> dict[str, Any]:
        """Poll until every media is done, or one failed, was deleted or says "failed"."""
        async with asyncio.timeout(10):
            while True:
                data = await self.detail(task_id)
                medias = data["medias"]
                if all(m["resource_status"] == 1 for m in medias) or any(
                    m["resource_status"] in (2, 3) or m["status"] == "failed" for m in medias
                ):
                    return data
                await asyncio.sleep(0.01)

    async def upload_token(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        async with self.http.get(f"{self.base}/api/rest/oss/getuploadtoken", params=query) as r:
            return r.status, await r.json()

    async def upload(self, data: bytes = UPLOAD_CONTENT, content_type: str = "image/png") -> str:
        """The full upload flow; returns the CDN URL."""
        status, payload = await self.upload_token(token_query(content_type=content_type))
        assert (status, payload["code"]) == (200, 0), payload
        async with aiohttp.ClientSession() as bare:  # presigned: no API headers
            headers = {"Content-Type": content_type}
            async with bare.put(payload["data"]["ful"], data=data, headers=headers) as resp:
                assert resp.status == 200, await resp.text()
        fdl: str = payload["data"]["fdl"]
        return fdl

    async def fetch(self, url: str) -> tuple[int, str, bytes]:
        async with self.http.get(url) as resp:
            return resp.status, resp.content_type, await resp.read()


class FakeClock:
    """An injectable clock that moves only when told to."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

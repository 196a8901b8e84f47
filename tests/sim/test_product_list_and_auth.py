import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sim.app import RunningSimulator, start_simulator
from tests.sim.helpers import HEADERS, Api, build_body, token_query, walk_leaves

FIXTURES = Path(__file__).parents[2] / "sim" / "fixtures"
TASK_TYPES = [
    "text_to_image",
    "image_to_image",
    "text_to_video",
    "image_to_video",
    "first_last_frame_to_video",
    "reference_image_to_video",
    "text_to_music",
]


def fixture_leaves(category: str) -> list[dict[str, Any]]:
    payload = json.loads((FIXTURES / f"product_list.{category}.json").read_text())
    return list(walk_leaves(payload["data"]))


@pytest.mark.parametrize("category", TASK_TYPES)
async def test_product_list_serves_the_fixture_tree(api: Api, category: str) -> None:
    status, payload = await api.product_list(category)

    assert (status, payload["code"], payload["message"]) == (200, 0, "success")
    groups = payload["data"]
    assert groups
    assert all(group["type"] == "2" and group["children"] for group in groups)
    assert list(walk_leaves(groups)) == fixture_leaves(category)


async def test_product_list_counts_calls_per_category(sim: RunningSimulator, api: Api) -> None:
    for _ in range(3):
        await api.product_list("text_to_video")
    await api.product_list("text_to_music", app="webAgent")

    assert sim.state.product_list_calls("text_to_video") == 3
    assert sim.state.product_list_calls("text_to_music") == 1
    assert sim.state.product_list_calls("text_to_image") == 0
    assert len(sim.state.calls("product_list")) == 4


@pytest.mark.parametrize(
    "query",
    [{"category": "text_to_everything"}, {"app": "other"}, {"platform": "ios"}],
)
async def test_product_list_rejects_bad_queries(api: Api, query: dict[str, str]) -> None:
    category = query.pop("category", "text_to_image")

    status, payload = await api.product_list(category, **query)

    assert (status, payload["code"], payload["data"]) == (200, 400, None)


@pytest.mark.parametrize(
    "headers",
    [
        {"x-app-source": "ima_skills"},
        {"Authorization": "Bearer sk-not-an-ima-key", "x-app-source": "ima_skills"},
        {"Authorization": "ima_test_key", "x-app-source": "ima_skills"},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/open/v1/product/list?app=ima&platform=web&category=text_to_image"),
        ("POST", "/open/v1/tasks/create"),
        ("POST", "/open/v1/tasks/detail"),
    ],
)
async def test_bad_api_key_is_http_401(
    sim: RunningSimulator, headers: dict[str, str], method: str, path: str
) -> None:
    async with (
        aiohttp.ClientSession(headers=headers) as http,
        http.request(method, sim.base_url + path, json={}) as resp,
    ):
        assert resp.status == 401
        assert await resp.json() == {"code": 401, "message": "unauthorized", "data": None}


async def test_configured_api_key_is_the_only_one_accepted() -> None:
    async with await start_simulator(api_key="ima_the_right_one") as sim:
        for key, expected in (("ima_test_key", 401), ("ima_the_right_one", 200)):
            headers = {**HEADERS, "Authorization": f"Bearer {key}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                status, _ = await Api(http, sim.base_url).product_list("text_to_image")
            assert status == expected


async def test_missing_app_source_header_is_code_400(sim: RunningSimulator) -> None:
    async with aiohttp.ClientSession(headers={"Authorization": HEADERS["Authorization"]}) as http:
        status, payload = await Api(http, sim.base_url).product_list("text_to_image")

    assert (status, payload["code"]) == (200, 400)


async def test_perturbation_shifts_ids_and_points_so_spec_values_fail(
    http: aiohttp.ClientSession,
) -> None:
    async with await start_simulator(attribute_id_offset=1000, points_offset=3) as sim:
        api = Api(http, sim.base_url)
        served = await api.leaves("text_to_video")
        recorded = fixture_leaves("text_to_video")
        for got, original in zip(served, recorded, strict=True):
            for rule, old in zip(got["credit_rules"], original["credit_rules"], strict=True):
                assert rule["attribute_id"] == old["attribute_id"] + 1000
                assert rule["points"] == old["points"] + 3

        stale = build_body("text_to_video", recorded[0], recorded[0]["credit_rules"][0])
        _, payload = await api.create(stale)
        assert (payload["code"], payload["message"]) == (400, "Invalid product attribute")

        current = build_body("text_to_video", served[0], served[0]["credit_rules"][0])
        await api.create_ok(current)


async def test_public_url_is_advertised(http: aiohttp.ClientSession) -> None:
    async with await start_simulator(public_url="http://sim.example:9000/") as sim:
        assert sim.base_url == "http://sim.example:9000"
        _, payload = await Api(http, f"http://127.0.0.1:{sim.port}").upload_token(token_query())
        assert payload["data"]["fdl"].startswith("http://sim.example:9000/cdn/")

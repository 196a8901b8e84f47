"""Each way a create body can be wrong gets the code the real gateway answers."""

import copy
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from sim.app import RunningSimulator, start_simulator
from tests.sim.helpers import Api, build_body

Body = dict[str, Any]


def entry(body: Body) -> dict[str, Any]:
    result: dict[str, Any] = body["parameters"][0]
    return result


def inner(body: Body) -> dict[str, Any]:
    result: dict[str, Any] = entry(body)["parameters"]
    return result


def set_images(body: Body, urls: list[str]) -> None:
    body["src_img_url"] = list(urls)
    inner(body)["input_images"] = list(urls)


async def assert_refused(api: Api, body: Body, code: int, message: str | None = None) -> None:
    status, payload = await api.create(body)
    assert (status, payload["code"], payload["data"]) == (200, code, None), payload
    if message is not None:
        assert payload["message"] == message


async def test_wrong_credit_is_6006(sim: RunningSimulator, api: Api) -> None:
    body = await api.valid_body("text_to_image")
    entry(body)["credit"] += 1

    await assert_refused(api, body, 6006)
    assert sim.state.tasks == {}


async def test_params_of_another_rule_are_6010(api: Api) -> None:
    # Rule 0's id, credit and cast, but rule 1's parameter values (a different duration).
    body = await api.valid_body("text_to_video", rule=0)
    other = await api.valid_body("text_to_video", rule=2)
    entry(body)["parameters"].update(
        {k: v for k, v in inner(other).items() if k not in ("cast", "prompt")}
    )

    await assert_refused(api, body, 6010, "Attribute ID does not match the calculated rule")


async def test_params_matching_no_rule_are_6009(api: Api) -> None:
    body = await api.valid_body("text_to_video")
    inner(body)["duration"] = 7  # no Seedance 2.0 fast rule lasts 7 s

    await assert_refused(api, body, 6009, "No exact rule match found")


async def test_rule_values_compare_normalised(api: Api) -> None:
    body = await api.valid_body("text_to_video")
    inner(body)["duration"] = " 5 "
    inner(body)["resolution"] = "480P"

    await api.create_ok(body)


def _attribute(value: object) -> Callable[[Body], None]:
    def mutate(body: Body) -> None:
        if value is None:
            del entry(body)["attribute_id"]
        else:
            entry(body)["attribute_id"] = value

    return mutate


def _del_inner(key: str) -> Callable[[Body], None]:
    return lambda body: inner(body).pop(key)


def _set_inner(key: str, value: object) -> Callable[[Body], None]:
    return lambda body: inner(body).update({key: value})


def _set_entry(key: str, value: object) -> Callable[[Body], None]:
    return lambda body: entry(body).update({key: value})


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_attribute(0), "Invalid product attribute"),
        (_attribute(None), "Invalid product attribute"),
        (_attribute("4400"), "Invalid product attribute"),
        (_attribute(2399), "Invalid product attribute"),  # another leaf's rule
        (_set_entry("model_version", "gemini-9"), "Invalid product attribute"),
        (_set_entry("model_id", "doubao-seedream-4.5"), "Invalid product attribute"),
        (_set_entry("category", "text_to_video"), None),
        (_set_entry("app", "discord"), None),
        (_set_entry("platform", "ios"), None),
        (_set_inner("cast", {"points": 1, "attribute_id": 4400}), None),
        (_del_inner("cast"), None),
        (_set_inner("prompt", "   "), None),
        (_del_inner("prompt"), None),
        (_set_inner("n", 0), None),
        (_set_inner("n", 5), None),
        (_set_inner("n", "1"), None),
        (lambda body: body.update(task_type="text_to_speech"), None),
        (lambda body: body["parameters"].append(copy.deepcopy(entry(body))), None),
    ],
)
async def test_malformed_create_is_code_400(
    sim: RunningSimulator, api: Api, mutate: Callable[[Body], None], message: str | None
) -> None:
    body = await api.valid_body("text_to_image")
    mutate(body)

    await assert_refused(api, body, 400, message)
    assert sim.state.tasks == {}
    assert sim.state.ledger == []


@pytest.mark.parametrize(
    ("category", "count"),
    [
        ("text_to_image", 1),
        ("text_to_music", 1),
        ("image_to_image", 0),
        ("image_to_video", 0),
        ("first_last_frame_to_video", 1),
        ("first_last_frame_to_video", 3),
        ("reference_image_to_video", 0),
    ],
)
async def test_wrong_image_count_is_400(api: Api, category: str, count: int) -> None:
    urls = [await api.upload() for _ in range(count)]
    body = await api.valid_body(category, images=urls)

    await assert_refused(api, body, 400)


async def test_image_lists_must_agree(api: Api) -> None:
    first, second = await api.upload(), await api.upload()
    body = await api.valid_body("image_to_image", images=[first])
    inner(body)["input_images"] = [second]

    await assert_refused(api, body, 400)


@pytest.mark.parametrize("url", ["ftp://example.com/cat.png", "/tmp/cat.png", "cat.png"])
async def test_image_urls_must_be_http(api: Api, url: str) -> None:
    body = await api.valid_body("image_to_image", images=[url])

    await assert_refused(api, body, 400)


async def test_never_uploaded_cdn_url_is_400_and_outside_urls_are_trusted(
    sim: RunningSimulator, api: Api
) -> None:
    uploaded = await api.upload()
    missing = f"{sim.base_url}/cdn/webAgent/privite/2026/01/01/never-uploaded.png"

    await assert_refused(api, await api.valid_body("image_to_image", images=[missing]), 400)
    await api.create_ok(
        await api.valid_body("image_to_image", images=[uploaded, "https://example.com/a.jpg"])
    )


async def test_missing_image_lists_count_as_empty(api: Api) -> None:
    body = await api.valid_body("text_to_image")
    del body["src_img_url"]
    del inner(body)["input_images"]

    await api.create_ok(body)


async def test_insufficient_points_is_4008_and_charges_nothing(
    http: aiohttp.ClientSession,
) -> None:
    async with await start_simulator(balance=20) as sim:
        api = Api(http, sim.base_url)
        leaf = (await api.leaves("text_to_image"))[0]
        rule = max(leaf["credit_rules"], key=lambda r: r["points"])
        assert rule["points"] * 2 > 20

        status, payload = await api.create(build_body("text_to_image", leaf, rule, n=2))

        assert (status, payload["code"], payload["message"]) == (200, 4008, "Insufficient points")
        assert (sim.state.balance, sim.state.tasks, sim.state.ledger) == (20, {}, [])


async def test_n_2_makes_two_media_and_charges_twice(sim: RunningSimulator, api: Api) -> None:
    body = await api.valid_body("text_to_image", rule=1, n=2)
    points = entry(body)["credit"]
    before = sim.state.balance

    created = await api.create_ok(body)
    done = await api.poll(created["id"])

    assert created["generate_count"] == 2
    assert [m["resource_status"] for m in done["medias"]] == [1, 1]
    assert done["medias"][0]["url"] != done["medias"][1]["url"]
    assert sim.state.balance == before - 2 * points
    assert [(e.task_id, e.points) for e in sim.state.ledger] == [(created["id"], points)] * 2
    assert sim.state.tasks[created["id"]].request == body
    assert [r.body for r in sim.state.calls("create")] == [body]


async def test_invalid_json_body_is_400(sim: RunningSimulator, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{sim.base_url}/open/v1/tasks/create", data=b"{not json") as resp:
        assert (resp.status, (await resp.json())["code"]) == (200, 400)

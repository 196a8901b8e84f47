"""Every fault kind, selected by prompt directive, by queue, or by seeded random rate."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from sim.app import RunningSimulator, start_simulator
from tests.sim.helpers import HEADERS, Api, FakeClock

ERROR_STATUS = {
    "401": 401,
    "4008": 200,
    "4014": 200,
    "6006": 200,
    "6009": 200,
    "6010": 200,
    "429": 429,
    "500": 500,
    "503": 503,
}


async def finished_with(api: Api, fault: str) -> list[dict[str, Any]]:
    body = await api.valid_body("text_to_image", prompt=f"a cat [[sim:{fault}]]")
    created = await api.create_ok(body)
    medias: list[dict[str, Any]] = (await api.poll(created["id"]))["medias"]
    return medias


async def test_rs2_fails_through_resource_status_only(api: Api) -> None:
    (media,) = await finished_with(api, "rs2")

    assert (media["resource_status"], media["status"], media["url"]) == (2, "processing", "")
    assert media["error_msg"]


async def test_rs3_is_deleted(api: Api) -> None:
    (media,) = await finished_with(api, "rs3")

    assert (media["resource_status"], media["url"]) == (3, "")


async def test_failed_status_wins_over_resource_status_1(api: Api) -> None:
    (media,) = await finished_with(api, "failed")

    assert (media["resource_status"], media["status"]) == (1, "failed")
    assert media["url"]
    assert media["error_msg"]


async def test_moderation(api: Api) -> None:
    (media,) = await finished_with(api, "moderation")

    assert media["status"] == "failed"
    assert "sensitive" in media["error_msg"]


async def fake_clock_task(
    http: aiohttp.ClientSession, clock: FakeClock, prompt: str, n: int = 1
) -> tuple[Api, RunningSimulator, str]:
    sim = await start_simulator(clock=clock, seed=5)
    api = Api(http, sim.base_url)
    created = await api.create_ok(await api.valid_body("text_to_image", prompt=prompt, n=n))
    return api, sim, created["id"]


async def test_outcome_faults_hit_the_last_of_n_media(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    api, sim, task_id = await fake_clock_task(http, clock, "cats [[sim:rs2]]", n=2)
    async with sim:
        clock.advance(60)
        first, second = (await api.detail(task_id))["medias"]
        assert (first["resource_status"], second["resource_status"]) == (1, 2)


async def test_null_keeps_resource_status_null_until_done(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    api, sim, task_id = await fake_clock_task(http, clock, "a cat [[sim:null]]")
    async with sim:
        seconds = sim.state.tasks[task_id].medias[0].seconds
        for _ in range(4):
            clock.advance(seconds / 5)
            media = (await api.detail(task_id))["medias"][0]
            assert media["resource_status"] is None
        clock.advance(seconds)
        assert (await api.detail(task_id))["medias"][0]["resource_status"] == 1


async def test_partial_leaves_one_media_far_behind(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    api, sim, task_id = await fake_clock_task(http, clock, "cats [[sim:partial]]", n=3)
    async with sim:
        clock.advance(40)  # Nano Banana 2 says 20~35 s
        statuses = [m["resource_status"] for m in (await api.detail(task_id))["medias"]]
        assert statuses[:2] == [1, 1]
        assert statuses[2] in (0, None)
        clock.advance(200)
        statuses = [m["resource_status"] for m in (await api.detail(task_id))["medias"]]
        assert statuses == [1, 1, 1]


async def test_timeout_never_finishes(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    api, sim, task_id = await fake_clock_task(http, clock, "a cat [[sim:timeout]]")
    async with sim:
        data = await api.detail(task_id)
        clock.now = data["timeout_at"] / 1000 + 3600
        media = (await api.detail(task_id))["medias"][0]
        assert (media["resource_status"] in (0, None), media["status"]) == (True, "processing")


@pytest.mark.parametrize("fault", list(ERROR_STATUS))
async def test_error_directive_refuses_the_create(
    sim: RunningSimulator, api: Api, fault: str
) -> None:
    body = await api.valid_body("text_to_image", prompt=f"a cat [[sim:{fault}]]")

    status, payload = await api.create(body)

    assert (status, payload["code"], payload["data"]) == (ERROR_STATUS[fault], int(fault), None)
    assert (sim.state.tasks, sim.state.ledger) == ({}, [])


@pytest.mark.parametrize("fault", ["429", "500", "503", "401"])
async def test_queued_fault_hits_the_next_calls_then_stops(
    sim: RunningSimulator, api: Api, fault: str
) -> None:
    sim.state.faults.push("product_list", fault, times=2)
    sim.state.faults.push("product_list", "4014")

    results = [await api.product_list("text_to_image") for _ in range(4)]

    assert [(s, p["code"]) for s, p in results] == [
        (ERROR_STATUS[fault], int(fault)),
        (ERROR_STATUS[fault], int(fault)),
        (200, 4014),
        (200, 0),
    ]
    assert sim.state.faults.applied == [("product_list", fault)] * 2 + [("product_list", "4014")]


async def test_queued_faults_on_detail_and_upload_token(sim: RunningSimulator, api: Api) -> None:
    created = await api.create_ok(await api.valid_body("text_to_image"))
    sim.state.faults.push("detail", "503")
    sim.state.faults.push("upload_token", "500")

    async with api.http.post(
        f"{sim.base_url}/open/v1/tasks/detail", json={"task_id": created["id"]}
    ) as resp:
        assert (resp.status, (await resp.json())["code"]) == (503, 503)
    status, payload = await api.upload_token({})
    assert (status, payload["code"]) == (500, 500)
    await api.poll(created["id"])


async def test_storage_routes_answer_faults_with_plain_statuses(
    sim: RunningSimulator, api: Api
) -> None:
    fdl = await api.upload()
    sim.state.faults.push("cdn", "503")
    sim.state.faults.push("cdn", "4014")

    assert (await api.fetch(fdl))[0] == 503
    assert (await api.fetch(fdl))[0] == 400
    assert (await api.fetch(fdl))[0] == 200


async def test_slow_delays_the_reply(sim: RunningSimulator, api: Api) -> None:
    loop = asyncio.get_running_loop()
    sim.state.faults.push("product_list", "slow")

    started = loop.time()
    status, payload = await api.product_list("text_to_image")

    assert loop.time() - started >= 0.3
    assert (status, payload["code"]) == (200, 0)
    body = await api.valid_body("text_to_image", prompt="a cat [[sim:slow]]")
    with pytest.raises(asyncio.TimeoutError):
        async with api.http.post(
            f"{sim.base_url}/open/v1/tasks/create",
            json=body,
            timeout=aiohttp.ClientTimeout(total=0.1),
        ):
            pass


async def test_reset_drops_a_create_that_still_took_effect(sim: RunningSimulator, api: Api) -> None:
    body = await api.valid_body("text_to_image", prompt="a cat [[sim:reset]]")

    with pytest.raises(aiohttp.ClientConnectionError):
        await api.create(body)

    (task,) = sim.state.tasks.values()
    assert [e.task_id for e in sim.state.ledger] == [task.id]


@pytest.mark.parametrize("endpoint", ["product_list", "detail", "upload_put", "media"])
async def test_reset_on_other_endpoints(sim: RunningSimulator, api: Api, endpoint: str) -> None:
    created = await api.create_ok(await api.valid_body("text_to_image"))
    url = (await api.poll(created["id"]))["medias"][0]["url"]
    # aiohttp retries an idempotent request (GET, PUT) once after a disconnect.
    retried = endpoint != "detail"
    sim.state.faults.push(endpoint, "reset", times=2 if retried else 1)
    calls_before = len(sim.state.calls(endpoint))

    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "product_list": lambda: api.product_list("text_to_image"),
        "detail": lambda: api.detail(created["id"]),
        "upload_put": api.upload,
        "media": lambda: api.fetch(url),
    }

    with pytest.raises(aiohttp.ClientConnectionError):
        await calls[endpoint]()

    assert len(sim.state.calls(endpoint)) - calls_before == (2 if retried else 1)


async def test_unknown_directive_is_400(api: Api) -> None:
    body = await api.valid_body("text_to_image", prompt="a cat [[sim:explode]]")

    status, payload = await api.create(body)

    assert (status, payload["code"]) == (200, 400)
    assert "explode" in payload["message"]


def test_push_and_rates_are_validated(sim: RunningSimulator) -> None:
    faults = sim.state.faults
    with pytest.raises(ValueError, match="only applies to create"):
        faults.push("detail", "rs2")
    with pytest.raises(ValueError, match="unknown simulator fault"):
        faults.push("create", "explode")
    with pytest.raises(ValueError, match="unknown simulator endpoint"):
        faults.push("billing", "500")
    with pytest.raises(ValueError, match="more than 1"):
        faults.rates = {"detail": {"500": 0.7, "429": 0.5}}


async def test_clear_forgets_queued_faults_and_rates(sim: RunningSimulator, api: Api) -> None:
    sim.state.faults.push("product_list", "500", times=3)
    sim.state.faults.rates = {"product_list": {"429": 1.0}}

    sim.state.faults.clear()

    assert (await api.product_list("text_to_image"))[0] == 200


async def random_outcomes(seed: int) -> list[int]:
    async with (
        await start_simulator(seed=seed) as sim,
        aiohttp.ClientSession(headers=HEADERS) as http,
    ):
        sim.state.faults.rates = {"product_list": {"429": 0.3, "500": 0.2}}
        api = Api(http, sim.base_url)
        return [(await api.product_list("text_to_image"))[0] for _ in range(40)]


async def test_random_rates_are_seeded(sim: RunningSimulator) -> None:
    first, again, other = (
        await random_outcomes(11),
        await random_outcomes(11),
        await random_outcomes(12),
    )

    assert first == again
    assert first != other
    assert set(first) == {200, 429, 500}
    assert 5 <= first.count(429) <= 20


async def test_random_task_faults_on_create(sim: RunningSimulator, api: Api) -> None:
    sim.state.faults.rates = {"create": {"rs3": 1.0}}

    created = await api.create_ok(await api.valid_body("text_to_image"))
    (media,) = (await api.poll(created["id"]))["medias"]

    assert media["resource_status"] == 3
    assert ("create", "rs3") in sim.state.faults.applied

"""The upload service: signed token, presigned PUT, CDN download."""

import logging
import time
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import aiohttp
import pytest

from sim.app import RunningSimulator, start_simulator
from tests.sim.helpers import Api, FakeClock, token_query


async def test_token_put_and_cdn_round_trip(sim: RunningSimulator, api: Api) -> None:
    data = b"\xff\xd8\xff\xe0 a small jpeg"

    fdl = await api.upload(data, "image/jpeg")

    assert fdl.startswith(f"{sim.base_url}/cdn/webAgent/privite/")
    assert "ima_test_key" not in fdl
    assert await api.fetch(fdl) == (200, "image/jpeg", data)
    assert len(sim.state.calls("upload_put")) == 1


async def test_token_reply_shape(sim: RunningSimulator, api: Api) -> None:
    status, payload = await api.upload_token(token_query(content_type="video/mp4", suffix="mp4"))

    assert (status, payload["code"]) == (200, 0)
    token = payload["data"]
    assert token["ful"].startswith(f"{sim.base_url}/oss/")
    assert {"Expires", "Signature"} <= dict(parse_qsl(urlsplit(token["ful"]).query)).keys()
    assert token["fdl"].endswith(".mp4")
    assert token["fdl"].endswith(token["fdl_key"])
    assert token["ful_expire"] > time.time()


@pytest.mark.parametrize(
    "change",
    [
        {"sign": "0" * 40},
        {"sign": token_query()["sign"].lower()},
        {"appKey": "another-key"},
        {"cmimToken": "ima_someone_else"},
        {"appUid": "sk-not-ima", "cmimToken": "sk-not-ima"},
    ],
)
async def test_bad_credentials_are_401(api: Api, change: dict[str, str]) -> None:
    status, payload = await api.upload_token({**token_query(), **change})

    assert (status, payload["code"], payload["data"]) == (401, 401, None)


@pytest.mark.parametrize("now", [time.time() * 1000, time.time() - 3600])
async def test_correctly_signed_stale_or_millisecond_timestamp_is_401(api: Api, now: float) -> None:
    status, payload = await api.upload_token(token_query(now=now))

    assert (status, payload["code"]) == (401, 401)


@pytest.mark.parametrize(
    "change", [{"fType": "document"}, {"fService": "public"}, {"fSuffix": "../png"}]
)
async def test_bad_file_params_are_400(api: Api, change: dict[str, str]) -> None:
    status, payload = await api.upload_token({**token_query(), **change})

    assert (status, payload["code"]) == (200, 400)


async def test_missing_param_is_400(api: Api) -> None:
    query = token_query()
    del query["nonce"]

    status, payload = await api.upload_token(query)

    assert (status, payload["code"]) == (200, 400)


async def put(url: str, data: bytes, content_type: str) -> int:
    async with (
        aiohttp.ClientSession() as bare,
        bare.put(url, data=data, headers={"Content-Type": content_type}) as resp,
    ):
        return resp.status


async def test_put_checks_content_type_signature_and_key(api: Api) -> None:
    _, payload = await api.upload_token(token_query(content_type="image/png"))
    ful = payload["data"]["ful"]
    parts = urlsplit(ful)
    query = dict(parse_qsl(parts.query))
    forged = urlunsplit(parts._replace(query=f"Expires={query['Expires']}&Signature=AAAA"))
    other_key = ful.replace(payload["data"]["fdl_key"], "webAgent/privite/other.png")

    assert await put(ful, b"data", "image/jpeg") == 403
    assert await put(forged, b"data", "image/png") == 403
    assert await put(other_key, b"data", "image/png") == 403
    assert (await api.fetch(payload["data"]["fdl"]))[0] == 404
    assert await put(ful, b"data", "image/png") == 200


async def test_put_after_expiry_is_403(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with await start_simulator(clock=clock) as sim:
        api = Api(http, sim.base_url)
        _, payload = await api.upload_token(token_query(now=clock.now))
        clock.advance(8 * 24 * 3600)

        assert await put(payload["data"]["ful"], b"late", "image/png") == 403


async def test_access_log_leaves_the_api_key_out(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    await api.upload()

    assert "getuploadtoken" in caplog.text
    assert "ima_test_key" not in caplog.text

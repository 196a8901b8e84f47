"""The simulator's HTTP service: IMA Open API, upload service and CDN on one host and port.

Routes (endpoint names, used by fault injection and ``SimState.calls``, in brackets):

- ``GET  /open/v1/product/list`` [product_list], ``POST /open/v1/tasks/create`` [create],
  ``POST /open/v1/tasks/detail`` [detail]: bearer key and ``x-app-source`` required.
- ``GET  /api/rest/oss/getuploadtoken`` [upload_token], ``PUT /oss/{key}`` [upload_put],
  ``GET  /cdn/{key}`` [cdn]: the upload flow and the files it stored.
- ``GET  /results/{task_id}/{index}.{ext}`` and ``.../{index}/cover.png`` [media]: results.
"""

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Self, Unpack

from aiohttp import hdrs, web
from aiohttp.abc import AbstractAccessLogger

from sim.errors import ApiError, success
from sim.faults import ENDPOINTS, ERROR_FAULTS, directives_in
from sim.media import COVER_CONTENT_TYPE, SPECS, cover_bytes, result_bytes
from sim.state import RecordedRequest, SimOptions, SimState
from sim.task_types import MediaKind
from sim.validation import validate_create

log = logging.getLogger(__name__)

DEFAULT_PORT = 8765
STATE = web.AppKey("sim_state", SimState)
_FAULTS: web.RequestKey[list[str]] = web.RequestKey("sim_faults")
_BODY: web.RequestKey[Any] = web.RequestKey("sim_body")
_RESULT_FILE = re.compile(r"(?P<index>\d+)(?:\.(?P<ext>\w+)|/(?P<cover>cover)\.png)")
_RAW_ENDPOINTS = frozenset({"upload_put", "cdn", "media"})  # storage routes: no JSON envelope
_MAX_UPLOAD_BYTES = 64 * 1024 * 1024
_SHUTDOWN_SECONDS = 1.0  # do not wait long for requests held by the ``slow`` fault

_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(state: SimState) -> web.Application:
    """The aiohttp application. ``state.base_url`` must be set before it serves requests."""
    app = web.Application(
        middlewares=[_faults_and_errors, _api_guard], client_max_size=_MAX_UPLOAD_BYTES
    )
    app[STATE] = state
    app.router.add_get("/open/v1/product/list", _product_list, name="product_list")
    app.router.add_post("/open/v1/tasks/create", _create, name="create")
    app.router.add_post("/open/v1/tasks/detail", _detail, name="detail")
    app.router.add_get("/api/rest/oss/getuploadtoken", _upload_token, name="upload_token")
    app.router.add_put("/oss/{key:.+}", _upload_put, name="upload_put")
    app.router.add_get("/cdn/{key:.+}", _cdn, name="cdn")
    app.router.add_get("/results/{task_id}/{file:.+}", _result, name="media")
    return app


class RunningSimulator:
    """A simulator serving in this process; use as ``async with await start_simulator() as sim``."""

    def __init__(self, state: SimState, runner: web.AppRunner, port: int) -> None:
        self.state = state
        self.port = port
        """The bound port (useful when ``public_url`` advertises another address)."""
        self._runner = runner

    @property
    def base_url(self) -> str:
        return self.state.base_url

    async def close(self) -> None:
        await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


async def start_simulator(
    host: str = "127.0.0.1", port: int = 0, **options: Unpack[SimOptions]
) -> RunningSimulator:
    """Start serving on ``host:port`` (port 0 picks a free one); options: see ``SimOptions``."""
    state = SimState(**options)
    runner = web.AppRunner(
        create_app(state), access_log_class=_AccessLogger, shutdown_timeout=_SHUTDOWN_SECONDS
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    state.base_url = state.public_url or f"http://{_url_host(host)}:{bound_port}"
    return RunningSimulator(state, runner, bound_port)


async def serve(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, **options: Unpack[SimOptions]
) -> None:
    """Serve until cancelled (what ``ima-bot sim`` runs).

    Options (all optional, see ``sim.state.SimOptions``): ``api_key`` (accept only this key;
    default any ``ima_…`` key), ``speed`` (factor on generation times, default 1.0),
    ``balance`` (credits, default 1,000,000), ``attribute_id_offset`` and ``points_offset``
    (shift catalog values), ``seed``, ``slow_seconds`` (delay of the ``slow`` fault, default 5),
    ``public_url`` (base URL to advertise when clients reach the simulator by another address).
    Faults are chosen with ``[[sim:<fault>]]`` in a prompt; see ``sim.faults``.
    """
    async with await start_simulator(host, port, **options) as sim:
        log.info("IMA simulator serving on %s", sim.base_url)
        await asyncio.Event().wait()


class _AccessLogger(AbstractAccessLogger):
    """Logs paths without query strings: the upload-token query carries the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s -> %s in %.3fs", request.method, request.path, response.status, time
        )


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising a wildcard, not binding one
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


# ---- middlewares -------------------------------------------------------------------------------


@web.middleware
async def _faults_and_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Log the request, apply its faults, and turn ApiError into the service's error reply."""
    state = request.app[STATE]
    endpoint = request.match_info.route.name
    faults: list[str] = []
    try:
        if endpoint in ENDPOINTS:
            raw = None
            if request.method == hdrs.METH_POST:
                raw = (await request.read()).decode("utf-8", "replace")
            body = _parse_json(raw)
            request[_BODY] = body
            state.requests.append(
                RecordedRequest(endpoint, request.method, request.path, dict(request.query), body)
            )
            directives = directives_in(raw) if endpoint == "create" and raw else []
            try:
                faults = state.faults.draw(endpoint, directives)
            except ValueError as exc:
                raise ApiError(400, str(exc)) from None
            request[_FAULTS] = faults
            if "slow" in faults:
                await asyncio.sleep(state.faults.slow_seconds)
            error = next((ERROR_FAULTS[f] for f in faults if f in ERROR_FAULTS), None)
            if error is not None:
                raise ApiError(error)
        response = await handler(request)
    except ApiError as err:
        response = _refusal(endpoint, err)
    if "reset" in faults and request.transport is not None:
        # After the handler ran: the request took effect, only its reply is lost.
        request.transport.abort()
    return response


@web.middleware
async def _api_guard(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """The Open API gateway's header checks: bearer API key, then ``x-app-source``."""
    if request.path.startswith("/open/v1/"):
        scheme, _, key = request.headers.get(hdrs.AUTHORIZATION, "").partition(" ")
        if scheme.lower() != "bearer" or not request.app[STATE].accepts_key(key.strip()):
            raise ApiError(401)
        if request.headers.get("x-app-source") != "ima_skills":
            raise ApiError(400, "missing or invalid x-app-source header")
    return await handler(request)


def _refusal(endpoint: str | None, err: ApiError) -> web.Response:
    if endpoint in _RAW_ENDPOINTS:
        return web.Response(status=err.raw_http_status, text=err.message)
    return err.to_envelope()


def _parse_json(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


# ---- handlers ----------------------------------------------------------------------------------


async def _product_list(request: web.Request) -> web.Response:
    query = request.query
    if query.get("app") not in ("ima", "webAgent") or query.get("platform") != "web":
        raise ApiError(400, "invalid app or platform")
    body = request.app[STATE].catalog.response_body(query.get("category", ""))
    if body is None:
        raise ApiError(400, f"unknown category {query.get('category')!r}")
    return web.Response(body=body, content_type="application/json")


async def _create(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = request[_BODY]
    valid = validate_create(body, state.catalog, state.image_url_ok)
    return success(state.create_task(valid, request[_FAULTS], body).summary())


async def _detail(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = request[_BODY]
    task_id = body.get("task_id") if isinstance(body, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise ApiError(400, "task_id is required")
    task = state.tasks.get(task_id)
    if task is None:
        raise ApiError(404, "task not found")
    return success(state.detail(task))


async def _upload_token(request: web.Request) -> web.Response:
    state = request.app[STATE]
    token = state.uploads.issue_token(
        request.query, state.clock(), state.base_url, state.accepts_key
    )
    return success(token)


async def _upload_put(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.uploads.accept_put(
        request.match_info["key"],
        request.query,
        request.headers.get(hdrs.CONTENT_TYPE, ""),
        await request.read(),
        state.clock(),
    )
    return web.Response()


async def _cdn(request: web.Request) -> web.Response:
    stored = request.app[STATE].uploads.files.get(request.match_info["key"])
    if stored is None:
        raise ApiError(404)
    return web.Response(body=stored.data, headers={hdrs.CONTENT_TYPE: stored.content_type})


async def _result(request: web.Request) -> web.Response:
    """A result file (``{index}.{ext}``) or a video's cover (``{index}/cover.png``)."""
    state = request.app[STATE]
    task = state.tasks.get(request.match_info["task_id"])
    match = _RESULT_FILE.fullmatch(request.match_info["file"])
    if task is None or match is None:
        raise ApiError(404)
    index = int(match["index"])
    if not task.settled_with_file(index, state.clock()):
        raise ApiError(404)
    text = f"{task.prompt}#{index}"
    if match["cover"]:
        if task.kind is not MediaKind.VIDEO:
            raise ApiError(404)
        return web.Response(body=cover_bytes(f"{text}:cover"), content_type=COVER_CONTENT_TYPE)
    spec = SPECS[task.kind]
    if match["ext"] != spec.extension:
        raise ApiError(404)
    return web.Response(body=result_bytes(task.kind, text), content_type=spec.content_type)

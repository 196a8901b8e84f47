"""The IMA flow: product list → credit rule → (upload) → create → poll.

``IMAClient`` keeps one cached catalog per category, builds create bodies for all seven task
types, retries what is safe to retry and nothing else:

* polls are read-only, so 429 / 5xx / network errors are retried with backoff;
* a create is retried only when the request provably never reached the server (no connection)
  or after a 429 (the gateway refused it before doing anything). Anything else could charge
  twice, because the API has no idempotency key. A rule or credit mismatch (6006 / 6009 / 6010:
  refused, nothing charged) is the caller's to handle, because the new price may be higher.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.ima.catalog import Catalog, Model, parse_product_list
from core.ima.checks import DETAIL_PATH, Checks, PollGrid
from core.ima.errors import (
    BadRequestError,
    GenerationTimeoutError,
    IMAError,
    NetworkError,
    RateLimitedError,
    RuleMismatchError,
    UnknownOutcomeError,
)
from core.ima.polling import Media, read_detail
from core.ima.rules import Quote, quote
from core.ima.session import IMASession, encode_body
from core.ima.tasks import TaskType, Timing
from core.ima.timing import timing_for
from core.ima.upload import ImageSource, prepare_image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CreatedTask:
    task_id: str
    quote: Quote
    prompt: str
    image_urls: tuple[str, ...]


class IMAClient:
    def __init__(
        self,
        session: IMASession,
        *,
        catalog_ttl: float = 600.0,
        poll_interval: float | None = None,
        retry_base_delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self._ttl = catalog_ttl
        self._poll_override = poll_interval
        self._retry_base = retry_base_delay
        self._clock = clock
        self._catalogs: dict[TaskType, tuple[float, Catalog]] = {}
        self._locks: dict[TaskType, asyncio.Lock] = {}
        #: Where every job's status checks wait for their next turn.
        self._grid = PollGrid()

    # ── catalog ───────────────────────────────────────────────────────────────────────────

    async def catalog(self, task_type: TaskType, *, refresh: bool = False) -> Catalog:
        """The category's models, fetched at most once per TTL however many jobs ask at once."""
        lock = self._locks.setdefault(task_type, asyncio.Lock())
        async with lock:
            cached = self._catalogs.get(task_type)
            if cached and not refresh and self._clock() - cached[0] < self._ttl:
                return cached[1]
            data = await self._with_retries(
                lambda: self.session.request(
                    "GET",
                    "/open/v1/product/list",
                    params={"app": "ima", "platform": "web", "category": task_type.value},
                )
            )
            catalog = Catalog(task_type, parse_product_list(task_type, data))
            self._catalogs[task_type] = (self._clock(), catalog)
            log.info("catalog %s: %d models", task_type.value, len(catalog.models))
            return catalog

    def cached(self) -> list[Catalog]:
        """The catalogs read so far (fresh or not), without asking IMA: for work that must not
        wait on it, like reading a message."""
        return [catalog for _, catalog in self._catalogs.values()]

    # ── inputs ────────────────────────────────────────────────────────────────────────────

    async def prepare_images(self, sources: Sequence[ImageSource]) -> list[str]:
        """Upload what needs uploading (concurrently), keeping the order (first/last frame)."""
        return list(await asyncio.gather(*(prepare_image(self.session, s) for s in sources)))

    # ── create ────────────────────────────────────────────────────────────────────────────

    async def create(self, q: Quote, prompt: str, *, image_urls: Sequence[str] = ()) -> CreatedTask:
        """Create the task ``q`` describes, at ``q``'s price and no other.

        A rule or credit mismatch (the server computed another price) is raised, not retried:
        the caller decides whether the new price may be spent (:meth:`requote` gives it).
        """
        task_type = q.model.task_type
        low, high = task_type.image_range
        if len(image_urls) < low or (high is not None and len(image_urls) > high):
            raise BadRequestError(
                f"{task_type.value} takes {low}..{high or 'n'} images, got {len(image_urls)}"
            )
        if not 1 <= q.n <= task_type.spec.max_outputs:
            raise BadRequestError(f"n must be 1..{task_type.spec.max_outputs}, got {q.n}")
        return await self._create_once(q, prompt, image_urls)

    async def requote(self, q: Quote, params: Mapping[str, Any]) -> Quote | None:
        """``q`` again from a freshly read catalog (after a mismatch), or None when the model
        is gone from it."""
        fresh = (await self.catalog(q.model.task_type, refresh=True)).by_version(q.model.version_id)
        return quote(fresh, params, q.n) if fresh is not None else None

    async def _create_once(self, q: Quote, prompt: str, image_urls: Sequence[str]) -> CreatedTask:
        body = create_body(q, prompt, image_urls)
        for attempt in range(4):
            try:
                data = await self.session.request("POST", "/open/v1/tasks/create", json_body=body)
                break
            except (NetworkError, RateLimitedError) as exc:
                safe = isinstance(exc, RateLimitedError) or not exc.sent
                if not safe or attempt == 3:
                    raise
                await asyncio.sleep(self._backoff(attempt, exc))
        task_id = data.get("id") if isinstance(data, Mapping) else None
        if not task_id:
            raise UnknownOutcomeError("create answered without a task id")
        return CreatedTask(str(task_id), q, prompt, tuple(image_urls))

    # ── poll ──────────────────────────────────────────────────────────────────────────────

    async def detail(
        self, task_id: str, expected: int, *, body: bytes | None = None
    ) -> list[Media] | None:
        """One poll: the media when all are done, None while running; raises on failure.

        ``body``: :func:`detail_body` of ``task_id``, when the caller checks it again and again.
        """
        sent = body if body is not None else detail_body(task_id)
        return read_detail(await self._with_retries(lambda: self._ask(sent)), expected)

    def _ask(self, body: bytes) -> Awaitable[Any]:
        """One status check's request (the quiet ones: :class:`~core.ima.checks.Checks`)."""
        return self.session.request("POST", DETAIL_PATH, json_body=body)

    async def wait(
        self,
        task_id: str,
        n: int,
        timing: Timing,
        *,
        started_at: float | None = None,
        on_poll: Callable[[float], Awaitable[None]] | None = None,
        due: Callable[[float], bool] | None = None,
    ) -> list[Media]:
        """Poll until every media is done; ``on_poll(elapsed)`` runs after each running poll
        for which ``due(elapsed)`` holds (every one without ``due``): ``on_poll`` must have
        nothing to do after the others, which run without waking this task
        (:class:`~core.ima.checks.Checks`).

        ``started_at`` is on this client's clock, so a job resumed after a restart keeps counting
        from when it was created, not from when polling resumed.
        """
        interval = self._poll_override if self._poll_override is not None else timing.poll_every
        start = started_at if started_at is not None else self._clock()
        body = detail_body(task_id)
        checks = Checks(
            self.session,
            self._grid,
            body=body,
            expected=n,
            interval=interval,
            max_wait=timing.max_wait,
            start=start,
            clock=self._clock,
            wanted=_never if on_poll is None else due or _always,
        )
        delay: float | None = None  # the first check at once
        while True:
            data, failed = await checks.next(delay)
            try:
                if failed is not None:  # the rest of that check's tries, as detail() makes them
                    data = await self._with_retries(lambda: self._ask(body), failed=failed)
                medias = read_detail(data, n)
            except IMAError as exc:
                if not exc.transient:
                    raise
                # Polls are read-only: a bad patch on the server is waited out up to max_wait.
                log.warning("poll of %s failed (%s), polling on", task_id, exc.kind)
                medias = None
            if medias is not None:
                return medias
            elapsed = self._clock() - start
            if elapsed >= timing.max_wait:
                raise GenerationTimeoutError(f"task {task_id} still running after {elapsed:.0f}s")
            if on_poll is not None:
                await on_poll(elapsed)
            delay = checks.delay(elapsed)

    async def generate(
        self,
        model: Model,
        prompt: str,
        *,
        params: Mapping[str, Any] | None = None,
        images: Sequence[ImageSource] = (),
        n: int = 1,
        max_wait: float | None = None,
    ) -> tuple[CreatedTask, list[Media]]:
        """The whole flow in one call, for one-shot use (``ima-bot generate``): like the skill's
        script, a rule mismatch re-reads the catalog and creates once more at its price. The
        chat engine persists in between and asks before paying a changed price."""
        user_params = dict(params or {})
        urls = await self.prepare_images(images)
        q = quote(model, user_params, n)
        try:
            task = await self.create(q, prompt, image_urls=urls)
        except RuleMismatchError as exc:
            log.warning("rule mismatch for %s, refreshing catalog: %s", model.version_id, exc)
            fresh = await self.requote(q, user_params)
            if fresh is None:
                raise
            task = await self.create(fresh, prompt, image_urls=urls)
        timing = timing_for(q.model)
        if max_wait is not None:
            timing = replace(timing, max_wait=max_wait)
        medias = await self.wait(task.task_id, n, timing)
        return task, medias

    # ── helpers ───────────────────────────────────────────────────────────────────────────

    def _backoff(self, attempt: int, exc: IMAError) -> float:
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return min(exc.retry_after, 30.0)
        return self._retry_base * 2.0**attempt * (0.5 + random.random())

    async def _with_retries(
        self,
        call: Callable[[], Awaitable[Any]],
        attempts: int = 5,
        *,
        failed: IMAError | None = None,
    ) -> Any:
        """Repeat a read-only call on transient errors with exponential backoff and jitter;
        ``failed``: the error of its first attempt, made already."""
        first = 0
        if failed is not None:
            await self._pause(0, failed)
            first = 1
        for attempt in range(first, attempts - 1):
            try:
                return await call()
            except IMAError as exc:
                await self._pause(attempt, exc)
        return await call()

    async def _pause(self, attempt: int, exc: IMAError) -> None:
        """The pause after ``exc`` ended try ``attempt`` of a read-only call; raises it when
        trying again can't help."""
        if not exc.transient:
            raise exc
        delay = self._backoff(attempt, exc)
        log.info("transient %s, retrying in %.1fs", exc.kind, delay)
        await asyncio.sleep(delay)


def detail_body(task_id: str) -> bytes:
    """The status check's request body for ``task_id``."""
    return encode_body({"task_id": task_id})


def _never(elapsed: float) -> bool:
    return False


def _always(elapsed: float) -> bool:
    return True


def create_body(q: Quote, prompt: str, image_urls: Sequence[str]) -> dict[str, Any]:
    """The create request for any of the seven task types (one entry in ``parameters``)."""
    model, rule = q.model, q.rule
    urls = list(image_urls)
    inner = {
        **q.params,
        "prompt": prompt,
        "n": q.n,
        "input_images": urls,
        "cast": {"points": rule.points, "attribute_id": rule.attribute_id},
    }
    return {
        "task_type": model.task_type.value,
        "enable_multi_model": False,
        "src_img_url": urls,
        "parameters": [
            {
                "attribute_id": rule.attribute_id,
                "model_id": model.model_id,
                "model_name": model.name,
                "model_version": model.version_id,
                "app": "ima",
                "platform": "web",
                "category": model.task_type.value,
                "credit": rule.points,
                "parameters": inner,
            }
        ],
    }

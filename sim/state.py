"""Everything the simulator knows: options, catalog, tasks, credits, uploads, faults, and a log.

Tests read it to see what a client did (``calls``, ``tasks``, ``ledger``) and write it to set up
what the client will meet (``balance``, ``faults``).
"""

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from sim.catalog import Catalog
from sim.errors import ApiError
from sim.faults import FaultPlan
from sim.tasks import SimTask, new_task
from sim.uploads import UploadStore
from sim.validation import ValidCreate


class SimOptions(TypedDict, total=False):
    """Options of the simulator; every one is optional."""

    api_key: str | None
    """The only API key accepted; by default any key starting with ``ima_`` is."""
    speed: float
    """Factor on generation times: 0.001 turns a 60 s video into 60 ms. Default 1.0."""
    balance: int
    """Credits available; each create charges points × n. Default 1,000,000."""
    attribute_id_offset: int
    """Added to every catalog ``attribute_id``, to catch ids hard-coded from the spec."""
    points_offset: int
    """Added to every catalog ``points``, to catch hard-coded prices."""
    seed: int | None
    """Seed for generation times, ids and random faults. Default None (not reproducible)."""
    slow_seconds: float
    """How long the ``slow`` fault delays a reply. Default 5.0."""
    public_url: str | None
    """Base URL advertised in upload, CDN and result URLs; default the bound address."""
    clock: Callable[[], float]
    """Source of the current time in epoch seconds; inject one to control task timing."""
    product_lists: Mapping[str, Any]
    """Product-list replies per category to serve instead of the fixtures (a live catalog)."""


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    method: str
    path: str
    query: dict[str, str]
    body: Any
    """The parsed JSON body of a POST (the raw text if not JSON), else None."""


@dataclass(frozen=True)
class LedgerEntry:
    """One charge: the gateway charges each of a task's n media separately."""

    task_id: str
    points: int
    balance_after: int


class SimState:
    """The simulator's whole state; built from ``SimOptions``."""

    def __init__(self, **options: Unpack[SimOptions]) -> None:
        self.api_key = options.get("api_key")
        self.speed = options.get("speed", 1.0)
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        self.balance = options.get("balance", 1_000_000)
        self.catalog = Catalog(
            options.get("attribute_id_offset", 0),
            options.get("points_offset", 0),
            options.get("product_lists"),
        )
        seed = options.get("seed")
        self.rng = random.Random(seed)
        self.faults = FaultPlan(seed, options.get("slow_seconds", 5.0))
        self.clock = options.get("clock", time.time)
        self.public_url = (options.get("public_url") or "").rstrip("/") or None
        self.base_url = self.public_url or ""
        """Set to the bound address when the server starts, unless ``public_url`` was given."""
        self.uploads = UploadStore()
        self.tasks: dict[str, SimTask] = {}
        self.ledger: list[LedgerEntry] = []
        self.requests: list[RecordedRequest] = []
        self.open_tasks: set[str] = set()
        """Tasks made and not yet seen finished by a detail call: the client's tasks at once."""
        self.peak_open = 0
        """The most tasks open at once so far."""

    def accepts_key(self, key: str) -> bool:
        return key == self.api_key if self.api_key else key.startswith("ima_")

    def calls(self, endpoint: str) -> list[RecordedRequest]:
        """The requests received by one endpoint (see ``sim.faults.ENDPOINTS``), in order."""
        return [r for r in self.requests if r.endpoint == endpoint]

    def product_list_calls(self, category: str) -> int:
        return sum(1 for r in self.calls("product_list") if r.query.get("category") == category)

    def image_url_ok(self, url: str) -> bool:
        """False for a URL on this simulator's CDN whose file was never uploaded."""
        prefix = f"{self.base_url}/cdn/"
        return not url.startswith(prefix) or url.removeprefix(prefix) in self.uploads.files

    def create_task(self, valid: ValidCreate, faults: list[str], request: Any) -> SimTask:
        """Charge points × n (or raise 4008) and start the task."""
        if valid.rule.points * valid.n > self.balance:
            raise ApiError(4008)
        task = new_task(valid, faults, request, self.clock(), self.speed, self.rng)
        for _ in range(valid.n):
            self.balance -= valid.rule.points
            self.ledger.append(LedgerEntry(task.id, valid.rule.points, self.balance))
        self.tasks[task.id] = task
        self.open_tasks.add(task.id)
        self.peak_open = max(self.peak_open, len(self.open_tasks))
        return task

    def detail(self, task: SimTask) -> dict[str, Any]:
        """A detail reply for ``task`` now; one whose every media has settled is no longer open."""
        now = self.clock()
        if task.settled(now):
            self.open_tasks.discard(task.id)
        return task.detail(now, self.base_url)

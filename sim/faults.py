"""Fault injection, chosen per request in three ways.

1. A directive in the prompt of a create call, e.g. ``"a cat [[sim:rs2]]"``: applies to that
   request and the task it makes. Several directives may be combined.
2. A queue: ``state.faults.push("detail", "429", times=2)`` makes the next two detail calls fail.
3. Random rates for drills: ``state.faults.rates = {"detail": {"429": 0.1, "reset": 0.05}}``,
   drawn from an RNG seeded by the simulator's ``seed``.

Fault names:

- HTTP or business errors, answered instead of the real reply: ``401``, ``4008`` (insufficient
  points), ``4014`` (subscription required), ``6006``, ``6009``, ``6010``, ``429``, ``500``,
  ``503`` (model unavailable).
- Transport: ``slow`` (the reply is delayed by ``slow_seconds``), ``reset`` (the connection is
  dropped without a reply, after the request took effect: a reset create still created and
  charged, as when a real reply is lost).
- Task outcome (create only): ``rs2`` (last media fails with resource_status 2), ``rs3`` (last
  media deleted), ``failed`` (resource_status 1 but status "failed"), ``moderation`` (status
  failed, sensitive-content error_msg), ``timeout`` (never finishes), ``null`` (resource_status
  stays null while running), ``partial`` (with n > 1 the last media finishes much later).
"""

import random
import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

ENDPOINTS = frozenset(
    {"product_list", "create", "detail", "upload_token", "upload_put", "cdn", "media"}
)
"""Routes faults can target; ``cdn`` serves uploaded files and ``media`` generated results."""

ERROR_FAULTS: dict[str, int] = {
    name: int(name) for name in ("401", "4008", "4014", "6006", "6009", "6010", "429", "500", "503")
}
TASK_FAULTS = frozenset({"rs2", "rs3", "failed", "moderation", "timeout", "null", "partial"})
TRANSPORT_FAULTS = frozenset({"slow", "reset"})
FAULTS = frozenset(ERROR_FAULTS) | TASK_FAULTS | TRANSPORT_FAULTS

_DIRECTIVE = re.compile(r"\[\[sim:([^\]]*)\]\]")


def directives_in(text: str) -> list[str]:
    """Fault names written as ``[[sim:<fault>]]`` in ``text``."""
    return [name.strip() for name in _DIRECTIVE.findall(text)]


def strip_directives(text: str) -> str:
    return _DIRECTIVE.sub("", text).strip()


def check_fault(endpoint: str, fault: str) -> None:
    """Raise ValueError unless ``fault`` is a known fault that can apply to ``endpoint``."""
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown simulator endpoint {endpoint!r}")
    if fault not in FAULTS:
        raise ValueError(f"unknown simulator fault {fault!r}")
    if fault in TASK_FAULTS and endpoint != "create":
        raise ValueError(f"task fault {fault!r} only applies to create")


@dataclass
class _Queued:
    fault: str
    remaining: int


class FaultPlan:
    """The faults waiting for requests, and a log of those that were applied."""

    def __init__(self, seed: int | None, slow_seconds: float) -> None:
        self.slow_seconds = slow_seconds
        self.applied: list[tuple[str, str]] = []
        """(endpoint, fault) for every fault applied, in order."""
        self._queues: dict[str, deque[_Queued]] = {}
        self._rates: dict[str, dict[str, float]] = {}
        self._rng = random.Random(f"{seed}:faults")  # apart from task timing, so both stay stable

    def push(self, endpoint: str, fault: str, times: int = 1) -> None:
        """Apply ``fault`` to the next ``times`` requests to ``endpoint`` (after earlier pushes)."""
        check_fault(endpoint, fault)
        if times < 1:
            raise ValueError("times must be at least 1")
        self._queues.setdefault(endpoint, deque()).append(_Queued(fault, times))

    @property
    def rates(self) -> Mapping[str, Mapping[str, float]]:
        return self._rates

    @rates.setter
    def rates(self, rates: Mapping[str, Mapping[str, float]]) -> None:
        """Per endpoint, the probability of each fault; at most one random fault per request."""
        for endpoint, by_fault in rates.items():
            for fault, rate in by_fault.items():
                check_fault(endpoint, fault)
                if rate < 0:
                    raise ValueError("fault rates must not be negative")
            if sum(by_fault.values()) > 1:
                raise ValueError(f"fault rates for {endpoint!r} add up to more than 1")
        self._rates = {endpoint: dict(by_fault) for endpoint, by_fault in rates.items()}

    def clear(self) -> None:
        """Forget queued faults and rates."""
        self._queues.clear()
        self._rates = {}

    def draw(self, endpoint: str, directives: Iterable[str] = ()) -> list[str]:
        """The faults for one request: the next queued one, the directives, then a random one.

        Raises ValueError for a directive that names no fault.
        """
        faults: list[str] = []
        queue = self._queues.get(endpoint)
        if queue:
            head = queue[0]
            faults.append(head.fault)
            head.remaining -= 1
            if not head.remaining:
                queue.popleft()
        for name in directives:
            check_fault(endpoint, name)
            faults.append(name)
        rates = self._rates.get(endpoint)
        if rates:
            roll = self._rng.random()
            for fault, rate in rates.items():
                if roll < rate:
                    faults.append(fault)
                    break
                roll -= rate
        self.applied.extend((endpoint, fault) for fault in faults)
        return faults

"""Who a log line is about: the job, platform and user of the work that writes it.

The engine sets platform and user while it answers a message or a button press; the runner
adds the job id to each job's task. Context variables follow tasks, so everything a job's task
calls (the IMA client's retries, its poll warnings) is about that job without being told.
``bot/logs.py`` puts these fields on every log record.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType

#: The field names, as they appear on log records and in JSON log lines.
FIELDS = ("job_id", "platform", "user")

_ABOUT: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "about", default=MappingProxyType({})
)


def current() -> Mapping[str, str]:
    return _ABOUT.get()


@contextmanager
def about(**fields: str) -> Iterator[None]:
    """Log lines written inside the block (and in tasks started there) carry ``fields``."""
    token = _ABOUT.set({**_ABOUT.get(), **fields})
    try:
        yield
    finally:
        _ABOUT.reset(token)


def context_about(**fields: str) -> contextvars.Context:
    """A copy of the current context whose log lines carry ``fields`` too (for a new task)."""
    context = contextvars.copy_context()
    context.run(_ABOUT.set, {**_ABOUT.get(), **fields})
    return context

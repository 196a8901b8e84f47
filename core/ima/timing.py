"""How long one model's generation is expected to take, and how often to poll and report.

The live ``EET`` tag of a model wins over the spec's table for the estimate (the product list is
the truth in production); the cadence of polls and progress messages comes from the table rows
in :mod:`core.ima.models` and :mod:`core.ima.tasks`.
"""

from __future__ import annotations

from dataclasses import replace

from core.ima import models
from core.ima.catalog import Model
from core.ima.tasks import TaskType, Timing


def timing_for(model: Model) -> Timing:
    timing = models.timing(model.name, model.task_type)
    if model.eet is not None:
        low, high = model.eet
        timing = replace(timing, estimate_low=low, estimate_high=max(high, low, 1))
    return timing


def timing_for_task(task_type: TaskType) -> Timing:
    """The table's row for a task type, when the model itself is no longer known."""
    return models.timing("", task_type)

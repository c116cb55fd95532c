"""Working through a backlog (lapsed holds, points to mature or expire) in short transactions,
so a large one never holds many row locks at once nor one long transaction."""

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet


def in_locked_batches(
    pending_ids: "QuerySet[Any, int]",
    *,
    lock: Callable[[list[int]], object],
    process: Callable[[list[int]], int],
    batch_size: int,
) -> int:
    """Repeat, each time in its own transaction: take the first ``batch_size`` of
    ``pending_ids`` (a ``values_list(..., flat=True)`` of the rows to lock, distinct and
    ordered by that id), ``lock`` them (in primary-key order), then ``process`` them; stop when
    none is left. Returns the sum of what ``process`` returned.

    ``process`` must take the ids it handled out of ``pending_ids`` (expire them, settle them),
    or the loop would take them again.
    """
    if batch_size < 1:
        raise ValueError("A batch holds at least one row.")
    done = 0
    while True:
        with transaction.atomic():
            batch = list(pending_ids[:batch_size])
            if not batch:
                return done
            lock(batch)
            done += process(batch)

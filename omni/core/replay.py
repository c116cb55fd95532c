"""Idempotent writes: a retry gets the first result again, also when it raced the first try.

The shape every idempotent service shares (a points redemption, a return, a checkout)::

    entry, replayed = replay_or_run(
        find=lambda: PointsEntry.objects.filter(idempotency_key=key).first(),
        lock=lambda: lock_account(account),
        run=lambda: _debit(account, ...),
    )

``find`` runs before the lock (the cheap common case of a retry long after the first try) and
again after it: a retry that waited on the lock while the first try committed must find that
result, not act a second time. Run it inside the caller's transaction, so the lock is held
until ``run``'s writes commit.
"""

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def replay_or_run(
    *, find: Callable[[], T | None], lock: Callable[[], object], run: Callable[[], T]
) -> tuple[T, bool]:
    """(the result, whether it was replayed): the one ``find`` gives, or ``run``'s own."""
    found = find()
    if found is not None:
        return found, True
    lock()
    found = find()
    if found is not None:
        return found, True
    return run(), False

"""Writing the points ledger, for the services of this package: an entry, the lots that track
what remains of each credit, and the account's cached balances, always changed together.

The caller holds the account's lock (``loyalty.locks.lock_account``) and its transaction.
"""

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TypeVar

from django.db.models import F

from loyalty.models import Account, PointsEntry, PointsLot
from omni.core.errors import InvalidRequest
from omni.core.replay import replay_or_run

Kind = PointsEntry.Kind

# What a debit took from one lot: {"lot": pk, "points": n}, kept in the entry's explanation
# so a released redemption goes back to the very lots it came from.
Taken = dict[str, int]


def require_key(idempotency_key: str | None) -> None:
    if not idempotency_key:
        raise InvalidRequest("An idempotency key is required.")


def entry_with_key(idempotency_key: str) -> PointsEntry | None:
    """The entry an earlier call with this key wrote, if any (its replay)."""
    return PointsEntry.objects.filter(idempotency_key=idempotency_key).first()


def add_to_account(account: Account, *, available: int = 0, pending: int = 0) -> None:
    Account.objects.filter(pk=account.pk).update(
        available=F("available") + available, pending=F("pending") + pending
    )
    account.available += available
    account.pending += pending


def credit(account: Account, entry: PointsEntry, *, pending: bool, now: datetime) -> PointsEntry:
    """Write a crediting entry and the lot that tracks what remains of it."""
    entry.account = account
    entry.save()
    points = entry.available + entry.pending
    matures_at = now + timedelta(days=account.programme.pending_days) if pending else now
    PointsLot.objects.create(
        account=account,
        entry=entry,
        points=points,
        remaining=points,
        is_pending=pending,
        matures_at=matures_at,
        expires_at=matures_at + timedelta(days=account.programme.expiry_days),
    )
    add_to_account(account, available=entry.available, pending=entry.pending)
    return entry


def take_from(lots: Iterable[PointsLot], points: int) -> list[Taken]:
    """Take up to ``points`` from ``lots`` in the order given; returns what was taken."""
    taken, changed = [], []
    for lot in lots:
        if points == 0:
            break
        portion = min(lot.remaining, points)
        if portion:
            lot.remaining -= portion
            points -= portion
            taken.append({"lot": lot.pk, "points": portion})
            changed.append(lot)
    PointsLot.objects.bulk_update(changed, ["remaining"])
    return taken


def total(taken: list[Taken]) -> int:
    return sum(t["points"] for t in taken)


# A points write returns its entry, or None where there was nothing to write (an order that
# earns no points); a replay returns the entry of the first call.
Posted = TypeVar("Posted", PointsEntry, PointsEntry | None)


def replay_or_post(
    idempotency_key: str | None,
    *,
    lock: Callable[[], Account],
    post: Callable[[Account], Posted],
) -> Posted:
    """``replay_or_run`` for a points write: the entry an earlier call with this key wrote
    (looked up before the lock and again after it, so a retry that waited on the first try's
    lock replays it), or ``post``'s, written to the account ``lock`` returned locked. ``lock``
    may refuse first (a blocked card, a bad amount): a replay is never refused. Without a key
    nothing is replayed."""
    locked: list[Account] = []  # what ``lock`` returned, for ``post`` (run after it, if at all)
    entry, _ = replay_or_run(
        find=lambda: entry_with_key(idempotency_key) if idempotency_key else None,
        lock=lambda: locked.append(lock()),
        run=lambda: post(locked[0]),
    )
    return entry

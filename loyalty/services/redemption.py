"""Spending points: a redemption from any channel (never below zero, whichever redeems first),
its release when the order is cancelled, and taking points back when goods are returned."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q, Sum

from customers.models import Customer
from loyalty.locks import lock_account, lock_available_lots, lock_lots, lock_lots_of_entries
from loyalty.models import Account, PointsEntry, PointsLot
from loyalty.services.cards import account_for_card
from loyalty.services.ledger import (
    Kind,
    add_to_account,
    replay_or_post,
    require_key,
    take_from,
    total,
)
from loyalty.services.programme import enrolled_and_locked
from omni.core.errors import InsufficientPoints, InvalidRequest, NotFound


@dataclass(frozen=True)
class Redemption:
    entry: PointsEntry
    points: int
    value: Decimal


def _redemption(entry: PointsEntry) -> Redemption:
    points = -entry.available
    return Redemption(
        entry=entry, points=points, value=points * entry.account.programme.point_value
    )


@transaction.atomic
def redeem(
    *,
    points: int,
    reference: str,
    source: str,
    idempotency_key: str,
    customer: Customer | None = None,
    card_number: str | None = None,
    channel: str = "",
    actor: User | None = None,
) -> Redemption:
    """Spend available points as a discount. Whichever channel redeems first wins: the account
    row is locked, so two redemptions can never take the balance below zero. A retry gets the
    first redemption again, also one that waited on the first try's lock."""
    require_key(idempotency_key)
    entry = replay_or_post(
        idempotency_key,
        lock=lambda: _lock_payer(customer=customer, card_number=card_number, points=points),
        post=lambda account: _debit(
            account,
            points=points,
            reference=reference,
            source=source,
            idempotency_key=idempotency_key,
            channel=channel,
            actor=actor,
        ),
    )
    return _redemption(entry)


def _lock_payer(*, customer: Customer | None, card_number: str | None, points: int) -> Account:
    """The account that pays, locked, once the request names it and a positive amount."""
    if card_number:
        customer = account_for_card(card_number).customer
    if customer is None:
        raise InvalidRequest("Say whose points to redeem (customer or card).")
    if points <= 0:
        raise InvalidRequest("Redeem a positive number of points.")
    return enrolled_and_locked(customer)


def _debit(
    account: Account,
    *,
    points: int,
    reference: str,
    source: str,
    idempotency_key: str,
    channel: str,
    actor: User | None,
) -> PointsEntry:
    """Take ``points`` from the soonest-expiring lots, or refuse below the programme's minimum
    or beyond the available balance. The caller holds the account's lock."""
    if points < account.programme.minimum_redemption:
        raise InvalidRequest(
            f"At least {account.programme.minimum_redemption} points are redeemed at a time.",
            details={"minimum": account.programme.minimum_redemption},
        )
    if points > account.available:
        raise InsufficientPoints(
            f"Only {account.available} points are available.",
            details={"available": account.available, "requested": points},
        )
    taken = take_from(lock_available_lots(account), points)
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.REDEEM,
        available=-points,
        source=source,
        reference=reference,
        channel=channel,
        explanation=taken,
        actor=actor,
        idempotency_key=idempotency_key,
    )
    add_to_account(account, available=-points)
    return entry


@transaction.atomic
def release_redemption(
    *, redemption_key: str, points: int | None = None, part: str = ""
) -> PointsEntry | None:
    """Give back a redemption's points (its order was cancelled), to the very lots they came
    from, so their expiry dates are unchanged. Releasing twice changes nothing.

    With ``points`` and ``part`` only that many go back (an order line that could not be
    shipped), once per ``part``, the latest-expiring lots first; a later full release gives
    back only what is left (None when nothing is)."""
    redemption = PointsEntry.objects.filter(
        idempotency_key=redemption_key, kind=Kind.REDEEM
    ).first()
    if redemption is None:
        raise NotFound("No redemption has this key.")
    if (points is None) != (not part):
        raise InvalidRequest("A partial release names both its points and its part.")
    release_key = f"release:{redemption_key}" + (f":{part}" if part else "")
    return replay_or_post(
        release_key,
        lock=lambda: lock_account(redemption.account_id),
        post=lambda account: _release(
            account, redemption, points=points, idempotency_key=release_key
        ),
    )


def _still_taken(redemption: PointsEntry) -> dict[int, int]:
    """What the redemption still holds of each lot, once earlier releases are deducted (in
    the order it took them)."""
    held: dict[int, int] = {}
    for taken in redemption.explanation:
        held[taken["lot"]] = held.get(taken["lot"], 0) + taken["points"]
    base = f"release:{redemption.idempotency_key}"
    released = PointsEntry.objects.filter(
        Q(idempotency_key=base) | Q(idempotency_key__startswith=f"{base}:"),
        kind=Kind.RELEASE,
        account_id=redemption.account_id,
    )
    for entry in released:
        for given in entry.explanation:
            held[given["lot"]] -= given["points"]
    return {lot: points for lot, points in held.items() if points > 0}


def _release(
    account: Account, redemption: PointsEntry, *, points: int | None, idempotency_key: str
) -> PointsEntry | None:
    """Put points back into the lots the redemption took them from (all that is left, or
    ``points`` of it, latest lots first). The caller holds the account's lock."""
    if points is not None and points <= 0:
        raise InvalidRequest("Release a positive number of points.")
    held = _still_taken(redemption)
    due = sum(held.values()) if points is None else min(points, sum(held.values()))
    lots = lock_lots(held)
    given: list[dict[str, int]] = []
    for lot_pk in reversed(list(held)):  # the last taken (latest expiry) back first
        portion = min(held[lot_pk], due - sum(g["points"] for g in given))
        if portion > 0:
            lots[lot_pk].remaining += portion
            given.append({"lot": lot_pk, "points": portion})
    released = sum(g["points"] for g in given)
    if not released:
        return None  # earlier partial releases gave everything back
    PointsLot.objects.bulk_update(lots.values(), ["remaining"])
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.RELEASE,
        available=released,
        source=redemption.source,
        reference=redemption.reference,
        explanation=given,
        idempotency_key=idempotency_key,
    )
    add_to_account(account, available=released)
    return entry


@transaction.atomic
def reverse_for_return(
    *, customer: Customer, reference: str, returned_amount: Decimal, idempotency_key: str
) -> PointsEntry | None:
    """Take back the points an order earned, in proportion to what was returned: first from
    that order's own earning (pending or not), then from the oldest available points, never
    below zero. The returned spend no longer counts towards tiers."""
    require_key(idempotency_key)
    return replay_or_post(
        idempotency_key,
        lock=lambda: enrolled_and_locked(customer),
        post=lambda account: _take_back(
            account,
            reference=reference,
            returned_amount=returned_amount,
            idempotency_key=idempotency_key,
        ),
    )


def _take_back(
    account: Account, *, reference: str, returned_amount: Decimal, idempotency_key: str
) -> PointsEntry | None:
    """The reversal entry for the returned share of the order ``reference`` (None when nothing
    is left to take back). The caller holds the account's lock."""
    earned = account.entries.filter(kind=Kind.EARN, reference=reference)
    totals = earned.aggregate(points=Sum("pending"), spend=Sum("qualifying_amount"))
    if not totals["points"]:
        return None
    reversed_before = -(
        account.entries.filter(kind=Kind.REVERSE, reference=reference).aggregate(
            points=Sum(F("available") + F("pending"))
        )["points"]
        or 0
    )
    share = min(returned_amount / totals["spend"], Decimal(1)) if totals["spend"] else Decimal(1)
    due = min(
        int((totals["points"] * share).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        totals["points"] - reversed_before,
    )
    if due <= 0:
        return None
    own_lots = lock_lots_of_entries(earned)
    from_pending = take_from([lot for lot in own_lots if lot.is_pending], due)
    # What the order's own pending points don't cover comes from available points, the
    # order's own first, then the oldest, but never more than the account has.
    still_due = min(due - total(from_pending), account.available)
    from_available = take_from([lot for lot in own_lots if not lot.is_pending], still_due)
    from_available += take_from(lock_available_lots(account), still_due - total(from_available))
    if not from_pending and not from_available:
        return None
    entry = PointsEntry.objects.create(
        account=account,
        kind=Kind.REVERSE,
        available=-total(from_available),
        pending=-total(from_pending),
        source="return",
        reference=reference,
        qualifying_amount=-min(returned_amount, totals["spend"]),
        explanation=[{"due": due, "from_pending": from_pending, "from_available": from_available}],
        idempotency_key=idempotency_key,
    )
    add_to_account(account, available=entry.available, pending=entry.pending)
    return entry

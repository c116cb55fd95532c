"""Scheduled: pending points maturing once the return window has passed, and available points
expiring (oldest first). The notice that warns a member before theirs expire is a campaigns
journey now (trigger ``points_expiring``), under the marketing rules of every campaign."""

from datetime import datetime

from django.db.models import QuerySet, Sum
from django.utils import timezone

from loyalty.locks import lock_accounts
from loyalty.models import Account, PointsEntry, PointsLot
from loyalty.services.ledger import Kind
from omni.core.batches import in_locked_batches
from omni.core.counters import add_to_counters

# --- Maturing and expiring -------------------------------------------------------------------


def _settle_lots(lots_query: "QuerySet[PointsLot]", *, kind: str, batch_size: int) -> int:
    """Move due lots in batches of accounts: lock the accounts (pk order), write one entry per
    account, update the lots and the cached balances. Returns the points moved."""

    def settle(account_ids: list[int]) -> int:
        due = lots_query.filter(account_id__in=account_ids)
        per_account: dict[int, int] = dict(
            due.values("account_id")
            .annotate(points=Sum("remaining"))
            .values_list("account_id", "points")
        )
        if kind == Kind.MATURE:
            due.update(is_pending=False)
            entries = [
                PointsEntry(account_id=pk, kind=kind, pending=-p, available=p, source="task")
                for pk, p in per_account.items()
            ]
            changes = {
                "available": per_account,
                "pending": {pk: -p for pk, p in per_account.items()},
            }
        else:
            due.update(remaining=0)
            entries = [
                PointsEntry(account_id=pk, kind=kind, available=-p, source="task")
                for pk, p in per_account.items()
                if p
            ]
            changes = {"available": {pk: -p for pk, p in per_account.items()}}
        PointsEntry.objects.bulk_create(entries)
        add_to_counters(Account, changes)
        return sum(per_account.values())

    return in_locked_batches(
        lots_query.values_list("account_id", flat=True).distinct().order_by("account_id"),
        lock=lock_accounts,
        process=settle,
        batch_size=batch_size,
    )


def mature_points(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Pending points whose return window has passed become available."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(is_pending=True, matures_at__lte=now)
    return _settle_lots(due, kind=Kind.MATURE, batch_size=batch_size)


def expire_points(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Available points past their expiry date are gone (oldest first, by construction)."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(is_pending=False, remaining__gt=0, expires_at__lte=now)
    return _settle_lots(due, kind=Kind.EXPIRE, batch_size=batch_size)

"""Scheduled: pending points maturing once the return window has passed, available points
expiring (oldest first), and the e-mail that warns a member before theirs expire."""

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import dateformat, timezone

from customers.models import Notification
from customers.notifications import notify
from loyalty.locks import lock_accounts
from loyalty.models import Account, PointsEntry, PointsLot, Programme
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


# --- Expiry notices --------------------------------------------------------------------------

EXPIRY_NOTICE_TOPIC = "loyalty.points_expiring"


def _lots_due_for_notice(now: datetime) -> "QuerySet[PointsLot]":
    """Available points that expire within their programme's notice period and nobody was told
    about yet. A programme with ``expiry_notice_days`` 0 sends no notices."""
    windows = Q()
    for programme_id, days in Programme.objects.filter(expiry_notice_days__gt=0).values_list(
        "pk", "expiry_notice_days"
    ):
        windows |= Q(account__programme_id=programme_id, expires_at__lte=now + timedelta(days=days))
    if not windows:
        return PointsLot.objects.none()
    return PointsLot.objects.filter(
        windows, is_pending=False, remaining__gt=0, expires_at__gt=now, expiry_notice_sent_at=None
    )


def _expiry_notice(
    account: Account, expiring: list[Mapping[str, Any]]
) -> tuple[str, str, dict[str, Any]]:
    total = sum(row["points"] for row in expiring)
    first_date = dateformat.format(expiring[0]["expires_on"], "j F Y")
    lines = "\n".join(
        f"  - {row['points']} points on {dateformat.format(row['expires_on'], 'j F Y')}"
        for row in expiring
    )
    subject = f"{total} of your points expire on {first_date}"
    body = (
        f"Hello {account.customer.first_name or 'there'},\n\n"
        f"{total} of your {account.programme.name} points will expire if you don't use them:\n\n"
        f"{lines}\n\n"
        f"You have {account.available} points available today. Spend them in any of our stores, "
        "on the website or in the app before they expire.\n"
    )
    context = {
        "programme": account.programme.name,
        "points": total,
        "available": account.available,
        "expiring": [
            {"date": row["expires_on"].isoformat(), "points": row["points"]} for row in expiring
        ],
    }
    return subject, body, context


def send_expiry_notices(*, now: datetime | None = None, batch_size: int = 500) -> dict[str, int]:
    """Tell every member whose available points expire within ``expiry_notice_days``: one
    e-mail per account per run, listing the points by expiry date. Each lot is told about once
    (``expiry_notice_sent_at``); pending points are not, until they become available.

    Consent: the programme promises the notice only to members who agreed to hear from it, so
    it goes as a *marketing* e-mail: ``customers.notifications.notify`` suppresses it without
    current e-mail marketing consent, for an erased customer or one without an e-mail address,
    and records why; the lots are marked all the same, so a suppressed notice is not recorded
    again every day.

    Reads are set-based: per batch of accounts (locked in pk order, like expiry, so points
    cannot move underneath), one grouped query gives the points per account and expiry date;
    the lots are marked with one UPDATE in the same transaction as the notices, so a failed
    run leaves nothing half done and the e-mails leave only after it commits.
    Returns how many notices were queued and how many suppressed.
    """
    now = now or timezone.now()
    due = _lots_due_for_notice(now)
    counts = {Notification.Status.QUEUED.value: 0, Notification.Status.SUPPRESSED.value: 0}
    accounts: dict[int, Account] = {}  # the batch ``lock`` took, with what the notice names

    def lock(account_ids: list[int]) -> None:
        accounts.clear()
        accounts.update(lock_accounts(account_ids, related=("customer", "programme")))

    def tell(account_ids: list[int]) -> int:
        batch = due.filter(account_id__in=account_ids)
        expiring: defaultdict[int, list[Mapping[str, Any]]] = defaultdict(list)
        for row in (
            batch.annotate(expires_on=TruncDate("expires_at"))
            .values("account_id", "expires_on")
            .annotate(points=Sum("remaining"), last_lot=Max("pk"))
            .order_by("account_id", "expires_on")
        ):
            expiring[row["account_id"]].append(row)
        for account_id, rows in expiring.items():
            account = accounts[account_id]
            subject, body, context = _expiry_notice(account, rows)
            last_lot = max(row["last_lot"] for row in rows)
            notice = notify(
                customer=account.customer,
                topic=EXPIRY_NOTICE_TOPIC,
                channel=Notification.Channel.EMAIL,
                kind=Notification.Kind.MARKETING,
                subject=subject,
                body=body,
                context=context,
                # The lots of two notices never overlap, so the newest lot makes it unique.
                idempotency_key=f"loyalty-expiry:{account_id}:{now.date()}:{last_lot}",
            )
            counts[notice.status] = counts.get(notice.status, 0) + 1
        batch.update(expiry_notice_sent_at=now)
        return len(expiring)

    in_locked_batches(
        due.values_list("account_id", flat=True).distinct().order_by("account_id"),
        lock=lock,
        process=tell,
        batch_size=batch_size,
    )
    return counts

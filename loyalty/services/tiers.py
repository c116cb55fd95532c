"""Tiers: what a member qualifies for over the last 12 months, upgraded at once, downgraded
only at the tier's anniversary; one account after each earning, all of them nightly."""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from loyalty.models import Account, PointsEntry, Programme, Tier
from loyalty.services.programme import YEAR

Kind = PointsEntry.Kind


def qualifying_totals(account_ids: list[int], *, now: datetime, basis: str) -> dict[int, Decimal]:
    """Qualifying spend (or points earned) over the last 12 months, for many accounts at once."""
    window = PointsEntry.objects.filter(account_id__in=account_ids, created_at__gt=now - YEAR)
    if basis == Programme.TierBasis.SPEND:
        measure = Sum("qualifying_amount")
    else:
        window = window.filter(kind__in=[Kind.EARN, Kind.BONUS, Kind.REVERSE])
        measure = Sum(F("available") + F("pending"))
    rows = window.values("account_id").annotate(total=measure).values_list("account_id", "total")
    totals = {pk: Decimal(0) for pk in account_ids}
    totals.update({pk: Decimal(total or 0) for pk, total in rows})
    return totals


def _tier_for(tiers: list[Tier], total: Decimal) -> Tier:
    return max((t for t in tiers if t.threshold <= total), key=lambda t: t.rank, default=tiers[0])


def evaluate_tier(account: Account, *, now: datetime | None = None) -> Tier:
    """Upgrade at once when the customer qualifies; a downgrade waits for the anniversary."""
    now = now or timezone.now()
    tiers = list(account.programme.tiers.order_by("rank"))
    total = qualifying_totals([account.pk], now=now, basis=account.programme.tier_basis)[account.pk]
    target = _tier_for(tiers, total)
    changed = _apply_tier(account, target, now.date())
    if changed:
        account.save(update_fields=["tier", "tier_anniversary"])
    return account.tier


def _apply_tier(account: Account, target: Tier, today: date) -> bool:
    current = account.tier
    if target.rank > current.rank or (
        target.rank < current.rank and today >= account.tier_anniversary
    ):
        account.tier = target
        account.tier_anniversary = today + YEAR
        return True
    if today >= account.tier_anniversary:  # kept the tier for another year
        account.tier_anniversary = today + YEAR
        return True
    return False


def evaluate_all_tiers(*, now: datetime | None = None, batch_size: int = 2000) -> int:
    """The nightly run: every account, in batches, one aggregate query per batch."""
    now = now or timezone.now()
    changed_count = 0
    programmes = {p.pk: p for p in Programme.objects.prefetch_related("tiers")}
    last_pk = 0
    while True:
        batch = list(
            Account.objects.filter(pk__gt=last_pk)
            .select_related("tier")
            .order_by("pk")[:batch_size]
        )
        if not batch:
            return changed_count
        last_pk = batch[-1].pk
        by_programme: defaultdict[int, list[Account]] = defaultdict(list)
        for account in batch:
            by_programme[account.programme_id].append(account)
        changed = []
        for programme_id, accounts in by_programme.items():
            programme = programmes[programme_id]
            tiers = sorted(programme.tiers.all(), key=lambda t: t.rank)
            totals = qualifying_totals(
                [a.pk for a in accounts], now=now, basis=programme.tier_basis
            )
            changed += [
                a for a in accounts if _apply_tier(a, _tier_for(tiers, totals[a.pk]), now.date())
            ]
        with transaction.atomic():
            Account.objects.bulk_update(changed, ["tier", "tier_anniversary"])
        changed_count += len(changed)

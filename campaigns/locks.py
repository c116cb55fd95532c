"""Every lock campaigns takes, in one place.

* a segment's row, for the whole of a refresh or an upload: two recomputations of one segment
  never interleave (the second waits, then starts from the first one's result);
* coupons, in primary-key order: a single-use code presented at the till and in the app at
  once is used by the first to lock it;
* the RFM scores as a whole (a PostgreSQL advisory lock for the transaction), so two
  recomputations never delete each other's rows;
* the attribution roll-up as a whole (the same kind of advisory lock), so two computations of
  overlapping date ranges never interleave their deletes and inserts.

Every function must run inside a transaction (the lock lasts until it commits).
"""

from collections.abc import Iterable

from django.db import connection

from campaigns.models import Coupon, Redemption, Segment

OWN_ROWS = ("self",)
# pg_advisory_xact_lock key of the RFM scores: "RFM" in ASCII, away from other apps' keys.
RFM_LOCK_KEY = 0x52464D
# The attribution roll-up's: "ATTR" in ASCII.
ATTRIBUTION_LOCK_KEY = 0x41545452


def lock_segment(pk: int) -> Segment:
    return Segment.objects.select_for_update(of=OWN_ROWS).get(pk=pk)


def lock_rfm_scores() -> None:
    """Held by the RFM recomputation. SQLite (the demo) has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RFM_LOCK_KEY])


def lock_attribution() -> None:
    """Held by the attribution computation, like ``lock_rfm_scores``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ATTRIBUTION_LOCK_KEY])


def lock_coupons(pks: Iterable[int]) -> list[Coupon]:
    """These coupons, fresh and locked in primary-key order, with their offers."""
    return list(
        Coupon.objects.select_for_update(of=OWN_ROWS)
        .select_related("offer")
        .filter(pk__in=list(pks))
        .order_by("pk")
    )


def lock_used_redemptions(reference: str) -> list[Redemption]:
    """The code uses an order still holds, locked in primary-key order (a cancellation and an
    expiry of the same order give them back once)."""
    return list(
        Redemption.objects.select_for_update(of=OWN_ROWS)
        .filter(reference=reference, status=Redemption.Status.USED)
        .order_by("pk")
    )

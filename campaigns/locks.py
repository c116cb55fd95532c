"""Every lock campaigns takes, in one place.

* a segment's row, for the whole of a refresh or an upload: two recomputations of one segment
  never interleave (the second waits, then starts from the first one's result);
* coupons, in primary-key order: a single-use code presented at the till and in the app at
  once is used by the first to lock it;
* a campaign's row, for each batch of its send and for each change of its state: two workers
  never send the same batch, and a pause or a cancel waits for the batch under way;
* a code batch's row while a send hands out its codes: two campaigns (or journeys) sharing a
  batch never both give one customer a code of it; within that, free codes of the batch;
* a journey's due enrollments, in id order, skipping those another run holds (the journey's
  own row is locked first, as for a campaign's send batch);
* free codes of a batch handed out by a campaign's send, skipping those another send holds;
* the RFM scores as a whole, and the product affinities as a whole (PostgreSQL advisory
  locks for the transaction), so two recomputations never delete each other's rows; the
  customer values likewise.
* the attribution roll-up as a whole (the same kind of advisory lock), so two computations of
  overlapping date ranges never interleave their deletes and inserts.

Every function must run inside a transaction (the lock lasts until it commits).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import connection

from campaigns.models import Campaign, CodeBatch, Coupon, JourneyEnrollment, Redemption, Segment

OWN_ROWS = ("self",)
# pg_advisory_xact_lock key of the RFM scores: "RFM" in ASCII, away from other apps' keys.
RFM_LOCK_KEY = 0x52464D
# ... and of the product affinities: "AFF".
AFFINITY_LOCK_KEY = 0x414646
# ... and of the customer values: "CLV".
CLV_LOCK_KEY = 0x434C56
# The attribution roll-up's: "ATTR" in ASCII.
ATTRIBUTION_LOCK_KEY = 0x41545452


def lock_segment(pk: int) -> Segment:
    return Segment.objects.select_for_update(of=OWN_ROWS).get(pk=pk)


def lock_campaign(pk: int) -> Campaign:
    return Campaign.objects.select_for_update(of=OWN_ROWS).get(pk=pk)


def lock_code_batch(pk: int) -> None:
    """Held while a send finds who already holds a code of the batch and hands out free ones:
    without it, two sends reaching one customer at once would each give them a code."""
    CodeBatch.objects.select_for_update(of=OWN_ROWS).filter(pk=pk).values_list("pk").first()


def lock_due_enrollments(
    campaign_id: int, *, due_by: datetime, after: int, limit: int
) -> list[JourneyEnrollment]:
    """The next ``limit`` active enrollments of a journey whose step is due, after the id
    ``after``, locked in id order with their customers; rows another run holds are skipped
    (it is advancing them)."""
    return list(
        JourneyEnrollment.objects.select_for_update(of=OWN_ROWS, skip_locked=True)
        .select_related("customer")
        .filter(
            campaign_id=campaign_id,
            status=JourneyEnrollment.Status.ACTIVE,
            next_run_at__lte=due_by,
            pk__gt=after,
        )
        .order_by("pk")[:limit]
    )


def lock_free_codes(batch_id: int, count: int) -> list[Coupon]:
    """Up to ``count`` unused codes of a batch nobody holds yet, locked in primary-key order;
    codes another transaction is handing out are skipped, not waited for."""
    if count <= 0:
        return []
    return list(
        Coupon.objects.select_for_update(of=OWN_ROWS, skip_locked=True)
        .filter(batch_id=batch_id, customer=None, is_active=True, times_used=0)
        .order_by("pk")[:count]
    )


def lock_rfm_scores() -> None:
    """Held by the RFM recomputation."""
    _advisory_lock(RFM_LOCK_KEY)


def lock_affinities() -> None:
    """Held by the recomputation of "also bought"."""
    _advisory_lock(AFFINITY_LOCK_KEY)


def _advisory_lock(key: int) -> None:
    """SQLite (the demo) has one writer at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def lock_customer_values() -> None:
    """Held while the customer values are rewritten (``reporting.clv``)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLV_LOCK_KEY])


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

"""Reads about segments shared by the admin, the clerk pages and (later) offers and coupons:
"is this customer in segment X", "the members of X", "the segments of this customer", and
the live count of a rule tree while a marketer edits it.

Membership answers read the materialised members (as of the segment's last refresh, which
``Segment.refreshed_at`` tells): one index probe per question, cheap enough for every cart.
``matching_customers`` evaluates rules now instead (one query, over every customer).
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from campaigns.models import CustomerRfm, Segment, SegmentChange, SegmentMembership
from campaigns.rules import compile_rules, validate_segment_rules
from customers.models import Customer

# Room to hash the subqueries of a segment over a million customers (as refreshes have).
COUNT_WORK_MEM = "128MB"


def members(segment: Segment) -> QuerySet[Customer]:
    """The segment's customers (never an erased one)."""
    return Customer.objects.filter(erased_at=None, segment_memberships__segment=segment)


def is_member(*, customer: Customer, segment: Segment) -> bool:
    return SegmentMembership.objects.filter(
        customer=customer, segment=segment, customer__erased_at=None
    ).exists()


def segments_of(customer: Customer) -> QuerySet[Segment]:
    """The segments a customer is in now (by name)."""
    if customer.erased_at is not None:
        return Segment.objects.none()
    return Segment.objects.filter(memberships__customer=customer).order_by("name")


def members_among(segment: Segment, customer_ids: Iterable[int]) -> set[int]:
    """Which of these customers are in the segment: one query for a whole list."""
    return set(
        SegmentMembership.objects.filter(
            segment=segment, customer_id__in=list(customer_ids), customer__erased_at=None
        ).values_list("customer_id", flat=True)
    )


def recent_changes(segment: Segment, limit: int = 20) -> QuerySet[SegmentChange]:
    return segment.changes.select_related("customer").order_by("-changed_at", "-pk")[:limit]


def rfm_of(customer: Customer) -> CustomerRfm | None:
    return CustomerRfm.objects.filter(customer=customer).first()


def matching_customers(rules: Any, *, now: datetime | None = None) -> QuerySet[Customer]:
    """The customers the rules select right now (not materialised): one query."""
    now = now or timezone.now()
    return Customer.objects.filter(erased_at=None).filter(compile_rules(rules, now=now))


def count_matching(rules: Any, *, segment: Segment | None = None) -> int:
    """How many customers the rules select now, for the admin while the rules are edited.
    Checks them as a save would (``RuleError``); the count may run at most
    ``SEGMENT_COUNT_TIMEOUT_SECONDS`` on PostgreSQL (then ``OperationalError``)."""
    if segment is not None:  # circles through other segments, as saving would refuse
        validate_segment_rules(rules, segment=segment)
    query = matching_customers(rules)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('statement_timeout', %s, true), "
                    "set_config('work_mem', %s, true)",
                    [str(settings.SEGMENT_COUNT_TIMEOUT_SECONDS * 1000), COUNT_WORK_MEM],
                )
        return query.count()

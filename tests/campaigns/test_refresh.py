"""Refreshing a segment materialises its members set-based in SQL and records who joined and
who left; erased customers are never members; the number of queries does not grow with the
number of customers; two refreshes of one segment never interleave."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import selectors
from campaigns.models import Segment, SegmentChange, SegmentMembership, SegmentRefresh
from campaigns.rules import RuleError
from campaigns.services import refresh_scheduled_segments, refresh_segment
from customers.models import Customer
from customers.services import erase_customer
from tests.campaigns.conftest import NOW, ago
from tests.campaigns.factories import order, segment
from tests.concurrency import run_concurrently

pytestmark = pytest.mark.django_db

RECENT_BUYERS = {"and": [{"field": "recency_days", "operator": "lte", "value": 7}]}


def member_names(seg: Segment) -> set[str]:
    return set(selectors.members(seg).values_list("first_name", flat=True))


def changes(seg: Segment) -> set[tuple[str, str]]:
    return set(seg.changes.values_list("customer__first_name", "kind"))


def test_a_refresh_records_who_joined_and_who_left(town, time_machine):
    recent = segment("Bought this week", RECENT_BUYERS)

    first = refresh_segment(segment=recent)

    assert member_names(recent) == {"anna", "chloe"}
    assert (first.joined, first.left, first.members) == (2, 0, 2)
    assert changes(recent) == {("anna", "joined"), ("chloe", "joined")}
    assert (recent.member_count, recent.refreshed_at) == (2, NOW)

    # Three days on, anna's last purchase is 8 days old; ben buys for the first time.
    time_machine.move_to(NOW + timedelta(days=3))
    order(town.ben, at=NOW + timedelta(days=3), total="40.00")

    second = refresh_segment(segment=recent)

    assert member_names(recent) == {"ben", "chloe"}
    assert (second.joined, second.left, second.members) == (1, 1, 2)
    assert set(second.changes.values_list("customer__first_name", "kind")) == {
        ("anna", "left"),
        ("ben", "joined"),
    }
    chloe = SegmentMembership.objects.get(segment=recent, customer=town.chloe)
    assert chloe.joined_at == NOW  # kept from her first join


def test_a_refresh_with_nothing_to_change_records_nothing(town):
    recent = segment("Bought this week", RECENT_BUYERS)
    refresh_segment(segment=recent)

    again = refresh_segment(segment=recent)

    assert (again.joined, again.left, again.members) == (0, 0, 2)
    assert SegmentChange.objects.count() == 2


def test_an_erased_customer_is_never_a_member(town):
    # eve bought 2 days ago, but was erased yesterday.
    recent = segment("Bought this week", RECENT_BUYERS)

    refresh_segment(segment=recent)

    assert "eve" not in member_names(recent)
    assert not SegmentMembership.objects.filter(customer=town.eve).exists()


def test_erasing_a_member_takes_them_out_of_every_segment_at_once(town):
    recent = segment("Bought this week", RECENT_BUYERS)
    vip = segment("VIP", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=vip, customer=town.anna, joined_at=NOW)
    refresh_segment(segment=recent)

    erase_customer(customer=town.anna, requested_via="test")

    assert not SegmentMembership.objects.filter(customer=town.anna).exists()
    assert set(town.anna.segment_changes.values_list("segment__name", "kind")) == {
        ("Bought this week", "joined"),
        ("Bought this week", "left"),
        ("VIP", "left"),
    }


def test_rules_that_no_longer_hold_refuse_the_refresh_and_change_nothing(town):
    runners = segment(
        "Runners", {"and": [{"field": "bought_category", "operator": "in", "value": ["running"]}]}
    )
    refresh_segment(segment=runners)
    before = member_names(runners)
    Segment.objects.filter(pk=runners.pk).update(
        rules={"and": [{"field": "bought_category", "operator": "in", "value": ["gone"]}]}
    )
    runners.refresh_from_db()

    with pytest.raises(RuleError):
        refresh_segment(segment=runners)

    assert member_names(runners) == before
    assert runners.refreshes.count() == 1


def test_the_schedule_refreshes_every_automatic_segment_and_skips_broken_ones(town):
    recent = segment("Bought this week", RECENT_BUYERS)
    manual = segment("Manual", RECENT_BUYERS, auto_refresh=False)
    broken = segment("Broken", RECENT_BUYERS)
    Segment.objects.filter(pk=broken.pk).update(
        rules={"and": [{"field": "bought_sku", "operator": "in", "value": ["NONE"]}]}
    )
    Segment.objects.create(name="Draft, no rules yet")

    assert refresh_scheduled_segments() == {"refreshed": 1, "failed": 1}
    assert member_names(recent) == {"anna", "chloe"}
    assert member_names(manual) == set()
    assert recent.refreshes.get().trigger == SegmentRefresh.Trigger.SCHEDULE


RICH_RULES = {
    "and": [
        {"field": "recency_days", "operator": "lte", "value": 30},
        {"field": "spend", "operator": "gte", "value": 10, "days": 365},
        {"field": "bought_category", "operator": "in", "value": ["footwear"]},
        {
            "not": {
                "field": "consent",
                "operator": "granted",
                "value": "sms",
                "purpose": "marketing",
            }
        },
        {
            "or": [
                {"field": "city", "operator": "in", "value": ["paris", "lyon"]},
                {
                    "field": "viewed_category_not_bought",
                    "operator": "in",
                    "value": ["running"],
                    "days": 30,
                },
            ]
        },
    ]
}


def buyers(town, how_many: int, *, prefix: str = "buyer") -> None:
    """Customers who prefer Paris Rivoli and bought road shoes in the last 20 days."""
    for n in range(how_many):
        customer = Customer.objects.create(
            first_name=f"{prefix}{n}", preferred_store_code="PAR-RIV"
        )
        order(customer, at=ago(days=n % 20), total="30.00", skus=(town.ROAD,))


@pytest.mark.parametrize("how_many", [3, 60])
def test_a_refresh_takes_the_same_queries_however_many_customers(
    town, how_many, django_assert_max_num_queries
):
    rich = segment("Rich", RICH_RULES)
    buyers(town, how_many)

    with django_assert_max_num_queries(22):
        refresh = refresh_segment(segment=rich)

    assert refresh.joined == how_many + 2  # the buyers, anna and chloe


def test_the_number_of_queries_is_the_same_at_both_sizes(town):
    rich = segment("Rich", RICH_RULES)
    buyers(town, 3, prefix="small")
    with CaptureQueriesContext(connection) as small:
        refresh_segment(segment=rich)
    buyers(town, 60, prefix="large")

    with CaptureQueriesContext(connection) as large:
        refresh = refresh_segment(segment=rich)

    assert refresh.joined == 60
    assert len(large) == len(small)


@pytest.mark.django_db(transaction=True)
@pytest.mark.concurrency
def test_two_refreshes_of_one_segment_never_interleave(town):
    recent = segment("Bought this week", RECENT_BUYERS)
    for n in range(30):
        order(Customer.objects.create(first_name=f"new{n}"), at=ago(days=1))

    outcome = run_concurrently(
        [lambda: refresh_segment(segment=recent) for _ in range(4)], refusal=RuleError
    )

    assert outcome.crashed == [], outcome.summary(4)
    assert sorted(r.joined for r in outcome.granted) == [0, 0, 0, 32]
    assert recent.changes.filter(kind="joined").count() == 32
    assert SegmentMembership.objects.filter(segment=recent).count() == 32

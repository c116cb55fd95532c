"""What offers, coupons and the clerk pages will ask: is this customer in segment X, who is in
it, which segments is a customer in; each one query, as of the last refresh."""

import pytest

from campaigns import selectors
from campaigns.models import Segment, SegmentMembership
from campaigns.services import refresh_segment
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment

pytestmark = pytest.mark.django_db

RECENT = {"field": "recency_days", "operator": "lte", "value": 7}


@pytest.fixture
def recent(town):
    made = segment("Recent", RECENT)
    refresh_segment(segment=made)
    return made


def test_is_member_reads_the_last_refresh(town, recent, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert selectors.is_member(customer=town.anna, segment=recent)
        assert not selectors.is_member(customer=town.ben, segment=recent)


def test_the_segments_of_a_customer(town, recent):
    vip = segment("VIP", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=vip, customer=town.anna, joined_at=NOW)

    assert list(selectors.segments_of(town.anna)) == [recent, vip]
    assert list(selectors.segments_of(town.ben)) == []


def test_which_of_many_customers_are_members_in_one_query(town, recent, django_assert_num_queries):
    everyone = [town.anna.pk, town.ben.pk, town.chloe.pk, town.david.pk]

    with django_assert_num_queries(1):
        found = selectors.members_among(recent, everyone)

    assert found == {town.anna.pk, town.chloe.pk}


def test_an_erased_customer_is_no_member_even_before_any_refresh(town, recent):
    # A membership row left by hand (erasure removes them) still never counts.
    SegmentMembership.objects.create(segment=recent, customer=town.eve, joined_at=NOW)

    assert not selectors.is_member(customer=town.eve, segment=recent)
    assert town.eve not in selectors.members(recent)
    assert list(selectors.segments_of(town.eve)) == []

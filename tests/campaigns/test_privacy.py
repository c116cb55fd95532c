"""What campaigns holds about a person follows them: in their data export, out at erasure
(see test_refresh), onto the survivor of a merge."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from campaigns.models import CustomerRfm, Segment, SegmentMembership
from campaigns.services import refresh_rfm_scores, refresh_segment
from customers.selectors import customer_export
from customers.services import merge_customers
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment

pytestmark = pytest.mark.django_db

RECENT = {"field": "recency_days", "operator": "lte", "value": 7}


def test_the_export_holds_the_segments_their_history_and_the_rfm_scores(town):
    refresh_segment(segment=segment("Bought this week", RECENT))
    refresh_rfm_scores(now=NOW)

    document = customer_export(town.anna, now=NOW)

    section = json.loads(json.dumps(document["campaigns"], cls=DjangoJSONEncoder))
    assert section["segments"] == [
        {"segment__name": "Bought this week", "joined_at": "2026-03-15T12:00:00Z"}
    ]
    assert section["segment_history"] == [
        {
            "segment__name": "Bought this week",
            "kind": "joined",
            "changed_at": "2026-03-15T12:00:00Z",
        }
    ]
    assert (section["rfm"]["r_score"], section["rfm"]["cell"]) == (2, "hibernating")
    assert "campaigns.SegmentMembership" not in document.get("held_by_other_apps", {})


def test_a_merged_profiles_memberships_join_the_survivor_once(town):
    both = segment("Both", kind=Segment.Kind.STATIC)
    only_merged = segment("Only Chloe", kind=Segment.Kind.STATIC)
    for customer in (town.anna, town.chloe):
        SegmentMembership.objects.create(segment=both, customer=customer, joined_at=NOW)
    SegmentMembership.objects.create(segment=only_merged, customer=town.chloe, joined_at=NOW)
    refresh_rfm_scores(now=NOW)

    merge_customers(customer=town.anna, other=town.chloe, cause="same person")

    assert sorted(town.anna.segment_memberships.values_list("segment__name", flat=True)) == [
        "Both",
        "Only Chloe",
    ]
    assert SegmentMembership.objects.filter(segment=both).count() == 1
    assert CustomerRfm.objects.filter(customer=town.anna).exists()

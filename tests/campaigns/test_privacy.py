"""What campaigns holds about a person follows them: in their data export, out at erasure
(see test_refresh), onto the survivor of a merge."""

import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from campaigns.models import Coupon, CustomerRfm, RefusedCode, Segment, SegmentMembership
from campaigns.services import record_refused_code, refresh_rfm_scores, refresh_segment
from customers.selectors import customer_export
from customers.services import erase_customer, merge_customers
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment
from tests.campaigns.offer_factories import coupon

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


def test_the_export_holds_personal_codes_and_the_codes_they_tried_that_were_refused(town):
    coupon("ANNA10", customer=town.anna)
    record_refused_code(tried="GUESS1", reason="unknown", customer=town.anna, channel="web")
    record_refused_code(tried="GUESS2", reason="unknown", customer=town.chloe, channel="web")

    section = customer_export(town.anna, now=NOW)["campaigns"]

    assert [c["code"] for c in section["personal_codes"]] == ["ANNA10"]
    assert [(r["tried"], r["reason"]) for r in section["refused_codes"]] == [("GUESS1", "unknown")]


def test_erasure_switches_off_personal_codes_and_unlinks_the_codes_they_tried(town):
    coupon("ANNA10", customer=town.anna)
    coupon("CHLOE10", customer=town.chloe)
    record_refused_code(tried="GUESS1", reason="unknown", customer=town.anna, channel="web")

    erase_customer(customer=town.anna, requested_via="e-mail")

    assert dict(Coupon.objects.values_list("code", "is_active")) == {
        "ANNA10": False,
        "CHLOE10": True,
    }
    refused = RefusedCode.objects.get()
    assert (refused.tried, refused.customer) == ("GUESS1", None)  # the attempt is still counted

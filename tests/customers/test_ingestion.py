"""Touchpoint batches: every good event lands with bulk inserts, bad ones are reported by
index, retries are harmless and anonymous events join their customer once known."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from customers.events import MAX_BATCH_SIZE
from customers.models import Customer, Identity, Touchpoint
from customers.services import ingest_touchpoints, resolve_customer
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from tests.customers.factories import CustomerFactory, IdentityFactory

pytestmark = pytest.mark.django_db


def event(**fields) -> dict:
    return {
        "type": "product_view",
        "occurred_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "anonymous_id": "web-visitor-1",
        **fields,
    }


@time_machine.travel("2026-11-24 12:00Z")
def test_a_batch_with_bad_events_stores_the_good_ones_and_reports_the_bad_by_index():
    events = [
        event(sku_code="RAIN-JACKET-M"),
        event(occurred_at=None),
        event(type="teleport"),
        event(utm={"source": "newsletter", "medium": "email", "campaign": "autumn"}),
        "not an object",
    ]

    report = ingest_touchpoints(channel=Channel.WEB, events=events)

    assert report.accepted == 2
    assert [(r["index"], list(r["errors"])) for r in report.rejected] == [
        (1, ["occurred_at"]),
        (2, ["type"]),
        (4, ["non_field"]),
    ]
    stored = Touchpoint.objects.order_by("id")
    assert [t.sku_code for t in stored] == ["RAIN-JACKET-M", ""]
    assert stored[1].utm_campaign == "autumn"


@time_machine.travel("2026-11-24 12:00Z")
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"occurred_at": "2026-11-24T10:15:00"}, "occurred_at"),  # no offset
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": "2026-11-25T12:00:00Z"}, "occurred_at"),  # the future
        ({"anonymous_id": ""}, "anonymous_id"),
        ({"sku_code": "X" * 65}, "sku_code"),
        ({"properties": ["a", "list"]}, "properties"),
        ({"properties": {"blob": "x" * 9000}}, "properties"),
        ({"utm": {"source": "a", "campain": "typo"}}, "utm.campain"),
        ({"channel": "store"}, "channel"),
    ],
)
def test_each_bad_field_is_named(fields, field):
    report = ingest_touchpoints(channel=Channel.WEB, events=[event(), event(**fields)])

    assert report.rejected == [{"index": 1, "errors": {field: report.rejected[0]["errors"][field]}}]


def test_a_batch_over_500_events_is_refused_whole():
    with pytest.raises(InvalidInput) as refused:
        ingest_touchpoints(channel=Channel.WEB, events=[event()] * (MAX_BATCH_SIZE + 1))

    assert "events" in refused.value.details
    assert not Touchpoint.objects.exists()


def test_a_batch_where_no_event_is_good_is_refused_with_every_reason():
    with pytest.raises(InvalidInput) as refused:
        ingest_touchpoints(channel=Channel.WEB, events=[event(occurred_at=None), {}])

    assert [r["index"] for r in refused.value.details["rejected"]] == [0, 1]
    assert not Touchpoint.objects.exists()


def test_a_retried_batch_stores_each_event_once():
    events = [event(event_id="e-1"), event(event_id="e-2"), event(event_id="e-2")]
    ingest_touchpoints(channel=Channel.WEB, events=events[:2])

    report = ingest_touchpoints(channel=Channel.WEB, events=events)

    assert (report.accepted, report.duplicates) == (0, 3)
    assert Touchpoint.objects.count() == 2


def test_the_same_event_id_from_another_channel_is_another_event():
    ingest_touchpoints(channel=Channel.WEB, events=[event(event_id="e-1")])

    report = ingest_touchpoints(channel=Channel.IOS, events=[event(event_id="e-1")])

    assert report.accepted == 1


def test_events_of_a_known_anonymous_id_go_to_its_customer_and_unknown_ones_wait():
    known = CustomerFactory()
    IdentityFactory(customer=known, kind="anonymous", value="web-known")

    ingest_touchpoints(
        channel=Channel.WEB,
        events=[event(anonymous_id="web-known"), event(anonymous_id="web-stranger")],
    )

    assert known.touchpoints.count() == 1
    assert Touchpoint.objects.get(anonymous_id="web-stranger").customer is None


def test_app_events_are_matched_by_device_id():
    customer = CustomerFactory()
    IdentityFactory(customer=customer, kind="device", value="ios-device-1")

    ingest_touchpoints(channel=Channel.IOS, events=[event(anonymous_id="ios-device-1")])

    assert customer.touchpoints.count() == 1


def test_waiting_events_join_the_customer_when_the_anonymous_id_is_resolved():
    ingest_touchpoints(channel=Channel.WEB, events=[event(), event(type="add_to_cart")])

    customer = resolve_customer(
        identities=[("email", "later@example.com"), ("anonymous", "web-visitor-1")], cause="t"
    ).customer

    assert customer.touchpoints.count() == 2


def test_a_signed_in_customers_events_are_theirs_and_their_anonymous_id_joins_them():
    customer = CustomerFactory()
    ingest_touchpoints(channel=Channel.WEB, events=[event(type="page_view")])

    report = ingest_touchpoints(
        channel=Channel.WEB,
        customer=customer,
        events=[event(), event(anonymous_id="")],
    )

    assert report.accepted == 2
    assert customer.touchpoints.count() == 3
    assert customer.identities.filter(kind="anonymous", value="web-visitor-1").exists()


def test_a_signed_in_event_merges_a_guest_profile_holding_the_same_anonymous_id():
    account = CustomerFactory()
    guest = CustomerFactory(email="", with_email_identity=False)
    IdentityFactory(customer=guest, kind="anonymous", value="web-visitor-1")

    ingest_touchpoints(channel=Channel.WEB, customer=account, events=[event()])

    assert Customer.objects.count() == 1
    assert Identity.objects.get(value="web-visitor-1").customer.touchpoints.count() == 1


def test_ingestion_runs_a_fixed_number_of_queries_whatever_the_batch_size(
    django_assert_max_num_queries,
):
    now = timezone.now()
    events = [
        event(event_id=f"e-{i}", anonymous_id=f"v-{i % 7}", occurred_at=now.isoformat())
        for i in range(MAX_BATCH_SIZE)
    ]

    with django_assert_max_num_queries(6):
        report = ingest_touchpoints(channel=Channel.WEB, events=events)

    assert report.accepted == MAX_BATCH_SIZE


def test_an_event_a_few_seconds_ahead_of_the_server_clock_is_accepted():
    ahead = (timezone.now() + timedelta(seconds=30)).isoformat()

    report = ingest_touchpoints(channel=Channel.WEB, events=[event(occurred_at=ahead)])

    assert report.accepted == 1


def test_a_signed_in_event_never_merges_another_account_holding_that_anonymous_id():
    account = CustomerFactory()
    other_account = CustomerFactory(password="md5$salt$hash")
    IdentityFactory(customer=other_account, kind="anonymous", value="web-visitor-1")

    ingest_touchpoints(channel=Channel.WEB, customer=account, events=[event()])

    assert Customer.objects.count() == 2
    assert Identity.objects.get(value="web-visitor-1").customer == other_account
    assert account.touchpoints.count() == 1


def test_the_event_shape_in_the_api_schema_is_the_one_ingestion_checks():
    from customers.api.serializers import TouchpointEventSerializer, UtmSerializer
    from customers.events import KNOWN_FIELDS, UTM_KEYS

    assert set(TouchpointEventSerializer().fields) == KNOWN_FIELDS
    assert set(UtmSerializer().fields) == set(UTM_KEYS)

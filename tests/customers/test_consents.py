"""Consents are an append-only history whose latest row per (channel, purpose) is the state;
one question answers for one customer, a queryset filter for millions."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from customers.models import Consent, ConsentPurpose, ContactChannel, Customer
from customers.selectors import contactable, current_consents, may_contact
from customers.services import ConsentDecision, record_consent, record_consents
from omni.core.channels import Channel
from omni.core.errors import InvalidInput
from tests.customers.factories import ConsentFactory, CustomerFactory, StaffFactory

pytestmark = pytest.mark.django_db


def decide(customer, granted: bool, channel="email", purpose="marketing", **evidence):
    return record_consent(
        customer=customer,
        channel=channel,
        purpose=purpose,
        granted=granted,
        source_channel=evidence.pop("source_channel", Channel.WEB),
        **evidence,
    )


def test_a_customer_who_was_never_asked_may_not_be_contacted():
    assert may_contact(CustomerFactory(), "email", "marketing") is False


def test_the_latest_decision_is_the_current_state_and_the_history_stays():
    customer = CustomerFactory()
    with time_machine.travel("2026-01-10 09:00Z"):
        decide(customer, True)
    with time_machine.travel("2026-03-02 18:30Z"):
        decide(customer, False)

    assert may_contact(customer, "email", "marketing") is False
    assert list(customer.consents.values_list("granted", flat=True)) == [False, True]


def test_a_decision_for_one_channel_leaves_the_others_alone():
    customer = CustomerFactory()
    decide(customer, True, channel="sms")

    assert may_contact(customer, "sms", "marketing") is True
    assert may_contact(customer, "email", "marketing") is False
    assert may_contact(customer, "sms", "analytics") is False


def test_consent_keeps_its_evidence():
    customer = CustomerFactory()
    clerk = StaffFactory()

    online = decide(customer, True, ip_address="203.0.113.7", user_agent="Safari/17")
    in_store = decide(customer, True, channel="post", source_channel="store", recorded_by=clerk)

    assert (online.ip_address, online.user_agent, online.source_channel) == (
        "203.0.113.7",
        "Safari/17",
        "web",
    )
    assert (in_store.recorded_by, in_store.source_channel) == (clerk, "store")


def test_a_form_sending_every_preference_records_only_the_changes():
    customer = CustomerFactory()
    decide(customer, True, channel="email")

    added = record_consents(
        customer=customer,
        decisions=[
            ConsentDecision("email", "marketing", True),  # unchanged
            ConsentDecision("sms", "marketing", False),  # never asked: now an explicit no
            ConsentDecision("push", "marketing", True),  # new
        ],
        source_channel=Channel.IOS,
    )

    assert [(c.channel, c.granted) for c in added] == [("sms", False), ("push", True)]
    assert customer.consents.count() == 3


@pytest.mark.parametrize(
    ("channel", "purpose", "field"),
    [("fax", "marketing", "channel"), ("email", "spam", "purpose")],
)
def test_an_unknown_consent_channel_or_purpose_is_refused_and_stores_nothing(
    channel, purpose, field
):
    customer = CustomerFactory()

    with pytest.raises(InvalidInput) as refused:
        decide(customer, True, channel=channel, purpose=purpose)

    assert list(refused.value.details) == [field]
    assert not Consent.objects.exists()


def test_current_consents_lists_every_channel_and_purpose():
    customer = CustomerFactory()
    decide(customer, True, channel="sms", purpose="analytics")

    states = current_consents(customer)

    assert len(states) == len(ContactChannel.values) * len(ConsentPurpose.values)
    granted = [(s["channel"], s["purpose"]) for s in states if s["granted"]]
    assert granted == [("sms", "analytics")]


def test_the_bulk_filter_keeps_only_customers_whose_latest_decision_grants(
    django_assert_num_queries,
):
    now = timezone.now()
    granted = CustomerFactory()
    ConsentFactory(customer=granted, granted=True, recorded_at=now)
    withdrew = CustomerFactory()
    ConsentFactory(customer=withdrew, granted=True, recorded_at=now - timedelta(days=9))
    ConsentFactory(customer=withdrew, granted=False, recorded_at=now)
    regranted = CustomerFactory()
    ConsentFactory(customer=regranted, granted=False, recorded_at=now - timedelta(days=9))
    ConsentFactory(customer=regranted, granted=True, recorded_at=now)
    other_channel = CustomerFactory()
    ConsentFactory(customer=other_channel, channel="sms", granted=True)
    CustomerFactory()  # never asked

    with django_assert_num_queries(1):
        found = set(contactable("email", "marketing"))

    assert found == {granted, regranted}


def test_the_bulk_filter_narrows_a_given_segment():
    in_segment, outside = CustomerFactory(first_name="Léa"), CustomerFactory(first_name="Hugo")
    for customer in (in_segment, outside):
        ConsentFactory(customer=customer)

    found = contactable("email", "marketing", Customer.objects.filter(first_name="Léa"))

    assert list(found) == [in_segment]

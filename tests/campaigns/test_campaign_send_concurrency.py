"""Two sends of one campaign at once (a redelivered task beside the first, two workers) on
PostgreSQL with real threads: each batch is taken by one of them under the campaign's lock,
so every member is planned once and gets one message. Two campaigns handing out codes of one
batch at once never hand the same code to two people."""

import pytest

from campaigns import services
from campaigns.models import CampaignRecipient, Coupon
from customers.models import Notification
from omni.core.errors import InvalidTransition
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.offer_factories import offer
from tests.concurrency import run_concurrently

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)
    # Queued messages' delivery tasks are not the subject here.
    monkeypatch.setattr("customers.notifications._enqueue", lambda pk: None)


def test_two_sends_of_one_campaign_at_once_queue_each_message_once():
    customers = [shopper(f"P{n}", "email") for n in range(12)]
    spring = campaign(customers)
    services.start_campaign(campaign=spring)

    def send():
        return services.send_campaign(campaign_id=spring.pk, batch_size=3)

    outcome = run_concurrently([send, send, send], refusal=InvalidTransition)

    assert len(outcome.granted) == 3, outcome.summary(3)
    assert sum(result.reached for result in outcome.granted) == 12
    assert Notification.objects.count() == 12
    assert CampaignRecipient.objects.filter(campaign=spring).count() == 12
    spring.refresh_from_db()
    assert (spring.status, spring.recipient_count) == ("completed", 12)


def test_two_campaigns_sharing_a_code_batch_never_give_one_code_to_two_people():
    batch = services.generate_codes(offer=offer(trigger="code"), name="shared", quantity=20)
    first = campaign([shopper(f"A{n}", "email") for n in range(8)], code_batch=batch)
    second = campaign([shopper(f"B{n}", "email") for n in range(8)], code_batch=batch)
    for made in (first, second):
        services.start_campaign(campaign=made)

    outcome = run_concurrently(
        [
            lambda: services.send_campaign(campaign_id=first.pk, batch_size=4),
            lambda: services.send_campaign(campaign_id=second.pk, batch_size=4),
        ],
        refusal=InvalidTransition,
    )

    assert len(outcome.granted) == 2, outcome.summary(2)
    handed = list(CampaignRecipient.objects.exclude(coupon=None).values_list("coupon", flat=True))
    assert len(handed) == len(set(handed)) == 16
    assert Coupon.objects.filter(batch=batch).exclude(customer=None).count() == 16


def test_two_campaigns_sharing_a_code_batch_give_a_shared_customer_one_code():
    batch = services.generate_codes(offer=offer(trigger="code"), name="shared", quantity=20)
    everyone = [shopper(f"S{n}", "email") for n in range(8)]
    first = campaign(everyone, code_batch=batch)
    second = campaign(everyone, code_batch=batch)
    for made in (first, second):
        services.start_campaign(campaign=made)

    outcome = run_concurrently(
        [
            lambda: services.send_campaign(campaign_id=first.pk, batch_size=2),
            lambda: services.send_campaign(campaign_id=second.pk, batch_size=2),
        ],
        refusal=InvalidTransition,
    )

    assert len(outcome.granted) == 2, outcome.summary(2)
    assert Coupon.objects.filter(batch=batch).exclude(customer=None).count() == 8
    for customer in everyone:
        codes = set(
            CampaignRecipient.objects.filter(customer=customer).values_list("coupon", flat=True)
        )
        assert len(codes) == 1, customer

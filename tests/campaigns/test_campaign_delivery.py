"""What became of a campaign's messages, per channel, on its admin page: waiting, sent, failed,
suppressed by reason, opened, clicked, and its codes used per channel. Counts by hand."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import Coupon, Redemption
from customers.models import Notification
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.factories import order
from tests.campaigns.offer_factories import offer

pytestmark = pytest.mark.django_db

Status, Reason = Notification.Status, Notification.SuppressionReason


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def outcome(customer, **fields):
    Notification.objects.filter(customer=customer).update(**fields)


def test_the_delivery_of_each_channel_and_the_codes_used_per_channel(
    admin_client, django_assert_max_num_queries
):
    e_mails = [shopper(name, "email") for name in ("Anna", "Ben", "Chloe", "David", "Eve")]
    texted = [shopper(name, "sms", phone=f"+3361234567{n}") for n, name in enumerate("FG")]
    nobody = shopper("Hugo")  # consented to nothing: no channel
    batch = services.generate_codes(offer=offer(trigger="code"), name="spring", quantity=10)
    spring = campaign([*e_mails, *texted, nobody], code_batch=batch)
    services.start_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk)
    anna, ben, chloe, david, eve = e_mails
    outcome(anna, status=Status.SENT, opened_at="2026-03-15T12:00Z", clicked_at="2026-03-15T12:01Z")
    outcome(ben, status=Status.SENT, opened_at="2026-03-15T12:00Z")
    outcome(chloe, status=Status.FAILED)
    outcome(david, status=Status.SUPPRESSED, suppression_reason=Reason.CAPPED)
    outcome(eve, status=Status.WAITING, send_after="2026-03-16T08:00Z")
    outcome(texted[0], status=Status.SUPPRESSED, suppression_reason=Reason.NO_CONSENT)
    outcome(texted[1], status=Status.SENT)
    for customer, channel in [(anna, "store"), (ben, "web"), (texted[1], "store")]:
        code = Coupon.objects.get(batch=batch, customer=customer)
        Redemption.objects.create(
            coupon=code, customer=customer, reference="O-1", channel=channel, discount="5.00"
        )
    Redemption.objects.filter(customer=ben).update(status=Redemption.Status.RELEASED)
    # Anna bought twice within the window, Frank (texted) once; Ben's order was cancelled.
    order(anna, at=timezone.now() + timedelta(hours=1), total=Decimal("40.00"))
    order(anna, at=timezone.now() + timedelta(days=2), total=Decimal("10.00"))
    order(ben, at=timezone.now() + timedelta(hours=1), total=Decimal("99.00"), status="cancelled")
    order(texted[1], at=timezone.now() + timedelta(days=1), total=Decimal("25.00"))
    order(chloe, at=timezone.now() + timedelta(days=30), total=Decimal("60.00"))  # too late

    with django_assert_max_num_queries(2):
        delivery = selectors.campaign_delivery(spring)

    email, sms = delivery.channels
    assert (email.channel, email.messages, email.sent, email.failed, email.waiting) == (
        "email",
        5,
        2,
        1,
        1,
    )
    assert (email.opened, email.clicked, email.suppressed) == (2, 1, {"capped": 1})
    assert (sms.channel, sms.messages, sms.sent, sms.suppressed) == ("sms", 2, 1, {"no_consent": 1})
    assert (email.converted, email.revenue) == (1, Decimal("50.00"))
    assert (sms.converted, sms.revenue) == (1, Decimal("25.00"))
    assert delivery.not_sent == {"no_channel": 1}
    assert delivery.redemptions == {"store": (2, Decimal("10.00"))}  # Ben's was given back
    page = admin_client.get(f"/admin/campaigns/campaign/{spring.pk}/change/").content.decode()
    assert "capped: 1" in page
    assert "store: 2 uses" in page
    assert page.count('class="funnel-bar"') == 10  # five steps for each of the two channels
    assert "email: 1 converted of 5 messages" in page

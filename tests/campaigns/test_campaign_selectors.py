"""What the clerk sees for a customer in store (counter messages), and a campaign previewed
as one customer would get it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns import selectors, services
from campaigns.models import Campaign, CampaignRecipient, Coupon
from customers.models import Notification
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.offer_factories import offer

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def sent(spring: Campaign) -> Campaign:
    services.start_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk)
    spring.refresh_from_db()
    return spring


def test_the_clerk_sees_the_counter_message_with_the_customers_own_code():
    anna = shopper("Anna")  # reachable nowhere: the counter still tells the clerk
    batch = services.generate_codes(offer=offer(trigger="code"), name="b", quantity=1)
    sent(campaign([anna], code_batch=batch))
    code = Coupon.objects.get(batch=batch).code

    [message] = selectors.counter_messages_for(anna)

    assert message.campaign == "Spring"
    assert message.text == f"Offer Anna the spring code {code}"
    assert message.code == code


def test_the_holdout_and_drafts_show_nothing_at_the_counter():
    customers = [shopper(f"P{n}", "email") for n in range(30)]
    sent(campaign(customers, holdout_percent=Decimal("50")))
    campaign(customers)  # a draft
    held = CampaignRecipient.objects.filter(reason="holdout").values_list("customer", flat=True)

    for customer in customers:
        shown = selectors.counter_messages_for(customer)
        assert len(shown) == (0 if customer.pk in held else 1)


def test_a_completed_campaign_shows_at_the_counter_for_its_conversion_window():
    anna = shopper("Anna", "email")
    sent(campaign([anna], conversion_window_days=7))

    with time_machine.travel(NOW + timedelta(days=7), tick=False):
        assert len(selectors.counter_messages_for(anna)) == 1
    with time_machine.travel(NOW + timedelta(days=7, minutes=1), tick=False):
        assert selectors.counter_messages_for(anna) == []


def test_counter_messages_cost_a_fixed_number_of_queries(django_assert_max_num_queries):
    anna = shopper("Anna", "email")
    for n in range(3):
        spring = campaign([anna], name=f"Campaign {n}")
        spring.variants.update(counter_message="{{ first_name }} {{ tier }} {{ store }}")
        sent(spring)

    # The receipts, then the values of the customer once (loyalty, store).
    with django_assert_max_num_queries(3):
        assert len(selectors.counter_messages_for(anna)) == 3


def test_preview_renders_every_variant_in_every_channel_and_writes_nothing():
    anna = shopper("Anna", "push", "email", device="ios-anna")
    spring = campaign(
        [anna],
        variants=("A", "B"),
        code_batch=services.generate_codes(offer=offer(trigger="code"), name="b", quantity=1),
    )
    spring.variants.filter(code="B").update(sms_text="Hello {{ first_name }}! " + "x" * 200)

    preview = selectors.preview_campaign(spring, anna)

    assert preview.channel == "push"
    assert preview.reachable == {"push", "email"}
    assert preview.assigned in {"A", "B"}
    a, b = preview.variants
    assert [m.channel for m in a.messages] == ["push", "email", "sms"]
    assert a.messages[1].html == "<p>Hello Anna, use YOURCODE</p>"
    assert (b.sms.parts, b.sms.encoding) == (2, "GSM-7")
    assert b.counter == "Offer Anna the spring code YOURCODE"
    assert not Notification.objects.exists()
    assert not CampaignRecipient.objects.exists()
    assert not Coupon.objects.exclude(customer=None).exists()


def test_a_customer_is_found_for_a_preview_by_public_id_or_e_mail():
    anna = shopper("Anna")

    assert selectors.customer_for_preview(str(anna.public_id)) == anna
    assert selectors.customer_for_preview(f"  {anna.email.upper()} ") == anna
    assert selectors.customer_for_preview("nobody@example.com") is None

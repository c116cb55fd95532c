"""The campaigns that reached a customer are in their data export, and follow a merge once."""

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import CampaignRecipient
from customers.selectors import customer_export
from customers.services import merge_customers
from tests.campaigns.campaign_factories import campaign, shopper

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def sent(spring):
    services.start_campaign(campaign=spring)
    services.send_campaign(campaign_id=spring.pk)


def test_the_export_lists_the_campaigns_that_reached_the_customer():
    anna = shopper("Anna", "email")
    sent(campaign([anna]))

    document = customer_export(anna, now=timezone.now())

    [reached] = document["campaigns"]["reached_by_campaigns"]
    assert (reached["campaign__name"], reached["variant__code"], reached["channel"]) == (
        "Spring",
        "A",
        "email",
    )
    assert "campaigns.CampaignRecipient" not in document.get("held_by_other_apps", {})


def test_a_merge_keeps_one_row_per_campaign_on_the_survivor():
    older, newer = shopper("Anna", "email"), shopper("Anna", "sms", phone="+33600000009")
    both = campaign([older, newer], name="Both")
    only_newer = campaign([newer], name="Only newer")
    sent(both)
    sent(only_newer)

    merge_customers(customer=older, other=newer, cause="same person")

    assert sorted(
        CampaignRecipient.objects.filter(customer=older).values_list("campaign__name", "channel")
    ) == [("Both", "email"), ("Only newer", "sms")]
    assert not CampaignRecipient.objects.filter(customer=newer).exists()

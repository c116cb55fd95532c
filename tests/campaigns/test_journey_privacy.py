"""The journeys a customer entered are in their data export; erasure takes them out of every
journey and drops what their occasions were; a merge keeps one enrollment per occasion."""

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import JourneyEnrollment
from customers.selectors import customer_export
from customers.services import erase_customer, merge_customers
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import order
from tests.campaigns.journey_factories import MESSAGE, journey, wait
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_journeys_the_customer_entered():
    journey("order_completed", wait(24), MESSAGE)
    anna = shopper("Anna", "email")
    made = order(
        anna, at=timezone.now(), status="collected", fulfilment="pickup", store=LocationFactory()
    )
    made.events.create(from_status="ready_for_pickup", to_status="collected", actor_label="x")
    services.run_journeys()

    document = customer_export(anna, now=timezone.now())

    [entered] = document["campaigns"]["journeys"]
    assert (entered["campaign__name"], entered["occasion"], entered["status"]) == (
        "Journey order_completed",
        f"order:{made.number}",
        "active",
    )
    assert "campaigns.JourneyEnrollment" not in document.get("held_by_other_apps", {})


def test_erasure_takes_the_customer_out_of_every_journey():
    journey("welcome", wait(24), MESSAGE)
    anna = shopper("Anna", "email")
    services.run_journeys()

    erase_customer(customer=anna, requested_via="admin")

    left = JourneyEnrollment.objects.get()
    assert (left.status, left.exit_reason, left.context) == ("exited", "erased", {})


def test_a_merge_keeps_one_enrollment_per_occasion_on_the_survivor():
    journey("welcome", wait(24), MESSAGE)
    older, newer = shopper("Anna", "email"), shopper("Anna", "email")
    services.run_journeys()

    merge_customers(customer=older, other=newer, cause="same person")

    assert list(JourneyEnrollment.objects.values_list("customer", "occasion")) == [
        (older.pk, "welcome")
    ]

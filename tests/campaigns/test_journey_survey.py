"""The satisfaction survey after a pick-up, a delivery or a till sale: an order-completed
journey whose message carries {{ survey_link }}; the customer's answer through that link is a
survey_answer touchpoint about that order, credited to the journey."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from campaigns import services
from customers.models import Notification, Touchpoint
from orders.models import OrderEvent
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import order
from tests.campaigns.journey_factories import journey
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 16, 10, 0, tzinfo=UTC)  # 11:00 in Paris: no quiet hours


def collected(customer, store):
    made = order(
        customer,
        at=NOW - timedelta(days=1),
        status="collected",
        fulfilment="pickup",
        store=store,
        channel="ios",
    )
    OrderEvent.objects.create(
        order=made, from_status="ready_for_pickup", to_status="collected", actor_label="clerk"
    )
    return made


@pytest.mark.parametrize(("csat", "scale", "score"), [(0, "nps", 9), (1, "csat", 4)])
def test_a_survey_journey_asks_about_the_order_and_records_the_answer(
    client, time_machine, csat, scale, score
):
    time_machine.move_to(NOW - timedelta(minutes=5), tick=False)
    survey = journey(
        "order_completed",
        params={"csat": csat},
        text="How was order {{ order_number }}? {{ survey_link }}",
    )
    survey.variants.update(email_subject="How was it?")  # the link only in the body
    time_machine.move_to(NOW, tick=False)
    anna = shopper("Anna", "email")
    bought = collected(anna, LocationFactory(code="LYO-BEL"))

    services.run_journeys()

    body = Notification.objects.get(customer=anna).body
    assert f"How was order {bought.number}?" in body
    link = re.search(r"https?://\S+/survey/\S+/", body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200
    client.post(f"/{path}", {"score": score})

    answer = Touchpoint.objects.get(kind=Touchpoint.Kind.SURVEY_ANSWER)
    assert (answer.customer, answer.channel, answer.store_code, answer.campaign_code) == (
        anna,
        "ios",
        "LYO-BEL",
        str(survey.public_id),
    )
    assert (answer.properties["scale"], answer.properties["score"]) == (scale, score)
    assert answer.properties["order_number"] == bought.number

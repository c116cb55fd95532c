"""The journey engine: customers enter once per occasion, waits hold, a condition lets through
only who meets it, a purchase in any channel after entering exits before the next step, and
journey messages obey consent, caps and quiet hours like every campaign's."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import JourneyEnrollment, JourneyMessage
from customers.models import FrequencyCap, Notification
from inventory.models import Category
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import order
from tests.campaigns.journey_factories import MESSAGE, condition, journey, wait
from tests.inventory.factories import LocationFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)  # 13:00 in Paris, 21:00 in Tokyo


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def test_a_wait_holds_until_its_hours_have_passed(clock):
    welcome = journey("welcome", wait(24), MESSAGE)
    anna = shopper("Anna", "email")

    entered = services.run_journeys()
    clock.move_to(NOW + timedelta(hours=23, minutes=59))
    early = services.run_journeys()
    clock.move_to(NOW + timedelta(hours=24))
    due = services.run_journeys()

    assert (entered.entered, entered.queued) == (1, 0)
    assert early.queued == 0
    assert due.queued == 1
    enrollment = JourneyEnrollment.objects.get()
    assert (enrollment.status, enrollment.step) == ("completed", 2)
    notice = Notification.objects.get(customer=anna)
    assert notice.idempotency_key == f"journey:{welcome.public_id}:{enrollment.pk}:1"
    assert notice.source == f"campaign:{welcome.public_id}"
    assert notice.body == "Hello Anna"


def test_the_same_occasion_never_enters_twice_and_nobody_gets_a_step_twice(clock):
    journey("welcome")
    shopper("Anna", "email")

    services.run_journeys()
    clock.move_to(NOW + timedelta(hours=1))
    again = services.run_journeys()

    assert (again.entered, again.queued) == (0, 0)
    assert JourneyEnrollment.objects.count() == 1
    assert Notification.objects.count() == 1


def test_a_condition_step_lets_through_who_meets_it_and_the_others_leave(clock):
    journey("welcome", condition({"field": "age", "operator": "gte", "value": 30}), MESSAGE)
    anna = shopper("Anna", "email", birthday=date(1980, 5, 1))
    ben = shopper("Ben", "email", birthday=date(2005, 5, 1))

    result = services.run_journeys()

    assert (result.queued, result.exited) == (1, 1)
    assert Notification.objects.get().customer == anna
    left = JourneyEnrollment.objects.get(customer=ben)
    assert (left.status, left.exit_reason, left.exit_step) == ("exited", "condition", 0)


def test_an_order_at_the_till_after_entering_exits_before_the_message(clock):
    journey("welcome", wait(2), MESSAGE)
    anna = shopper("Anna", "email")
    ben = shopper("Ben", "email")
    services.run_journeys()
    store = LocationFactory(code="PAR-RIV")
    order(
        anna,
        at=NOW + timedelta(hours=1),
        channel="store",
        fulfilment="in_store",
        status="completed",
        store=store,
    )

    clock.move_to(NOW + timedelta(hours=2))
    result = services.run_journeys()

    assert (result.queued, result.exited) == (1, 1)
    gone = JourneyEnrollment.objects.get(customer=anna)
    assert (gone.status, gone.exit_reason, gone.exit_step) == ("exited", "purchased", 1)
    assert list(Notification.objects.values_list("customer", flat=True)) == [ben.pk]


def test_an_order_placed_before_entering_does_not_exit(clock):
    anna = shopper("Anna", "email")
    order(anna, at=NOW - timedelta(hours=1))
    journey("win_back", params={"days": 1})  # lapsed a day after that order
    clock.move_to(NOW + timedelta(days=1, minutes=5))

    result = services.run_journeys()

    assert (result.entered, result.queued, result.exited) == (1, 1, 0)


def test_a_customer_without_consent_gets_no_message_and_the_reason_is_kept(clock):
    journey("welcome")
    shopper("Anna")  # an e-mail address, no consent

    result = services.run_journeys()

    assert (result.queued, result.unreachable) == (0, 1)
    assert JourneyMessage.objects.get().reason == "no_channel"
    assert not Notification.objects.exists()


def test_frequency_caps_count_journey_messages_with_every_other_campaign(clock):
    FrequencyCap.objects.create(channel="", max_messages=1, period_days=7)
    journey("welcome")
    journey("welcome", text="Welcome again {{ first_name }}")
    anna = shopper("Anna", "email")

    result = services.run_journeys()

    assert (result.queued, result.suppressed) == (1, 1)
    statuses = Notification.objects.filter(customer=anna).order_by("pk")
    assert [(n.status, n.suppression_reason) for n in statuses] == [
        ("queued", ""),
        ("suppressed", "capped"),
    ]


def test_a_journey_message_in_the_customers_quiet_hours_waits(clock, settings):
    settings.MARKETING_QUIET_HOURS = "21:00-08:00"
    journey("welcome")
    shopper("Kenji", "email", time_zone="Asia/Tokyo")
    shopper("Anna", "email", time_zone="Europe/Paris")

    services.run_journeys()

    rows = Notification.objects.order_by("customer__first_name")
    assert [(n.customer.first_name, n.status, n.suppression_reason) for n in rows] == [
        ("Anna", "queued", ""),
        ("Kenji", "waiting", "quiet_hours"),
    ]


def test_a_message_step_may_name_the_variant_it_sends(clock):
    journey("welcome", MESSAGE, wait(24), ("message", "B"), variants=("A", "B"))
    shopper("Anna", "email")
    services.run_journeys()
    clock.move_to(NOW + timedelta(hours=24))

    services.run_journeys()

    subjects = list(Notification.objects.order_by("pk").values_list("subject", flat=True))
    assert subjects[1] == "B: Hello Anna"
    assert len(subjects) == 2


def test_a_paused_journey_holds_everyone_where_they_are(clock):
    welcome = journey("welcome", wait(1), MESSAGE)
    shopper("Anna", "email")
    services.run_journeys()
    services.pause_campaign(campaign=welcome)
    clock.move_to(NOW + timedelta(hours=2))

    assert services.run_journeys().queued == 0
    services.resume_campaign(campaign=welcome)
    assert services.run_journeys().queued == 1


def test_a_journey_past_its_end_takes_nobody_new_and_completes_when_empty(clock):
    welcome = journey("welcome", ends_at=NOW + timedelta(hours=1))
    clock.move_to(NOW + timedelta(hours=2))
    shopper("Anna", "email")

    result = services.run_journeys()

    assert result.entered == 0
    welcome.refresh_from_db()
    assert welcome.status == "completed"


def test_a_batch_takes_a_fixed_number_of_queries_whatever_its_size(clock):
    journey("welcome", condition({"field": "age", "operator": "gte", "value": 30}), MESSAGE)

    def queries(people: int, hour: int) -> int:
        clock.move_to(NOW + timedelta(hours=hour))
        for n in range(people):
            shopper(f"P{hour}x{n}", "email", birthday=date(1980, 1, 1))
        with CaptureQueriesContext(connection) as captured:
            result = services.run_journeys(batch_size=100)
        assert result.queued == people
        return len(captured)

    assert queries(2, 0) == queries(12, 1)


def test_a_condition_that_stopped_compiling_holds_its_journey_and_not_the_others(clock):
    broken = journey(
        "welcome",
        condition({"field": "bought_category", "operator": "in", "value": ["shoes"]}),
        MESSAGE,
        start=False,
    )
    Category.objects.create(code="shoes", name="Shoes")
    services.start_campaign(campaign=broken)
    Category.objects.filter(code="shoes").delete()  # the rule names it no more
    journey("welcome", text="Welcome {{ first_name }}")
    shopper("Anna", "email")

    result = services.run_journeys()

    assert result.queued == 1
    assert Notification.objects.get().body == "Welcome Anna"
    assert JourneyEnrollment.objects.get(campaign=broken).status == "active"

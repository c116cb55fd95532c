"""Marketers build journeys in the admin: the trigger and its parameters, the steps inline,
bad input refused on the field named with nothing saved, and the enrollment funnel per step
on the journey's page."""

from datetime import UTC, datetime, timedelta

import pytest

from campaigns import selectors, services
from campaigns.models import Campaign, JourneyStep
from omni.core.errors import InvalidInput
from tests.campaigns.campaign_factories import shopper
from tests.campaigns.factories import order
from tests.campaigns.journey_factories import MESSAGE, condition, journey, wait
from tests.inventory.factories import UserFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/admin/campaigns/campaign/"
NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def marketer(client):
    user = UserFactory(
        is_staff=True,
        permissions=[
            f"campaigns.{action}_{model}"
            for action in ("view", "add", "change", "delete")
            for model in ("campaign", "campaignvariant", "journeystep")
        ],
    )
    client.force_login(user)
    return user


def form_data(*steps: dict, params: str = '{"hours": 4}', **variant) -> dict:
    data = {
        "name": "Abandoned carts",
        "segment": "",
        "channels": "email",
        "offer": "",
        "coupon": "",
        "code_batch": "",
        "kind": "triggered",
        "send_at_0": "",
        "send_at_1": "",
        "holdout_percent": "0",
        "conversion_window_days": "7",
        "test_percent": "0",
        "winner_after_hours": "",
        "winner_metric": "click",
        "trigger": "abandoned_cart",
        "trigger_params": params,
        "exit_on_purchase": "on",
        "ends_at_0": "",
        "ends_at_1": "",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-code": "A",
        "variants-0-weight": "1",
        "variants-0-email_subject": "Your cart misses you, {{ first_name }}",
        "variants-0-email_text": "{{ cart_items }} items are waiting.",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    data.update({f"variants-0-{name}": value for name, value in variant.items()})
    for index, step in enumerate(steps):
        values = {"position": index + 1, "wait_hours": "", "rules": "", "variant_code": "", **step}
        data.update({f"steps-{index}-{name}": value for name, value in values.items()})
    return data


WAIT = {"kind": "wait", "wait_hours": "4"}
SEND = {"kind": "message"}


def errors_of(page) -> str:
    assert page.status_code == 200, page
    return page.content.decode()


def test_a_marketer_builds_a_journey_with_its_steps(client):
    marketer(client)

    page = client.post(f"{CAMPAIGNS}add/?kind=triggered", form_data(WAIT, SEND))

    assert page.status_code == 302, page.context["errors"] if page.context else page
    made = Campaign.objects.get()
    assert (made.kind, made.trigger, made.trigger_params) == (
        "triggered",
        "abandoned_cart",
        {"hours": 4},
    )
    assert list(made.steps.values_list("kind", "wait_hours")) == [("wait", 4), ("message", None)]
    services.start_campaign(campaign=made)  # ready as written


def test_the_add_page_for_a_journey_shows_the_steps_and_the_triggers(client):
    marketer(client)

    html = client.get(f"{CAMPAIGNS}add/?kind=triggered").content.decode()

    assert 'name="steps-TOTAL_FORMS"' in html
    assert "abandoned_cart" in html
    assert "{{ cart_items }}" in html


@pytest.mark.parametrize(
    ("steps", "params", "variant", "field", "words"),
    [
        ([{"kind": "wait", "wait_hours": "0"}, SEND], None, {}, "wait_hours", "at least one hour"),
        ([{"kind": "wait", "wait_hours": "-3"}, SEND], None, {}, "wait_hours", "at least one hour"),
        ([SEND], '{"hours": 4, "minutes": 5}', {}, "trigger_params", "Unknown parameter"),
        ([SEND], '{"hours": 0}', {}, "trigger_params", "between 1 and"),
        (
            [
                {
                    "kind": "condition",
                    "rules": '{"field": "shoe_size", "operator": "eq", "value": 42}',
                },
                SEND,
            ],
            None,
            {},
            "rules",
            "unknown field",
        ),
        ([SEND], None, {"email_subject": ""}, "variant_code", "no content"),
        ([{"kind": "message", "variant_code": "B"}], None, {}, "variant_code", "no content"),
        ([SEND], None, {"email_text": "{{ order_number }}"}, "email_text", "Unknown variable"),
    ],
)
def test_bad_input_is_refused_on_the_field_and_nothing_is_saved(
    client, steps, params, variant, field, words
):
    marketer(client)
    data = (
        form_data(*steps, **variant)
        if params is None
        else form_data(*steps, params=params, **variant)
    )

    page = client.post(f"{CAMPAIGNS}add/?kind=triggered", data)

    html = errors_of(page)
    assert words in html
    errors = page.context["errors"]
    assert any(words in str(e) for e in errors), errors
    assert not Campaign.objects.exists()
    assert not JourneyStep.objects.exists()


def test_starting_a_journey_without_a_message_step_is_refused(client):
    made = journey("welcome", wait(1), start=False)

    with pytest.raises(InvalidInput) as refused:
        services.start_campaign(campaign=made)

    assert "message step" in str(refused.value.details)
    made.refresh_from_db()
    assert made.status == "draft"


def test_the_journey_page_shows_the_enrollment_funnel_per_step(client, time_machine):
    time_machine.move_to(NOW, tick=False)
    welcome = journey(
        "welcome",
        condition({"field": "order_count", "operator": "eq", "value": 0}),
        wait(2),
        MESSAGE,
    )
    _anna, ben, chloe = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe"))
    shopper("Dan")  # no consent: not sent
    order(ben, at=NOW - timedelta(minutes=1))  # fails the condition
    services.run_journeys()
    order(chloe, at=NOW + timedelta(hours=1))  # buys while waiting
    time_machine.move_to(NOW + timedelta(hours=1, minutes=30))
    marketer(client)

    funnel = selectors.journey_funnel(welcome)
    html = client.get(f"{CAMPAIGNS}{welcome.pk}/change/").content.decode()

    assert (funnel.entered, funnel.active, funnel.exited) == (4, 3, {"condition": 1})
    assert [(s.reached, s.waiting) for s in funnel.steps] == [(4, 0), (3, 3), (0, 0)]
    assert funnel.steps[0].exited == {"condition": 1}
    assert "enrollment funnel" in html.lower()
    assert "Entered 4, in the journey 3, completed 0, exited 1 (condition: 1)." in html

    time_machine.move_to(NOW + timedelta(hours=2))
    services.run_journeys()
    funnel = selectors.journey_funnel(welcome)
    assert funnel.exited == {"condition": 1, "purchased": 1}
    assert funnel.completed == 2
    assert funnel.steps[2].sent == 1
    assert funnel.steps[2].not_sent == {"no_channel": 1}
    assert funnel.steps[2].exited == {"purchased": 1}

"""Send the winner: the variants go to a test share of the audience, the best of them (by
clicks, opens or orders) goes to the rest once the test time is over; the holdout stays out,
nobody gets two messages, and the split is the hash's, the same on every run."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.models import Campaign, CampaignRecipient
from campaigns.services.experiments import REST, Arm, assign
from customers.models import Notification
from omni.core.errors import InvalidInput
from tests.campaigns.campaign_factories import campaign, shopper
from tests.campaigns.factories import order

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
AB = [Arm("A", 1), Arm("B", 1)]


@pytest.fixture(autouse=True)
def no_broker(monkeypatch):
    monkeypatch.setattr(services.lifecycle, "_queue_send", lambda pk: None)


def test_the_test_share_is_cut_from_what_the_holdout_leaves_and_is_stable():
    customers = [f"customer-{n}" for n in range(4000)]

    def split(test_percent):
        return [
            assign(
                campaign_id="spring",
                customer_id=c,
                arms=AB,
                holdout_percent=Decimal("10"),
                test_percent=test_percent,
            )
            for c in customers
        ]

    tested, untested = split(Decimal("20")), split(0)
    shares = {code: tested.count(code) / len(customers) for code in ("", "A", "B", REST)}
    assert shares[""] == pytest.approx(0.10, abs=0.015)
    assert shares["A"] == pytest.approx(0.09, abs=0.015)
    assert shares["B"] == pytest.approx(0.09, abs=0.015)
    assert shares[REST] == pytest.approx(0.72, abs=0.02)
    # The holdout is the same people with or without a test; so is everyone's split again.
    assert [c == "" for c in tested] == [c == "" for c in untested]
    assert split(Decimal("20")) == tested


def winner_campaign(people, **fields):
    values = {"test_percent": Decimal("50"), "winner_after_hours": 4, **fields}
    return campaign(people, variants=("A", "B"), channels=["email"], **values)


def assigned(spring, customer):
    return assign(
        campaign_id=spring.public_id,
        customer_id=customer.public_id,
        arms=AB,
        holdout_percent=spring.holdout_percent,
        test_percent=spring.test_percent,
    )


def test_the_rest_waits_for_the_winner_chosen_by_clicks_then_gets_it():
    people = [shopper(f"P{n}", "email") for n in range(40)]
    spring = winner_campaign(people, winner_metric=Campaign.WinnerMetric.CLICK)
    tested = [c for c in people if assigned(spring, c) != REST]
    rest = [c for c in people if assigned(spring, c) == REST]
    assert tested
    assert rest

    with time_machine.travel(NOW, tick=False):
        services.start_campaign(campaign=spring)
        services.send_campaign(campaign_id=spring.pk, batch_size=7)
    spring.refresh_from_db()
    assert (spring.status, spring.winner_due_at) == ("running", NOW + timedelta(hours=4))
    receipts = CampaignRecipient.objects.filter(campaign=spring)
    assert set(receipts.values_list("customer", flat=True)) == {c.pk for c in tested}
    # B's test recipients click more: one click in A, all in B.
    clicks_a = Notification.objects.filter(campaign_recipient__variant__code="A")[:1]
    Notification.objects.filter(pk__in=list(clicks_a.values_list("pk", flat=True))).update(
        clicked_at=NOW
    )
    Notification.objects.filter(campaign_recipient__variant__code="B").update(clicked_at=NOW)

    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        assert services.choose_due_winners(now=NOW + timedelta(hours=3)) == []
        services.send_campaign(campaign_id=spring.pk, batch_size=7)
    assert receipts.count() == len(tested)

    later = NOW + timedelta(hours=4, minutes=1)
    with time_machine.travel(later, tick=False):
        assert services.start_due_campaigns(now=later) == [str(spring.public_id)]
        services.send_campaign(campaign_id=spring.pk, batch_size=7)
    spring.refresh_from_db()
    assert (spring.status, spring.winner.code) == ("completed", "B")
    assert receipts.count() == len(people) == Notification.objects.count()
    assert set(receipts.filter(customer__in=rest).values_list("variant__code", flat=True)) == {"B"}


def test_orders_decide_when_the_metric_is_conversion_and_a_tie_goes_to_a():
    people = [shopper(f"P{n}", "email") for n in range(30)]
    spring = winner_campaign(people, winner_metric=Campaign.WinnerMetric.CONVERSION)
    with time_machine.travel(NOW, tick=False):
        services.start_campaign(campaign=spring)
        services.send_campaign(campaign_id=spring.pk)
    assert services.best_variant(spring).code == "A"  # nobody bought: a tie
    buyer = CampaignRecipient.objects.filter(campaign=spring, variant__code="B").first()
    order(buyer.customer, at=NOW + timedelta(hours=1))

    assert services.test_rates(spring)["B"][1] == 1
    assert services.best_variant(spring).code == "B"


def test_a_campaign_waiting_for_its_winner_is_not_taken_for_stalled():
    people = [shopper(f"P{n}", "email") for n in range(10)]
    spring = winner_campaign(people)
    queued = []
    with time_machine.travel(NOW, tick=False):
        services.start_campaign(campaign=spring)
        services.send_campaign(campaign_id=spring.pk)
    one_hour = NOW + timedelta(hours=1)
    with time_machine.travel(one_hour, tick=False):
        queued = services.start_due_campaigns(now=one_hour)
    assert queued == []


def test_testing_first_needs_a_winner_time_two_variants_and_a_share_below_100():
    with pytest.raises(ValidationError) as refused:
        Campaign(name="x", test_percent=Decimal("20")).full_clean()
    assert "winner_after_hours" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        Campaign(name="x", winner_after_hours=3).full_clean()
    assert "test_percent" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        Campaign(name="x", test_percent=Decimal("100"), winner_after_hours=3).full_clean()
    assert "test_percent" in refused.value.message_dict

    with pytest.raises(ValidationError) as refused:
        Campaign(
            name="x", kind="triggered", test_percent=Decimal("20"), winner_after_hours=3
        ).full_clean()
    assert "test_percent" in refused.value.message_dict

    single = campaign([shopper("Anna", "email")], test_percent=Decimal("20"), winner_after_hours=2)
    with pytest.raises(InvalidInput) as refused:
        services.start_campaign(campaign=single)
    assert "test_percent" in refused.value.details
    assert not CampaignRecipient.objects.exists()

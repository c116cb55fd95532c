"""The data-driven model: removal effects of a first-order Markov chain, checked against
chains solved by hand, and the credit they give each order."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from customers.models import Customer
from tests.campaigns.factories import order, touch

START, CONVERSION, NULL = attribution.START, attribution.CONVERSION, attribution.NULL
DAY = date(2026, 3, 14)
ORDER_AT = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def test_removal_effects_of_a_two_channel_chain_solved_by_hand():
    # Paths: A B conversion; A null; B conversion.
    # P(start -> A) = 2/3, P(A -> B) = 1/2, P(B -> conversion) = 1: P(conversion) = 2/3.
    # Without A: 1/3, effect 1/2. Without B: 0, effect 1.
    effects = attribution.removal_effects(
        {
            (START, "A"): 2,
            (START, "B"): 1,
            ("A", "B"): 1,
            ("A", NULL): 1,
            ("B", CONVERSION): 2,
        }
    )

    assert effects == pytest.approx({"A": 0.5, "B": 1.0}, abs=1e-12)


def test_removal_effects_of_a_three_channel_chain_with_a_loop():
    # start -> A 3/4, C 1/4; A -> A 1/4, B 1/2, null 1/4; B -> conversion 1/2, null 1/2;
    # C -> conversion 1/2, null 1/2.
    # P_A = P_A/4 + 1/4, so P_A = 1/3; P(conversion) = 3/4 * 1/3 + 1/4 * 1/2 = 3/8.
    # Without A: 1/8 (effect 2/3); without B: P_A = 0, 1/8 (2/3); without C: 1/4 (1/3).
    effects = attribution.removal_effects(
        {
            (START, "A"): 3,
            (START, "C"): 1,
            ("A", "A"): 1,
            ("A", "B"): 2,
            ("A", NULL): 1,
            ("B", CONVERSION): 1,
            ("B", NULL): 1,
            ("C", CONVERSION): 1,
            ("C", NULL): 1,
        }
    )

    assert effects == pytest.approx({"A": 2 / 3, "B": 2 / 3, "C": 1 / 3}, abs=1e-12)


def test_nothing_converting_gives_every_channel_no_effect():
    effects = attribution.removal_effects({(START, "A"): 2, ("A", NULL): 2})
    assert effects == {"A": 0.0}


@pytest.fixture
def two_channels(db):
    """The first hand-solved chain, from touchpoints: X clicks an e-mail then an ad and buys;
    Y clicks an e-mail and buys nothing; Z clicks an ad and buys."""
    with time_machine.travel(datetime(2026, 3, 15, 8, 0, tzinfo=UTC), tick=False):
        x, y, z = (Customer.objects.create(first_name=n) for n in "XYZ")
        touch(x, "email_click", at=ORDER_AT - timedelta(days=2), campaign_code="SPRING")
        touch(x, "ad_click", at=ORDER_AT - timedelta(days=1))
        touch(y, "email_click", at=ORDER_AT - timedelta(days=3), campaign_code="SPRING")
        touch(z, "ad_click", at=ORDER_AT - timedelta(days=1))
        yield order(x, at=ORDER_AT, total="90.00"), order(z, at=ORDER_AT, total="30.00")


def test_markov_credits_the_channels_of_a_journey_by_their_removal_effects(two_channels):
    x_order, z_order = two_channels

    steps = attribution.journey_credits(start=DAY, end=DAY, model="markov")

    found = {(s.order_id, s.channel): s.weight for s in steps}
    # X's journey: e-mail 0.5 / (0.5 + 1), paid 1 / (0.5 + 1).
    assert found == pytest.approx(
        {(x_order.pk, "email"): 1 / 3, (x_order.pk, "paid"): 2 / 3, (z_order.pk, "paid"): 1.0},
        abs=1e-12,
    )


def test_the_roll_up_holds_the_markov_credit_and_the_removal_effects(two_channels):
    run = attribution.compute_attribution(start=DAY, end=DAY)

    assert run.removal_effects == pytest.approx({"email": 0.5, "paid": 1.0}, abs=1e-12)
    rolled = {
        c.channel: (c.orders_share, c.revenue_share)
        for c in AttributionCredit.objects.filter(model="markov")
    }
    assert rolled == {
        "email": (Decimal("0.333333"), Decimal("30")),
        "paid": (Decimal("1.666667"), Decimal("90")),
    }


def test_a_channel_seen_twice_in_a_journey_shares_its_credit_between_its_steps(two_channels):
    x_order, _ = two_channels
    touch(x_order.customer, "ad_click", at=ORDER_AT - timedelta(hours=1))

    steps = attribution.journey_credits(start=DAY, end=DAY, model="markov")

    x_steps = [(s.channel, s.weight) for s in steps if s.order_id == x_order.pk]
    assert [channel for channel, _ in x_steps] == ["email", "paid", "paid"]
    assert sum(w for _, w in x_steps) == pytest.approx(1.0, abs=1e-12)
    assert x_steps[1][1] == pytest.approx(x_steps[2][1], abs=1e-12)

"""Each attribution model credits the hand-made journeys (conftest) exactly as worked out by
hand, and every order's shares sum to 1 in every model."""

from collections import defaultdict
from decimal import Decimal

import pytest

from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from customers.models import Customer
from tests.campaigns.factories import order, touch
from tests.campaigns.reporting.conftest import DAY, at

Model = AttributionCredit.Model


def credits(model: str, **parameters) -> dict[int, list[tuple[str, str, str, float]]]:
    """Order pk -> its steps' (channel, campaign, store, weight), in time order."""
    steps = defaultdict(list)
    for step in attribution.journey_credits(start=DAY, end=DAY, model=model, **parameters):
        steps[step.order_id].append((step.channel, step.campaign, step.store, step.weight))
    return dict(steps)


def weights(model: str, **parameters) -> dict[int, list[float]]:
    return {pk: [w for *_, w in steps] for pk, steps in credits(model, **parameters).items()}


def test_journeys_hold_each_orders_steps_in_time_order(journeys):
    steps = credits(Model.LINEAR)

    assert set(steps) == {journeys.anna.pk, journeys.ben.pk, journeys.chloe.pk, journeys.guest.pk}
    assert [s[:3] for s in steps[journeys.anna.pk]] == [
        ("email", "SPRING", ""),
        ("paid", "brand-search", ""),
        ("direct", "", ""),
    ]
    # The store visit, then the till sale itself, both at the order's store.
    assert [s[:3] for s in steps[journeys.ben.pk]] == [
        ("store_visit", "", "PAR-RIV"),
        ("store", "", "PAR-RIV"),
    ]
    # Nothing in the window (too early, a conversion, after the order): the order is direct.
    assert [s[:3] for s in steps[journeys.chloe.pk]] == [("direct", "", "")]
    assert [s[:3] for s in steps[journeys.guest.pk]] == [("direct", "", "")]


def test_first_touch(journeys):
    found = weights(Model.FIRST_TOUCH)
    assert credits(Model.FIRST_TOUCH)[journeys.anna.pk] == [("email", "SPRING", "", 1.0)]
    assert credits(Model.FIRST_TOUCH)[journeys.ben.pk] == [("store_visit", "", "PAR-RIV", 1.0)]
    assert found[journeys.chloe.pk] == [1.0]


def test_last_touch(journeys):
    found = credits(Model.LAST_TOUCH)
    assert found[journeys.anna.pk] == [("direct", "", "", 1.0)]
    assert found[journeys.ben.pk] == [("store", "", "PAR-RIV", 1.0)]


def test_last_non_direct_skips_the_direct_visit(journeys):
    found = credits(Model.LAST_NON_DIRECT)
    assert found[journeys.anna.pk] == [("paid", "brand-search", "", 1.0)]
    assert found[journeys.ben.pk] == [("store", "", "PAR-RIV", 1.0)]
    # Only direct steps: the last one keeps the credit.
    assert found[journeys.chloe.pk] == [("direct", "", "", 1.0)]


def test_last_non_direct_with_direct_steps_only_credits_the_last(journeys):
    eve = Customer.objects.create(first_name="Eve")
    touch(eve, "page_view", at=at(20, days=2))
    touch(eve, "product_view", at=at(20, days=1), channel="ios")
    direct_only = order(eve, at=at(20), total="10.00")

    found = credits(Model.LAST_NON_DIRECT)

    assert found[direct_only.pk] == [("direct", "", "", 1.0)]


def test_linear(journeys):
    found = weights(Model.LINEAR)
    assert found[journeys.anna.pk] == pytest.approx([1 / 3, 1 / 3, 1 / 3], abs=1e-12)
    assert found[journeys.ben.pk] == pytest.approx([0.5, 0.5], abs=1e-12)
    assert found[journeys.guest.pk] == [1.0]


def test_time_decay_halves_the_weight_every_half_life(journeys):
    found = weights(Model.TIME_DECAY, half_life_days=7)

    # Anna's steps were 10, 5 and 1 days before the order.
    raw = [2 ** (-10 / 7), 2 ** (-5 / 7), 2 ** (-1 / 7)]
    assert found[journeys.anna.pk] == pytest.approx([w / sum(raw) for w in raw], abs=1e-12)
    # Ben's visit 3 days before, the till sale at the order's moment (age 0).
    raw = [2 ** (-3 / 7), 1.0]
    assert found[journeys.ben.pk] == pytest.approx([w / sum(raw) for w in raw], abs=1e-12)


def test_time_decay_with_another_half_life(journeys):
    found = weights(Model.TIME_DECAY, half_life_days=5)
    assert found[journeys.anna.pk][0] / found[journeys.anna.pk][1] == pytest.approx(0.5)


def test_position_based_40_20_40(journeys):
    found = weights(Model.POSITION_BASED)
    assert found[journeys.anna.pk] == pytest.approx([0.4, 0.2, 0.4], abs=1e-12)
    # Two steps share 50/50; one step takes everything.
    assert found[journeys.ben.pk] == pytest.approx([0.5, 0.5], abs=1e-12)
    assert found[journeys.chloe.pk] == [1.0]


def test_position_based_weights_are_configurable_and_split_the_middle(journeys):
    touch(journeys.anna.customer, "search", at=at(10, days=2))

    found = weights(Model.POSITION_BASED, position_weights=["0.3", "0.4", "0.3"])

    assert found[journeys.anna.pk] == pytest.approx([0.3, 0.2, 0.2, 0.3], abs=1e-12)


@pytest.mark.parametrize("model", list(Model))
def test_every_orders_shares_sum_to_1(journeys, model):
    for pk, found in weights(model).items():
        assert sum(found) == pytest.approx(1.0, abs=1e-12), pk


def test_the_roll_up_holds_each_models_credit_per_day_channel_campaign_and_store(journeys):
    attribution.compute_attribution(start=DAY, end=DAY)

    def rolled(model: str) -> dict[tuple[str, str, str], tuple[Decimal, Decimal]]:
        return {
            (c.channel, c.campaign_code, c.store_code): (c.orders_share, c.revenue_share)
            for c in AttributionCredit.objects.filter(day=DAY, model=model)
        }

    assert rolled(Model.FIRST_TOUCH) == {
        ("email", "SPRING", ""): (Decimal("1"), Decimal("100")),
        ("store_visit", "", "PAR-RIV"): (Decimal("1"), Decimal("60")),
        ("direct", "", ""): (Decimal("2"), Decimal("65")),  # chloe and the guest
    }
    assert rolled(Model.LAST_NON_DIRECT) == {
        ("paid", "brand-search", ""): (Decimal("1"), Decimal("100")),
        ("store", "", "PAR-RIV"): (Decimal("1"), Decimal("60")),
        ("direct", "", ""): (Decimal("2"), Decimal("65")),
    }
    assert rolled(Model.LINEAR) == {
        ("email", "SPRING", ""): (Decimal("0.333333"), Decimal("33.333333")),
        ("paid", "brand-search", ""): (Decimal("0.333333"), Decimal("33.333333")),
        ("direct", "", ""): (Decimal("2.333333"), Decimal("98.333333")),
        ("store_visit", "", "PAR-RIV"): (Decimal("0.5"), Decimal("30")),
        ("store", "", "PAR-RIV"): (Decimal("0.5"), Decimal("30")),
    }
    assert rolled(Model.POSITION_BASED)[("paid", "brand-search", "")] == (
        Decimal("0.2"),
        Decimal("20"),
    )
    for model in Model:
        rows = AttributionCredit.objects.filter(day=DAY, model=model)
        assert sum(r.orders_share for r in rows) == pytest.approx(Decimal(4), abs=Decimal("1e-5"))
        assert sum(r.revenue_share for r in rows) == pytest.approx(
            Decimal(225), abs=Decimal("1e-4")
        )

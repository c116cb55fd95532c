"""Segment conditions on customer values: the predicted CLV, the probability of being still
active, the purchases expected in 90 days and the channel mix, compiled to SQL over the town
of ``tests/campaigns/conftest.py``. Customers without a value (chloe here: never valued, like
everyone who never bought) match none of them; rules are checked when saved."""

from decimal import Decimal

import pytest

from campaigns import selectors
from campaigns.models import ClvFit, CustomerValue
from campaigns.rules import RuleError, validate_rules
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db


def c(field, operator, value):
    return {"field": field, "operator": operator, "value": value}


def names(rules) -> set[str]:
    return {customer.first_name for customer in selectors.matching_customers(rules, now=NOW)}


@pytest.fixture
def valued(town):
    fit = ClvFit.objects.create(
        fitted_at=NOW,
        observed_until=NOW.date(),
        horizon_days=365,
        annual_discount_rate=Decimal("0.1"),
        customers=2,
        repeat_customers=2,
        bgnbd={},
        gamma_gamma={},
        holdout_days=0,
    )
    for customer, clv, alive, expected, mix, online, store in [
        (town.anna, "820.00", 0.92, 1.4, "omnichannel", 1, 1),
        (town.david, "35.50", 0.18, 0.05, "online_only", 2, 0),
    ]:
        CustomerValue.objects.create(
            customer=customer,
            fit=fit,
            orders=online + store,
            online_orders=online,
            store_orders=store,
            revenue=Decimal("210.00"),
            channel_mix=mix,
            first_purchase_on=NOW.date(),
            last_purchase_on=NOW.date(),
            repeat_purchases=1,
            expected_purchases_90d=expected,
            p_alive=alive,
            expected_spend=Decimal("100.00"),
            predicted_clv=Decimal(clv),
            fitted_at=NOW,
        )
    return town


CASES = [
    (c("predicted_clv", "gte", 500), {"anna"}),
    (c("predicted_clv", "lte", "35.50"), {"david"}),
    (c("predicted_clv", "between", [0, 1000]), {"anna", "david"}),
    (c("p_alive", "lte", 0.3), {"david"}),
    (c("p_alive", "gte", 0.5), {"anna"}),
    (c("p_alive", "between", [0, 1]), {"anna", "david"}),
    (c("expected_purchases_90d", "gte", 1), {"anna"}),
    (c("expected_purchases_90d", "lte", 0.1), {"david"}),
    (c("channel_mix", "in", ["omnichannel"]), {"anna"}),
    (c("channel_mix", "in", ["online_only", "store_only"]), {"david"}),
    ({"not": c("p_alive", "lte", 0.3)}, {"anna", "ben", "chloe", "farid"}),
]


@pytest.mark.parametrize(("rules", "expected"), CASES)
def test_value_conditions_select_the_customers_with_such_a_value(valued, rules, expected):
    assert names(rules) == expected


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        (c("p_alive", "gte", 50), "probability from 0 to 1"),
        (c("p_alive", "gte", True), "probability from 0 to 1"),
        (c("predicted_clv", "gte", -5), "out of range"),
        (c("expected_purchases_90d", "gte", "many"), "number of purchases"),
        (c("channel_mix", "in", ["web"]), "unknown channel mixes: web"),
        (c("p_alive", "in", [0.5]), "unknown operator"),
        (c("p_alive", "between", [0.8, 0.2]), "lower value first"),
    ],
)
def test_an_unusable_value_condition_is_refused_when_saved(condition, message):
    with pytest.raises(RuleError) as refused:
        validate_rules({"and": [condition]})

    assert message in refused.value.messages[0]

"""Variant assignment is a hash of (campaign, customer): stable everywhere, split as asked,
with its holdout; results are arithmetic checked against numbers computed by hand."""

import uuid
from collections import Counter
from decimal import Decimal

import pytest

from campaigns.services.experiments import HOLDOUT, Arm, assign, position
from campaigns.services.results import GroupCounts, compare, conversion_rate, uplift

CAMPAIGN = uuid.UUID("6f1c2a52-93f5-4a8e-9a55-0a1c7c1d2e3f")
CUSTOMER = uuid.UUID("0b7d4e4a-2f61-4c3b-8f0e-3d5a1b2c4d5e")
AB = [Arm("A", 50), Arm("B", 50)]


def test_the_same_pair_always_lands_on_the_same_point_on_every_machine():
    # Pinned: SHA-256 of "<campaign>:<customer>", its first 8 bytes over 2**64. A change in
    # the hashing would move every running experiment's customers between variants.
    assert position(CAMPAIGN, CUSTOMER) == pytest.approx(0.4132705139736321, abs=1e-15)
    assert position(str(CAMPAIGN), str(CUSTOMER)) == position(CAMPAIGN, CUSTOMER)


def test_assignment_is_deterministic_and_independent_of_the_order_arms_are_given():
    first = assign(campaign_id=CAMPAIGN, customer_id=CUSTOMER, arms=AB, holdout_percent=10)
    again = assign(campaign_id=CAMPAIGN, customer_id=CUSTOMER, arms=AB[::-1], holdout_percent=10)

    assert first == again == "A"  # (0.4133 - 0.10) / 0.90 = 0.348 of the line: A


def test_splits_follow_the_weights_and_the_holdout_share():
    customers = [uuid.UUID(int=n) for n in range(20_000)]

    counts = Counter(
        assign(
            campaign_id=CAMPAIGN,
            customer_id=c,
            arms=[Arm("A", 70), Arm("B", 30)],
            holdout_percent=Decimal("10"),
        )
        for c in customers
    )

    # 10 % held out, the rest 70/30: within 1.5 points of 20 000 (about 4 standard errors).
    assert counts[HOLDOUT] / 20_000 == pytest.approx(0.10, abs=0.015)
    assert counts["A"] / 20_000 == pytest.approx(0.63, abs=0.015)
    assert counts["B"] / 20_000 == pytest.approx(0.27, abs=0.015)


def test_another_campaign_reshuffles_the_same_customers():
    customers = [uuid.UUID(int=n) for n in range(1000)]
    other = uuid.UUID(int=1)

    def groups(campaign):
        return [
            assign(campaign_id=campaign, customer_id=c, arms=AB, holdout_percent=0)
            for c in customers
        ]

    same = sum(a == b for a, b in zip(groups(CAMPAIGN), groups(other), strict=True))
    assert 400 < same < 600  # independent halves agree about half the time


def test_no_holdout_means_everyone_gets_a_variant():
    customers = [uuid.UUID(int=n) for n in range(500)]

    assert HOLDOUT not in {
        assign(campaign_id=CAMPAIGN, customer_id=c, arms=AB, holdout_percent=0) for c in customers
    }


# --- Results, by hand ----------------------------------------------------------------------


def test_rates_and_revenue_per_recipient():
    group = GroupCounts("A", recipients=400, conversions=30, revenue=Decimal("1234.56"))

    [row] = compare([group], None)

    assert row.conversion_rate == 0.075
    assert row.revenue_per_recipient == Decimal("3.09")  # 1234.56 / 400 = 3.0864
    assert row.uplift is None


def test_a_small_difference_on_a_thousand_each_is_not_significant():
    # p1 = 0.12, p0 = 0.10; SE = sqrt(.12*.88/1000 + .10*.90/1000) = sqrt(0.0001956)
    # = 0.0139857; 1.96 * SE = 0.0274120 -> [-0.0074120, 0.0474120], contains 0.
    result = uplift(GroupCounts("A", 1000, 120), GroupCounts("holdout", 1000, 100))

    assert result.absolute == pytest.approx(0.02)
    assert result.relative == pytest.approx(0.20)
    assert result.low == pytest.approx(-0.0074120, abs=1e-6)
    assert result.high == pytest.approx(0.0474120, abs=1e-6)
    assert result.significant is False


def test_the_same_rates_on_five_thousand_each_are_significant():
    # SE = sqrt(.1056/5000 + .09/5000) = sqrt(0.00003912) = 0.00625460;
    # 1.96 * SE = 0.0122588 -> [0.0077412, 0.0322588], above 0.
    result = uplift(GroupCounts("A", 5000, 600), GroupCounts("holdout", 5000, 500))

    assert result.low == pytest.approx(0.0077412, abs=1e-6)
    assert result.high == pytest.approx(0.0322588, abs=1e-6)
    assert result.significant is True


def test_a_variant_doing_worse_than_the_holdout_is_significant_downwards():
    result = uplift(GroupCounts("B", 5000, 400), GroupCounts("holdout", 5000, 500))

    assert result.absolute == pytest.approx(-0.02)
    assert result.high < 0
    assert result.significant is True


def test_too_few_conversions_give_no_interval_and_no_verdict():
    result = uplift(GroupCounts("A", 100, 4), GroupCounts("holdout", 100, 1))

    assert result.absolute == pytest.approx(0.03)
    assert (result.low, result.high, result.significant) == (None, None, False)


def test_compare_lists_the_variants_then_the_holdout():
    rows = compare(
        [GroupCounts("A", 5000, 600, Decimal("30000")), GroupCounts("B", 5000, 500)],
        GroupCounts("holdout", 5000, 500, Decimal("20000")),
    )

    assert [row.label for row in rows] == ["A", "B", "holdout"]
    assert rows[0].revenue_per_recipient == Decimal("6.00")  # 30000 / 5000
    assert rows[0].revenue_per_recipient_vs_holdout == Decimal("2.00")  # 6.00 - 20000 / 5000
    assert rows[1].revenue_per_recipient_vs_holdout == Decimal("-4.00")  # 0.00 - 4.00
    assert rows[1].uplift.absolute == 0
    assert rows[2].uplift is None
    assert conversion_rate(GroupCounts("empty", 0, 0)) == 0.0


def test_conversions_above_recipients_are_refused():
    with pytest.raises(ValueError, match="between 0 and the number of recipients"):
        GroupCounts("A", 10, 11)

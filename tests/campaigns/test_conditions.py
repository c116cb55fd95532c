"""Every condition type, compiled to SQL and run against the town of ``conftest.py``, selects
exactly the people counted by hand (eve, erased, never)."""

import pytest

from campaigns import selectors
from campaigns.models import Segment, SegmentMembership
from campaigns.rules import CONDITIONS
from campaigns.services import refresh_rfm_scores
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment

pytestmark = pytest.mark.django_db


def c(field, operator, value, **params):
    return {"field": field, "operator": operator, "value": value, **params}


def names(rules) -> set[str]:
    return {customer.first_name for customer in selectors.matching_customers(rules, now=NOW)}


CASES = [
    # --- profile
    (c("age", "between", [25, 35]), {"anna", "ben"}),
    (c("age", "gte", 65), {"david"}),
    (c("age", "gte", 66), set()),  # david turns 66 tomorrow
    (c("age", "eq", 65), {"david"}),
    (c("age", "lte", 30), {"ben"}),
    ({"not": c("age", "lte", 30)}, {"anna", "chloe", "david", "farid"}),  # no birthday: not <= 30
    (c("city", "in", ["Paris"]), {"anna"}),  # her delivery address
    (c("city", "in", ["LYON"]), {"ben", "chloe"}),  # ben's store; chloe's "lyon " address
    (c("city", "not_in", ["paris"]), {"ben", "chloe", "david"}),  # david: Marseille; farid: ?
    ({"not": c("city", "in", ["paris"])}, {"ben", "chloe", "david", "farid"}),
    (c("preferred_store", "in", ["PAR-RIV"]), {"anna", "david"}),
    (c("preferred_store", "not_in", ["PAR-RIV"]), {"ben"}),
    (c("first_channel", "in", ["store"]), {"ben"}),
    (c("first_channel", "not_in", ["web"]), {"ben", "chloe", "farid"}),
    (c("customer_since", "within_days", 30), {"ben", "farid"}),
    (c("customer_since", "more_than_days", 365), {"anna", "david"}),
    (c("customer_since", "since", "2025-01-01"), {"ben", "chloe", "farid"}),
    (c("customer_since", "before", "2024-01-01"), {"david"}),
    # --- distance: delivery address first (david's Lyon address beats his Paris store)
    (c("distance_km", "lte", 10, store="PAR-RIV"), {"anna"}),
    (c("distance_km", "gt", 100, store="PAR-RIV"), {"ben", "chloe", "david"}),
    (c("distance_km", "lte", 5, store="LYO-BEL"), {"ben", "chloe", "david"}),
    # --- purchase history (david's cancelled order never counts)
    (c("recency_days", "lte", 7), {"anna", "chloe"}),
    (c("recency_days", "lte", 5), {"anna", "chloe"}),  # anna's last: exactly 5 days ago
    (c("recency_days", "lte", 4), {"chloe"}),
    (c("recency_days", "gte", 30), {"david"}),
    (c("recency_days", "between", [2, 10]), {"anna"}),
    ({"not": c("recency_days", "lte", 7)}, {"ben", "david", "farid"}),
    (c("order_count", "gte", 2), {"anna", "chloe"}),
    (c("order_count", "gte", 2, days=30), {"chloe"}),
    (c("order_count", "lte", 1), {"ben", "david", "farid"}),  # never bought: 0 orders
    (c("order_count", "eq", 0), {"ben", "farid"}),
    (c("order_count", "between", [1, 2]), {"anna", "david"}),
    (c("spend", "gte", 200), {"anna", "chloe"}),
    (c("spend", "gte", "200.00", days=100), {"chloe"}),
    (c("spend", "lte", 100), {"ben", "david", "farid"}),
    (c("spend", "between", [50, 220]), {"anna", "david"}),
    (c("bought_category", "in", ["footwear"]), {"anna", "chloe", "david"}),  # sub-categories
    (c("bought_category", "in", ["trail"]), {"anna"}),
    (c("bought_category", "in", ["jackets"], days=35), {"chloe"}),
    (c("bought_category", "not_in", ["footwear"]), {"ben", "farid"}),
    (c("bought_sku", "in", ["TRAIL-42"]), {"anna"}),
    (c("bought_brand", "in", ["Asics"]), {"anna", "chloe", "david"}),
    (c("bought_brand", "in", ["Asics"], days=100), {"chloe"}),
    (c("bought_in_channel", "in", ["store"]), {"chloe"}),
    (c("bought_in_channel", "in", ["web"]), {"anna", "david"}),
    (c("bought_in_channel", "not_in", ["web"]), {"ben", "chloe", "farid"}),
    (c("fulfilment", "in", ["pickup"]), {"anna"}),
    (c("fulfilment", "in", ["delivery"]), {"anna", "chloe", "david"}),
    (c("fulfilment", "in", ["delivery"], days=3), {"chloe"}),
    (c("returned", "is", True), {"chloe"}),
    (c("returned", "is", True, days=30), set()),
    (c("returned", "is", False), {"anna", "ben", "david", "farid"}),
    # --- touchpoints
    (c("viewed_product_not_bought", "in", ["trail-shoe"], days=30), {"ben", "david"}),
    (c("viewed_product_not_bought", "in", ["trail-shoe"], days=15), {"ben"}),
    (c("viewed_category_not_bought", "in", ["running"], days=30), {"ben", "david", "farid"}),
    (c("visited_store", "in", ["LYO-BEL"], days=7), {"ben"}),
    (c("visited_store", "any", True, days=60), {"anna", "ben"}),
    (c("visited_store", "any", True, days=7), {"ben"}),
    # --- loyalty
    (c("loyalty_member", "is", True), {"anna", "ben", "david"}),
    (c("loyalty_member", "is", False), {"chloe", "farid"}),
    (c("loyalty_tier", "in", ["Gold"]), {"anna"}),
    (c("loyalty_tier", "in", ["Silver", "Gold"]), {"anna", "david"}),
    (c("loyalty_tier", "not_in", ["Gold"]), {"ben", "david"}),
    (c("points_balance", "gte", 500), {"anna"}),
    (c("points_balance", "lte", 100), {"ben", "david"}),
    (c("points_balance", "between", [1, 100]), {"ben"}),
    (c("points_expiring", "gte", 1, days=30), {"anna"}),  # david's 40 are still pending
    (c("points_expiring", "gte", 200, days=30), set()),
    (c("points_expiring", "gte", 200, days=120), {"anna"}),
    (c("points_expiring", "gte", 100, days=10), set()),
    # --- consent (the latest decision)
    (c("consent", "granted", "email", purpose="marketing"), {"anna"}),
    (c("consent", "not_granted", "email", purpose="marketing"), {"ben", "chloe", "david", "farid"}),
    (c("consent", "granted", "sms", purpose="advertising"), {"chloe", "farid"}),
    # --- groups
    (
        {
            "and": [
                {"or": [c("city", "in", ["paris"]), c("city", "in", ["lyon"])]},
                {"not": c("loyalty_member", "is", True)},
            ]
        },
        {"chloe"},
    ),
    ({"or": [c("age", "gte", 65), c("order_count", "gte", 3)]}, {"chloe", "david"}),
]


def test_each_condition_selects_the_customers_counted_by_hand(town):
    # One town for every case (building it is most of the time); each wrong case is listed.
    wrong = {
        repr(rules): {"expected": sorted(expected), "got": sorted(got)}
        for rules, expected in CASES
        if (got := names(rules)) != expected
    }

    assert wrong == {}


def test_rfm_conditions_read_the_scores_computed_in_sql(town):
    # Three customers ever bought (eve is erased): quintiles over three rows are 1, 2, 3.
    # recency: david 400 days -> 1, anna 5 -> 2, chloe 1 -> 3; frequency over 365 days:
    # david 0 -> 1, anna 2 -> 2, chloe 3 -> 3; monetary: david 0, anna 210, chloe 250.
    assert refresh_rfm_scores(now=NOW) == 3

    assert names(c("r_score", "gte", 2)) == {"anna", "chloe"}
    assert names(c("f_score", "eq", 3)) == {"chloe"}
    assert names(c("m_score", "in", [1, 2])) == {"anna", "david"}
    assert names(c("m_score", "between", [2, 3])) == {"anna", "chloe"}
    assert names(c("rfm_segment", "in", ["hibernating"])) == {"anna", "david"}
    assert names(c("rfm_segment", "not_in", ["hibernating"])) == {"chloe"}
    assert names({"not": c("r_score", "gte", 1)}) == {"ben", "farid"}  # never scored


def test_membership_of_a_dynamic_segment_is_its_rules_now(town):
    segment("Paris shoppers", {"and": [c("city", "in", ["paris"])]})

    assert names(c("in_segment", "in", ["Paris shoppers"])) == {"anna"}
    assert names(c("in_segment", "not_in", ["Paris shoppers"])) == {
        "ben",
        "chloe",
        "david",
        "farid",
    }


def test_membership_of_a_static_segment_is_its_uploaded_list(town):
    vip = segment("VIP list", kind=Segment.Kind.STATIC)
    SegmentMembership.objects.create(segment=vip, customer=town.chloe, joined_at=NOW)

    assert names(c("in_segment", "in", ["VIP list"])) == {"chloe"}
    assert names({"or": [c("in_segment", "in", ["VIP list"]), c("age", "gte", 65)]}) == {
        "chloe",
        "david",
    }


def test_every_condition_type_is_covered_here():
    covered = {rules["field"] for rules, _ in CASES if "field" in rules}
    covered |= {"r_score", "f_score", "m_score", "rfm_segment", "in_segment"}
    # Customer value conditions: tests/campaigns/reporting/test_value_conditions.py
    covered |= {"predicted_clv", "p_alive", "expected_purchases_90d", "channel_mix"}

    assert set(CONDITIONS) <= covered

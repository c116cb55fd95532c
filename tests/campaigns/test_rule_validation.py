"""A rule that cannot be used is refused when the segment is saved, with the path of the
condition and its field in the message, every problem at once; nothing is saved."""

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Segment
from campaigns.rules import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_SEGMENT_NESTING,
    RuleError,
    compile_rules,
    validate_rules,
)
from tests.campaigns.conftest import NOW
from tests.campaigns.factories import segment
from tests.inventory.factories import CategoryFactory, LocationFactory

pytestmark = pytest.mark.django_db


def c(field, operator, value, **params):
    return {"field": field, "operator": operator, "value": value, **params}


def problems(rules) -> list[str]:
    with pytest.raises(RuleError) as refused:
        validate_rules(rules)
    return refused.value.messages


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (
            {"and": [c("recency_days", "lte", 30), c("bougth_category", "in", ["x"])]},
            "rules.and[1]: unknown field 'bougth_category'. Did you mean 'bought_category'?",
        ),
        (
            {"and": [c("spend", "more_than", 100)]},
            "rules.and[0] (spend): unknown operator 'more_than'; spend takes gte, lte, eq, "
            "between.",
        ),
        (
            {"or": [c("age", "between", [40, 20])]},
            "rules.or[0] (age): 'between' needs the lower value first, not [40, 20].",
        ),
        (
            {"not": c("age", "gte", "forty")},
            "rules.not (age): the value must be an age in years, not 'forty'.",
        ),
        (
            {"and": [{"or": [c("order_count", "gte", 2, weeks=3)]}]},
            "rules.and[0].or[0] (order_count): unknown key weeks; this condition takes field, "
            "operator, value, days.",
        ),
        (
            c("visited_store", "any", True),
            "rules (visited_store): needs days.",
        ),
        (
            c("first_channel", "in", ["fax"]),
            "rules (first_channel): unknown channels: fax (expected web, ios, android, store).",
        ),
        (
            c("consent", "granted", "email", purpose="spam"),
            "rules (consent): unknown purpose 'spam' (expected marketing, personalisation, "
            "analytics, advertising).",
        ),
        (
            c("bought_category", "in", ["runing"]),
            "rules (bought_category): unknown category codes: runing.",
        ),
        (
            c("preferred_store", "in", ["NOWHERE"]),
            "rules (preferred_store): unknown store codes: NOWHERE.",
        ),
        (
            c("loyalty_tier", "in", ["Platinum"]),
            "rules (loyalty_tier): unknown tier names: Platinum.",
        ),
        (
            c("customer_since", "since", "2025-02-30"),
            "rules (customer_since): '2025-02-30' is not a real date.",
        ),
        (
            c("recency_days", "lte", True),
            "rules (recency_days): the value must be a number of days, not True.",
        ),
        (
            c("in_segment", "in", ["Nobody"]),
            "rules (in_segment): unknown segments: Nobody.",
        ),
        (
            {"and": []},
            "rules.and: expected a non-empty list of conditions or groups.",
        ),
        (
            {"and": [c("age", "gte", 30)], "or": [c("age", "lte", 50)]},
            "rules: a group has exactly one key (and, or or not), not and, or.",
        ),
        (
            {"any": []},
            "rules: expected a group (and, or, not) or a condition with a field, not keys any.",
        ),
        (
            {},
            "rules: a dynamic segment needs at least one condition, e.g. "
            '{"and": [{"field": "recency_days", "operator": "lte", "value": 30}]}.',
        ),
    ],
)
def test_a_bad_rule_is_refused_naming_its_path_and_field(rules, expected):
    assert problems(rules) == [expected]


def test_every_problem_is_reported_at_once():
    rules = {"and": [c("age", "gte", -1), c("city", "in", []), c("recency_days", "lte", 3)]}

    assert problems(rules) == [
        "rules.and[0] (age): the value must be between 0 and 130, not -1.",
        "rules.and[1] (city): the value must be a non-empty list of city names, not [].",
    ]


def test_distance_needs_a_store_with_coordinates():
    LocationFactory(code="NO-GPS", latitude=None, longitude=None)

    assert problems(c("distance_km", "lte", 10, store="NO-GPS")) == [
        "rules (distance_km): store NO-GPS has no coordinates."
    ]


def test_groups_nest_at_most_the_limit():
    rules = c("age", "gte", 30)
    for _ in range(MAX_DEPTH):
        rules = {"not": rules}
    validate_rules(rules)  # exactly at the limit

    assert problems({"and": [rules]}) == [
        "rules.and[0]" + ".not" * (MAX_DEPTH - 1) + f": groups nest at most {MAX_DEPTH} deep."
    ]


def test_a_segment_has_at_most_the_limit_of_conditions():
    many = {"or": [c("age", "gte", n) for n in range(MAX_CONDITIONS + 1)]}

    assert problems(many) == [
        f"rules: at most {MAX_CONDITIONS} conditions in one segment, not {MAX_CONDITIONS + 1}."
    ]


def test_the_admin_form_path_saves_nothing_when_a_rule_is_bad():
    bad = Segment(name="Runners", rules={"and": [c("bought_category", "in", ["runing"])]})

    with pytest.raises(ValidationError) as refused:
        bad.full_clean()

    assert refused.value.message_dict == {
        "rules": ["rules.and[0] (bought_category): unknown category codes: runing."]
    }
    assert not Segment.objects.exists()


def test_a_static_segment_has_no_rules():
    with pytest.raises(ValidationError) as refused:
        Segment(name="List", kind=Segment.Kind.STATIC, rules={"and": []}).full_clean()

    assert refused.value.message_dict == {
        "rules": ["A static segment has no rules: leave them empty."]
    }


def test_segments_cannot_contain_each_other_in_a_circle():
    CategoryFactory(code="running")
    a = segment("A", c("bought_category", "in", ["running"]))
    b = segment("B", c("in_segment", "in", ["A"]))
    a.rules = {"or": [c("in_segment", "in", ["B"])]}

    with pytest.raises(ValidationError) as refused:
        a.full_clean()

    assert refused.value.message_dict == {
        "rules": ["rules: segments go round in a circle: A → B → A."]
    }
    assert b.rules == c("in_segment", "in", ["A"])


def test_a_segment_cannot_contain_itself():
    CategoryFactory(code="running")
    a = segment("A", c("bought_category", "in", ["running"]))
    a.rules = c("in_segment", "in", ["A"])

    with pytest.raises(ValidationError) as refused:
        a.full_clean()

    assert refused.value.message_dict["rules"][0] == (
        "rules (in_segment): a segment cannot contain itself."
    )


def test_segments_nest_at_most_the_limit():
    CategoryFactory(code="running")
    segment("S0", c("bought_category", "in", ["running"]))
    for n in range(1, MAX_SEGMENT_NESTING + 1):
        segment(f"S{n}", c("in_segment", "in", [f"S{n - 1}"]))

    with pytest.raises(ValidationError) as refused:
        segment("Too deep", c("in_segment", "in", [f"S{MAX_SEGMENT_NESTING}"]))

    assert "segments nest at most" in refused.value.message_dict["rules"][0]


def test_a_segment_named_in_others_rules_keeps_its_name():
    CategoryFactory(code="running")
    a = segment("Runners", c("bought_category", "in", ["running"]))
    segment("Lapsed runners", {"and": [c("in_segment", "in", ["Runners"])]})
    a.name = "Joggers"

    with pytest.raises(ValidationError) as refused:
        a.full_clean()

    assert refused.value.message_dict == {
        "name": [
            "Other segments name this one in their rules (Lapsed runners): change their rules "
            "first."
        ]
    }


def test_rules_stored_long_ago_are_checked_again_when_compiled():
    category = CategoryFactory(code="running")
    stored = c("bought_category", "in", ["running"])
    validate_rules(stored)
    category.delete()

    with pytest.raises(RuleError) as refused:
        compile_rules(stored, now=NOW)

    assert refused.value.messages == ["rules (bought_category): unknown category codes: running."]

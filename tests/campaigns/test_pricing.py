"""The pure pricing of offers and coupons: every reward, the conditions, stacking, priority,
the per-order maximum, and exact money."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from campaigns.services import Line, Shopper, Terms, price

GUEST = Shopper()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
D = Decimal
SHOES = Line("SHOE-42", 1, D("80.00"), frozenset({10, 1}))  # Running shoes (10) in Sport (1)
SOCKS = Line("SOCK-1", 3, D("5.00"), frozenset({20, 1}))  # Socks (20) in Sport (1)
JACKET = Line("JKT-M", 1, D("120.00"), frozenset({30}))


def run(terms, lines=(SHOES, SOCKS), channel="web", store_id=None, shopper=GUEST):
    return price(
        lines=list(lines),
        channel=channel,
        store_id=store_id,
        shopper=shopper,
        terms=terms if isinstance(terms, list) else [terms],
        now=NOW,
    )


def t(reward, value="0", ref="offer:a", **kw):
    return Terms(ref=ref, name=ref, reward=reward, value=D(value), **kw)


def test_percent_off_the_cart_is_shared_over_the_lines_and_sums_exactly():
    pricing = run(t("percent_off_cart", "10"))
    assert pricing.lines == {"SHOE-42": D("8.00"), "SOCK-1": D("1.50")}
    assert pricing.applied[0].amount == D("9.50")


def test_amount_off_the_cart_is_shared_pro_rata_with_cents_that_add_up():
    pricing = run(t("amount_off_cart", "10"), lines=[JACKET, SOCKS, SHOES])
    assert pricing.discount == D("10.00")
    # 120 : 15 : 80 of 10.00 → 5.5813..., 0.6976..., 3.7209... → largest remainders get the cents
    assert pricing.lines == {"JKT-M": D("5.58"), "SOCK-1": D("0.70"), "SHOE-42": D("3.72")}


def test_amount_off_the_cart_never_exceeds_the_cart():
    assert run(t("amount_off_cart", "500")).discount == D("95.00")


def test_percent_off_lines_only_touches_the_named_category_and_its_sub_categories():
    pricing = run(t("percent_off_lines", "50", categories=frozenset({1})), lines=[SHOES, JACKET])
    assert pricing.lines == {"SHOE-42": D("40.00"), "JKT-M": D("0")}


def test_amount_off_lines_is_per_unit_of_the_named_skus():
    pricing = run(t("amount_off_lines", "2", skus=frozenset({"SOCK-1"})))
    assert pricing.lines == {"SHOE-42": D("0"), "SOCK-1": D("6.00")}


def test_free_item_gives_the_unit_in_the_cart():
    assert run(t("free_item", free_sku="SOCK-1")).lines["SOCK-1"] == D("5.00")


def test_free_item_not_in_the_cart_is_refused_with_the_reason():
    pricing = run(t("free_item", free_sku="CAP-1"))
    assert pricing.discount == 0
    assert pricing.refused[0].reason == "free_item_missing"


def test_buy_two_get_one_free_gives_the_cheapest_units():
    cheap = Line("TEE-S", 1, D("10.00"))
    dear = Line("TEE-L", 2, D("30.00"))
    pricing = run(t("buy_x_get_y", "100", buy_quantity=2, get_quantity=1), lines=[dear, cheap])
    assert pricing.lines == {"TEE-L": D("0"), "TEE-S": D("10.00")}


def test_buy_x_get_y_half_price_and_too_few_units_refused():
    half = t("buy_x_get_y", "50", buy_quantity=1, get_quantity=1)
    assert run(half, lines=[Line("A", 2, D("9.99"))]).lines == {"A": D("5.00")}  # 4.995 half up
    assert run(half, lines=[Line("A", 1, D("9.99"))]).refused[0].reason == "not_enough_items"


def test_free_delivery_and_points_multiplier_take_nothing_off_the_lines():
    pricing = run([t("free_delivery", ref="offer:d"), t("points_multiplier", "3", ref="offer:p")])
    assert pricing.free_delivery is True
    assert pricing.points_multiplier == D("3")
    assert pricing.discount == 0


def test_conditions_refuse_with_a_reason_each():
    cases = {
        "not_started": t("percent_off_cart", "10", starts_at=NOW + timedelta(days=1)),
        "ended": t("percent_off_cart", "10", ends_at=NOW),
        "min_spend": t("percent_off_cart", "10", min_spend=D("95.01")),
        "channel": t("percent_off_cart", "10", channels=frozenset({"ios"})),
        "store": t("percent_off_cart", "10", stores=frozenset({7})),
        "where": t("percent_off_cart", "10", redeemable="in_store"),
        "tier": t("percent_off_cart", "10", tiers=frozenset({3})),
        "segment": t("percent_off_cart", "10", segment=5),
        "no_qualifying_items": t("percent_off_cart", "10", skus=frozenset({"NOPE"})),
    }
    for reason, terms in cases.items():
        pricing = run(terms)
        assert pricing.discount == 0, reason
        assert [r.reason for r in pricing.refused] == [reason]


def test_conditions_met_apply():
    terms = t(
        "percent_off_cart",
        "10",
        min_spend=D("95.00"),
        channels=frozenset({"store"}),
        stores=frozenset({7}),
        redeemable="in_store",
        tiers=frozenset({3}),
        segment=5,
        starts_at=NOW,
        ends_at=NOW + timedelta(seconds=1),
    )
    shopper = Shopper(customer_id=1, tier_id=3, segments=frozenset({5}))
    assert run(terms, channel="store", store_id=7, shopper=shopper).discount == D("9.50")


def test_stackable_offers_apply_in_priority_order_each_on_what_is_left():
    first = t("percent_off_cart", "50", ref="offer:b", priority=9)
    then = t("amount_off_cart", "10", ref="offer:a", priority=1)
    pricing = run([then, first], lines=[JACKET])
    assert [a.ref for a in pricing.applied] == ["offer:b", "offer:a"]
    assert pricing.lines == {"JKT-M": D("70.00")}  # 60 off, then 10 off the 60 left


def test_an_exclusive_offer_first_in_priority_stands_alone():
    exclusive = t("percent_off_cart", "20", ref="offer:x", exclusive=True, priority=5)
    other = t("amount_off_cart", "5", ref="coupon:C", priority=1)
    pricing = run([other, exclusive])
    assert [a.ref for a in pricing.applied] == ["offer:x"]
    assert pricing.refusal_of("coupon:C").reason == "not_combinable"


def test_an_exclusive_offer_after_another_is_refused():
    exclusive = t("percent_off_cart", "20", ref="coupon:X", exclusive=True, priority=1)
    other = t("amount_off_cart", "5", ref="offer:a", priority=5)
    pricing = run([exclusive, other])
    assert [a.ref for a in pricing.applied] == ["offer:a"]
    assert pricing.refusal_of("coupon:X").reason == "not_combinable"


def test_the_per_order_maximum_caps_the_offer_and_still_sums_exactly():
    pricing = run(t("percent_off_cart", "50", max_discount=D("10.00")), lines=[JACKET, SOCKS])
    assert pricing.discount == D("10.00")
    assert pricing.lines == {"JKT-M": D("8.89"), "SOCK-1": D("1.11")}


lines_strategy = st.lists(
    st.builds(
        Line,
        sku=st.sampled_from(["A", "B", "C", "D", "E"]),
        quantity=st.integers(1, 20),
        unit_price=st.decimals("0.00", "999.99", places=2),
        categories=st.frozensets(st.integers(1, 3), max_size=2),
    ),
    min_size=1,
    max_size=5,
    unique_by=lambda line: line.sku,
)
terms_strategy = st.lists(
    st.builds(
        Terms,
        ref=st.sampled_from(["offer:1", "offer:2", "coupon:3", "coupon:4"]),
        name=st.just("x"),
        reward=st.sampled_from(
            [
                "percent_off_cart",
                "amount_off_cart",
                "percent_off_lines",
                "amount_off_lines",
                "free_item",
                "buy_x_get_y",
            ]
        ),
        value=st.decimals("0.01", "100", places=2),
        buy_quantity=st.integers(1, 3),
        get_quantity=st.integers(1, 2),
        free_sku=st.sampled_from(["A", "B", "Z"]),
        categories=st.frozensets(st.integers(1, 3), max_size=1),
        exclusive=st.booleans(),
        priority=st.integers(0, 3),
        max_discount=st.one_of(st.none(), st.decimals("0.00", "50", places=2)),
    ),
    max_size=4,
    unique_by=lambda terms: terms.ref,
)


@given(lines=lines_strategy, terms=terms_strategy)
def test_discounts_are_whole_cents_never_negative_never_above_the_line(lines, terms):
    pricing = run(terms, lines=lines)
    for line in lines:
        discount = pricing.lines[line.sku]
        assert 0 <= discount <= line.total
        assert discount == discount.quantize(D("0.01"))
    caps = {terms.ref: terms.max_discount for terms in terms}
    for applied in pricing.applied:
        assert sum(applied.lines.values(), D(0)) == applied.amount
        assert applied.amount >= 0
        assert caps[applied.ref] is None or applied.amount <= caps[applied.ref]
    assert pricing.discount == sum((a.amount for a in pricing.applied), D(0))

"""Recommendations from orders: products bought together (item to item, Jaccard-normalised so a
best-seller does not top every list), for a product and for a customer, never what they bought.

Seven orders, counted by hand (A, B, C and the best-seller X):

    o1 A B   o2 A B   o3 A X   o4 B X   o5 C X   o6 X   o7 X A

Orders with A: 4, with B: 3, with X: 5, with C: 1. With a minimum support of 2 orders, two
pairs are kept: A-B (together 2, 2 / (4 + 3 - 2) = 0.4) and A-X (together 2, 2 / (4 + 5 - 2)
= 2/7). B-X and C-X are in one order each: dropped. So for A, B comes before the best-seller X.
"""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from campaigns import selectors, services
from campaigns.models import ProductAffinity
from customers.models import Customer
from omni.core.errors import InvalidRequest
from tests.api_clients import app_client
from tests.campaigns.factories import order
from tests.inventory.factories import ProductFactory, SkuFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    class Shop:
        a, b, c, x = (
            SkuFactory(code=code, product=ProductFactory(code=code.lower())) for code in "ABCX"
        )
        ann = Customer.objects.create(first_name="Ann")  # bought A only
        bob = Customer.objects.create(first_name="Bob")  # bought A and B
        others = Customer.objects.create(first_name="Others")

    s = Shop
    recent = timezone.now() - timedelta(days=3)
    order(s.ann, at=recent, skus=(s.a, s.x))  # o3: Ann has A and X
    order(s.bob, at=recent, skus=(s.a, s.b))  # o1
    for skus in [(s.a, s.b), (s.b, s.x), (s.c, s.x), (s.x,), (s.x, s.a)]:  # o2 o4 o5 o6 o7
        order(s.others, at=recent, skus=skus)
    return s


def pairs():
    return {
        (p.product.code, p.related.code, p.together, round(p.score, 4))
        for p in ProductAffinity.objects.select_related("product", "related")
    }


def test_pairs_are_counted_per_order_scored_by_jaccard_and_cut_at_the_minimum_support(shop):
    kept = services.refresh_affinities(min_support=2)

    assert kept == 4
    assert pairs() == {
        ("a", "b", 2, 0.4),
        ("b", "a", 2, 0.4),
        ("a", "x", 2, round(2 / 7, 4)),
        ("x", "a", 2, round(2 / 7, 4)),
    }
    assert [p.code for p in selectors.also_bought(shop.a.product)] == ["b", "x"]


def test_cancelled_orders_and_orders_before_the_window_do_not_count(shop):
    old = timezone.now() - timedelta(days=400)
    for _ in range(3):
        order(shop.others, at=old, skus=(shop.c, shop.b))
        order(shop.others, at=timezone.now(), skus=(shop.c, shop.a), status="cancelled")

    services.refresh_affinities(min_support=2, window_days=365)

    assert {(a, b) for a, b, *_ in pairs()} == {("a", "b"), ("b", "a"), ("a", "x"), ("x", "a")}


def test_each_product_keeps_only_its_best_pairs(shop):
    services.refresh_affinities(min_support=1, per_product=1)

    best = {
        p.product.code: p.related.code
        for p in ProductAffinity.objects.select_related("product", "related")
    }
    assert best["a"] == "b"  # 0.4 beats X's 2/7 and C never met A
    assert ProductAffinity.objects.filter(product__code="x").count() == 1


def test_a_recomputation_replaces_the_previous_pairs(shop):
    services.refresh_affinities(min_support=1)
    services.refresh_affinities(min_support=2)

    assert len(pairs()) == 4


def test_a_customer_gets_what_goes_with_what_they_bought_never_what_they_bought(shop):
    services.refresh_affinities(min_support=2)

    assert [p.code for p in selectors.recommended_for(shop.ann)] == ["b"]  # she has A and X
    assert [p.code for p in selectors.recommended_for(shop.bob)] == ["x"]  # he has A and B


def test_a_customer_with_no_history_gets_the_best_sellers(shop):
    services.refresh_affinities(min_support=2)
    newcomer = Customer.objects.create(first_name="New")

    assert [p.code for p in selectors.recommended_for(newcomer, limit=2)] == ["x", "a"]


def test_an_inactive_product_is_not_recommended(shop):
    services.refresh_affinities(min_support=2)
    type(shop.b.product).objects.filter(pk=shop.b.product.pk).update(is_active=False)

    assert [p.code for p in selectors.also_bought(shop.a.product)] == ["x"]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"min_support": 0}, "min_support"),
        ({"window_days": 0}, "window_days"),
        ({"per_product": 0}, "per_product"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(shop, arguments, field):
    services.refresh_affinities(min_support=2)

    with pytest.raises(InvalidRequest) as refused:
        services.refresh_affinities(**arguments)

    assert field in refused.value.details
    assert len(pairs()) == 4


# --- API --------------------------------------------------------------------------------------


def test_the_storefront_reads_what_is_bought_with_a_product(shop, django_assert_max_num_queries):
    services.refresh_affinities(min_support=2)

    with django_assert_max_num_queries(6):
        response = app_client("web").get("/api/v1/products/a/also-bought")

    assert response.status_code == 200
    assert [p["code"] for p in response.json()] == ["b", "x"]


def test_an_unknown_product_is_a_404_in_the_one_error_shape(shop):
    response = app_client("web").get("/api/v1/products/nope/also-bought")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_signed_in_customer_reads_their_recommendations(shop, django_assert_max_num_queries):
    services.refresh_affinities(min_support=2)

    with django_assert_max_num_queries(8):
        response = app_client("ios", shop.ann).get("/api/v1/recommendations/me")

    assert response.status_code == 200
    assert [p["code"] for p in response.json()] == ["b"]


def test_recommendations_need_a_signed_in_customer(shop):
    assert app_client("ios").get("/api/v1/recommendations/me").status_code in {401, 403}


# --- Admin ------------------------------------------------------------------------------------


def test_a_marketer_recomputes_and_searches_what_is_bought_together(admin_client, shop):
    with override_settings(RECOMMEND_MIN_SUPPORT=2):
        page = admin_client.post(reverse("admin:campaigns_productaffinity_recompute"), follow=True)

    assert "4 pairs of products bought together kept." in page.content.decode()
    listing = admin_client.get(reverse("admin:campaigns_productaffinity_changelist"), {"q": "a"})
    assert [str(p.related) for p in listing.context["cl"].result_list] == [
        str(shop.b.product),
        str(shop.x.product),
    ]
    recompute = reverse("admin:campaigns_productaffinity_recompute")
    assert admin_client.get(recompute).status_code == 403

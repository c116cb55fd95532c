"""The cart says whether its pick-up stock is held, lapsed (the store still has it), lost (the
store no longer has enough) or none (no pick-up store, or nothing in the cart), and which
lines are short at the chosen store."""

from datetime import timedelta

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from inventory import services as inventory
from orders import selectors, services
from tests.api_clients import app_client
from tests.customers.factories import CustomerFactory
from tests.inventory.factories import SkuFactory, stock

pytestmark = pytest.mark.django_db


def pick_up_cart(customer, store_code, *lines):
    cart = services.cart_of(customer=customer)
    services.choose_pickup_store(cart=cart, store_code=store_code)
    for code, quantity in lines:
        services.set_line(cart=cart, sku_code=code, quantity=quantity, channel="web")
    return cart


def lapse(time_machine):
    time_machine.move_to(timezone.now() + timedelta(hours=1))


def my_cart(customer) -> dict:
    response = app_client("web", customer).get("/api/v1/cart")
    assert response.status_code == 200
    return response.json()


def test_a_cart_holding_its_pick_up_stock_says_held_until_when(shop, camille):
    pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 2))

    cart = my_cart(camille)

    assert cart["hold_status"] == "held"
    assert cart["hold_expires_at"] is not None
    assert cart["short_lines"] == []


def test_a_lapsed_hold_whose_stock_is_still_there_says_lapsed(shop, camille, time_machine):
    pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1))
    lapse(time_machine)

    cart = my_cart(camille)

    assert (cart["pickup_store"], cart["hold_status"]) == ("PAR-RIV", "lapsed")
    assert cart["hold_expires_at"] is None
    assert cart["short_lines"] == []


def test_after_the_clean_up_task_a_lapsed_hold_still_says_lapsed(shop, camille, time_machine):
    pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 2))
    lapse(time_machine)
    inventory.expire_cart_holds()

    assert my_cart(camille)["hold_status"] == "lapsed"


def test_a_lapsed_hold_whose_stock_another_cart_took_says_lost_and_names_the_short_lines(
    shop, camille, time_machine
):
    pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1))
    lapse(time_machine)
    pick_up_cart(CustomerFactory(), "PAR-RIV", ("RAIN-JACKET-M", 2))  # 1 jacket left

    cart = my_cart(camille)

    assert (cart["pickup_store"], cart["hold_status"]) == ("PAR-RIV", "lost")
    assert cart["hold_expires_at"] is None
    assert cart["short_lines"] == [{"sku": "RAIN-JACKET-M", "wanted": 2, "available": 1}]


def test_a_line_the_store_has_none_left_of_is_short_with_nothing_available(
    shop, camille, time_machine
):
    pick_up_cart(camille, "PAR-BAS", ("WOOL-BEANIE", 5))
    lapse(time_machine)
    pick_up_cart(CustomerFactory(), "PAR-BAS", ("WOOL-BEANIE", 5))

    cart = my_cart(camille)

    assert cart["hold_status"] == "lost"
    assert cart["short_lines"] == [{"sku": "WOOL-BEANIE", "wanted": 5, "available": 0}]


def test_the_next_change_holds_a_lapsed_cart_again(shop, camille, time_machine):
    cart = pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 1))
    lapse(time_machine)

    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="web")

    assert my_cart(camille)["hold_status"] == "held"


@pytest.mark.parametrize("lines", [[], [("RAIN-JACKET-M", 1)]])
def test_a_cart_without_a_pick_up_store_or_without_lines_holds_nothing(shop, camille, lines):
    cart = services.cart_of(customer=camille)
    for code, quantity in lines:
        services.set_line(cart=cart, sku_code=code, quantity=quantity, channel="web")
    if not lines:
        services.choose_pickup_store(cart=cart, store_code="PAR-RIV")

    body = my_cart(camille)

    assert (body["hold_status"], body["short_lines"], body["hold_expires_at"]) == ("none", [], None)


def test_the_selector_gives_the_clerk_pages_the_same_status(shop, camille, time_machine):
    cart = pick_up_cart(camille, "PAR-RIV", ("RAIN-JACKET-M", 3))
    lapse(time_machine)
    pick_up_cart(CustomerFactory(), "PAR-RIV", ("RAIN-JACKET-M", 1))

    detail = selectors.cart_detail(cart)

    assert detail.hold_status == "lost"
    assert [(s.sku, s.wanted, s.available) for s in detail.short_lines] == [("RAIN-JACKET-M", 3, 2)]


@pytest.mark.parametrize("line_count", [1, 8])
def test_the_cart_with_its_hold_status_is_read_in_a_bounded_number_of_queries(
    shop, camille, time_machine, django_assert_max_num_queries, line_count
):
    skus = SkuFactory.create_batch(line_count)
    for sku in skus:
        stock(sku, shop.rivoli, 2)
    pick_up_cart(camille, "PAR-RIV", *[(sku.code, 2) for sku in skus])
    lapse(time_machine)
    pick_up_cart(CustomerFactory(), "PAR-RIV", (skus[0].code, 1))
    phone = app_client("ios", camille)

    # The key and the customer's token, the cart (found, then read with its store), its
    # lines, the store's stock and the cart's holds there; its coupons, the live automatic
    # offers and the customer's loyalty tier (for pricing the offers).
    with django_assert_max_num_queries(9):
        response = phone.get("/api/v1/cart")

    body = response.json()
    assert body["hold_status"] == "lost"
    assert body["short_lines"] == [{"sku": skus[0].code, "wanted": 2, "available": 1}]


def test_the_schema_documents_the_hold_status_and_the_short_lines():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    cart = schema["components"]["schemas"]["Cart"]["properties"]

    (status,) = cart["hold_status"]["allOf"]
    enum = schema["components"]["schemas"][status["$ref"].rsplit("/", 1)[-1]]["enum"]
    assert set(enum) == {"held", "lapsed", "lost", "none"}
    assert "short_lines" in cart

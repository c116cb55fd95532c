"""Wish-list events for campaigns: back in stock at the customer's store, price dropped, low
stock, each recorded once per change by a set-based detection (the same few queries however
many items), reachable from the customer through model relations."""

from decimal import Decimal

import pytest

from customers.models import Customer
from inventory import services as inventory
from inventory.models import Sku, StockMovement
from orders import services, tasks
from orders.models import WishListEvent
from tests.inventory.factories import SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def camille(shop):
    return customer(first_name="Camille", preferred_store_code="PAR-RIV")


def save(who, **codes):
    return services.add_to_wish_list(owner=services.Owner(customer=who), channel="web", **codes)


def reprice(code: str, price: str) -> None:
    Sku.objects.filter(code=code).update(price=Decimal(price))


def sell(sku: Sku, store, units: int) -> None:
    inventory.record_movement(
        sku=sku, location=store, kind=StockMovement.Kind.SALE, quantity=-units
    )


def receive(sku: Sku, store, units: int) -> None:
    inventory.record_movement(
        sku=sku, location=store, kind=StockMovement.Kind.RECEIPT, quantity=units
    )


def events(kind: str | None = None) -> list[WishListEvent]:
    found = WishListEvent.objects.order_by("pk")
    return list(found.filter(kind=kind) if kind else found)


def test_a_price_drop_is_recorded_once_and_a_second_drop_again(camille):
    save(camille, sku_code="RAIN-JACKET-M")  # 89.00 when saved
    services.detect_wish_list_events()  # nothing changed yet
    reprice("RAIN-JACKET-M", "79.00")

    first = services.detect_wish_list_events()
    seen_again = services.detect_wish_list_events()
    reprice("RAIN-JACKET-M", "69.00")
    second = services.detect_wish_list_events()

    assert (first.price_dropped, seen_again.price_dropped, second.price_dropped) == (1, 0, 1)
    assert [e.details for e in events("price_dropped")] == [
        {"from": "89.00", "to": "79.00"},
        {"from": "79.00", "to": "69.00"},
    ]


def test_a_price_back_up_and_down_to_the_announced_price_is_no_news(camille):
    save(camille, sku_code="RAIN-JACKET-M")
    reprice("RAIN-JACKET-M", "79.00")
    services.detect_wish_list_events()
    reprice("RAIN-JACKET-M", "89.00")
    services.detect_wish_list_events()
    reprice("RAIN-JACKET-M", "79.00")

    again = services.detect_wish_list_events()

    assert again.price_dropped == 0
    assert len(events("price_dropped")) == 1


def test_a_product_drops_in_price_when_its_cheapest_size_does(camille, shop):
    save(camille, product_code=shop.beanie.product.code)
    SkuFactory(code="BEANIE-KIDS", price="25.00", product=shop.beanie.product)
    reprice("WOOL-BEANIE", "15.00")

    detected = services.detect_wish_list_events()

    assert detected.price_dropped == 1
    assert events()[0].details == {"from": "19.00", "to": "15.00"}


def test_back_in_stock_at_the_customers_store_is_recorded_once(camille, shop):
    save(camille, sku_code="RAIN-JACKET-M")  # 3 at Rivoli
    services.detect_wish_list_events()  # the first look: nothing known before, no news
    sell(shop.jacket, shop.rivoli, 3)
    gone = services.detect_wish_list_events()
    receive(shop.jacket, shop.rivoli, 5)

    back = services.detect_wish_list_events()
    seen_again = services.detect_wish_list_events()

    assert (gone.back_in_stock, back.back_in_stock, seen_again.back_in_stock) == (0, 1, 0)
    (event,) = events("back_in_stock")
    assert event.details == {"store": "PAR-RIV", "available": 5}


def test_stock_elsewhere_is_not_back_in_stock_at_the_customers_store(camille, shop):
    save(camille, sku_code="RAIN-JACKET-M")
    sell(shop.jacket, shop.rivoli, 3)
    services.detect_wish_list_events()

    receive(shop.jacket, shop.bastille, 5)

    assert services.detect_wish_list_events().back_in_stock == 0


def test_low_stock_at_the_customers_store_is_recorded_when_it_falls_to_the_band(camille, shop):
    save(camille, sku_code="WOOL-BEANIE")  # 10 at Rivoli; low is 3 or fewer
    services.detect_wish_list_events()
    sell(shop.beanie, shop.rivoli, 6)  # 4: not low yet
    services.detect_wish_list_events()
    sell(shop.beanie, shop.rivoli, 2)  # 2: low

    low = services.detect_wish_list_events()
    sell(shop.beanie, shop.rivoli, 1)  # 1: still low, no news
    still = services.detect_wish_list_events()

    assert (low.low_stock, still.low_stock) == (1, 0)
    assert events("low_stock")[0].details == {"store": "PAR-RIV", "available": 2}


def test_no_stock_news_without_a_preferred_store_and_none_for_guests(shop):
    nowhere = customer(preferred_store_code="")
    save(nowhere, sku_code="RAIN-JACKET-M")
    guest = services.new_guest_owner()
    services.add_to_wish_list(owner=guest, sku_code="RAIN-JACKET-M", channel="web")
    services.detect_wish_list_events()
    sell(shop.jacket, shop.rivoli, 3)
    receive(shop.jacket, shop.rivoli, 3)
    reprice("RAIN-JACKET-M", "50.00")

    detected = services.detect_wish_list_events()

    assert (detected.back_in_stock, detected.price_dropped) == (0, 1)  # hers; never the guest's
    assert events()[0].item.wish_list.customer == nowhere


@pytest.mark.parametrize("size", [1, 6])
def test_detection_takes_the_same_few_queries_however_many_items_changed(
    camille, shop, django_assert_max_num_queries, size
):
    skus = [SkuFactory(code=f"SOCK-{n}", price="10.00") for n in range(size)]
    for sku in skus:
        stock(sku, shop.rivoli, 0)
        save(camille, sku_code=sku.code)
    services.detect_wish_list_events()
    Sku.objects.filter(code__startswith="SOCK-").update(price=Decimal("8.00"))
    for sku in skus:
        receive(sku, shop.rivoli, 4)

    # per kind: find the changed, lock them, read them again, insert the events, update the
    # items (+ savepoints)
    with django_assert_max_num_queries(16):
        detected = services.detect_wish_list_events()

    assert (detected.price_dropped, detected.back_in_stock) == (size, size)


def test_campaigns_find_customers_by_their_wish_list_events_through_model_relations(camille):
    save(camille, sku_code="RAIN-JACKET-M")
    reprice("RAIN-JACKET-M", "59.00")
    services.detect_wish_list_events()

    to_tell = Customer.objects.filter(
        wish_lists__items__events__kind=WishListEvent.Kind.PRICE_DROPPED
    ).distinct()

    assert list(to_tell) == [camille]


def test_a_worker_records_a_price_drop_on_a_wish_list_once(live_celery_worker, camille):
    save(camille, sku_code="RAIN-JACKET-M")
    reprice("RAIN-JACKET-M", "79.00")

    first = tasks.detect_wish_list_events.delay().get(timeout=60)
    again = tasks.detect_wish_list_events.delay().get(timeout=60)

    assert first["price_dropped"] == 1
    assert again["price_dropped"] == 0
    assert len(events("price_dropped")) == 1

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from inventory.models import Reservation, Sku, StockLevel, StockMovement
from loyalty import services as loyalty
from loyalty.models import Account
from loyalty.services import QuoteLine
from omni.core.errors import InsufficientStock, InvalidRequest, PaymentDeclined, PriceChanged
from orders import services
from orders.models import Cart, Order

pytestmark = pytest.mark.django_db


def level(sku, store) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=store)


def filled_cart(customer, *lines, store=None):
    cart = services.cart_of(customer=customer)
    if store:
        services.choose_pickup_store(cart=cart, store_code=store)
    for code, quantity in lines:
        services.set_line(cart=cart, sku_code=code, quantity=quantity, channel="ios")
    return cart


def test_a_pick_up_checkout_turns_the_cart_hold_into_an_order_reservation(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1), store="PAR-RIV")

    result = services.checkout(cart=cart, fulfilment="pickup", channel="ios", idempotency_key="k1")

    order = result.order
    assert result.created
    assert (order.status, order.store, order.total) == ("placed", shop.rivoli, Decimal("197.00"))
    reservations = Reservation.objects.filter(status="active")
    assert {r.kind for r in reservations} == {"order"}
    assert level(shop.jacket, shop.rivoli).reserved == 2
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.CHECKED_OUT
    assert order.payments.get().status == "authorized"
    assert list(order.events.values_list("to_status", flat=True)) == ["placed"]


def test_a_retried_checkout_returns_the_same_order_and_reserves_nothing_twice(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 1), store="PAR-RIV")

    first = services.checkout(cart=cart, fulfilment="pickup", channel="ios", idempotency_key="k")
    again = services.checkout(cart=cart, fulfilment="pickup", channel="ios", idempotency_key="k")

    assert (again.order, again.created) == (first.order, False)
    assert Order.objects.count() == 1
    assert level(shop.jacket, shop.rivoli).reserved == 1


def test_checkout_is_all_or_nothing_when_one_line_cannot_be_covered(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1))

    with pytest.raises(InsufficientStock):
        services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key="k",
            pickup_store_code="PAR-BAS",  # beanies but no jackets
        )

    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert Cart.objects.get(pk=cart.pk).status == Cart.Status.ACTIVE


def test_a_declined_payment_puts_every_reserved_unit_and_point_back(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 2), store="PAR-RIV")

    with pytest.raises(PaymentDeclined):
        services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key="k",
            payment_token="decline",
        )

    assert not Order.objects.exists()
    assert level(shop.jacket, shop.rivoli).reserved == 2  # the cart's own hold is still there
    assert Reservation.objects.get(status="active").kind == "cart_hold"


def test_a_changed_price_stops_checkout_with_the_new_price_shown(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 1))
    Sku.objects.filter(code="RAIN-JACKET-M").update(price=Decimal("79.00"))

    with pytest.raises(PriceChanged) as changed:
        services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key="k",
            pickup_store_code="PAR-RIV",
        )

    assert changed.value.details["lines"] == [
        {"sku": "RAIN-JACKET-M", "was": "89.00", "now": "79.00"}
    ]
    assert cart.lines.get().unit_price == Decimal("79.00")
    assert not Order.objects.exists()


def test_a_delivery_checkout_allocates_from_the_warehouse(shop, camille):
    cart = filled_cart(camille, ("RAIN-JACKET-M", 4))

    order = services.checkout(
        cart=cart,
        fulfilment="delivery",
        channel="web",
        idempotency_key="k",
        address=services.Address(
            "Camille Martin", "1 rue de Rivoli", "Paris", "75001", "FR", 48.86, 2.35
        ),
    ).order

    assert order.status == "allocated"
    shipment = order.shipments.get()
    assert (shipment.location, shipment.units_by_sku()) == (shop.warehouse, {"RAIN-JACKET-M": 4})
    assert level(shop.jacket, shop.warehouse).reserved == 4


def test_points_pay_part_of_the_order_and_are_shared_over_the_lines(shop, camille, time_machine):
    loyalty.earn_for_order(
        customer=camille,
        reference="old",
        lines=[QuoteLine(Decimal(500))],
        channel="web",
        idempotency_key="old",
    )
    time_machine.move_to(timezone.now() + timedelta(days=31))
    loyalty.mature_points()
    cart = filled_cart(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1), store="PAR-RIV")

    order = services.checkout(
        cart=cart, fulfilment="pickup", channel="ios", idempotency_key="k", redeem_points=400
    ).order

    assert (order.points_discount, order.total) == (Decimal("4.00"), Decimal("104.00"))
    assert sum(line.discount for line in order.lines.all()) == Decimal("4.00")
    assert Account.objects.get(customer=camille).available == 100


def test_an_in_store_sale_takes_stock_at_once_and_completes(shop, camille):
    clerk = User.objects.create_user("clerk", is_staff=True)
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="store", clerk=clerk)

    order = services.checkout(
        cart=cart,
        fulfilment="in_store",
        channel="store",
        idempotency_key="till-1",
        clerk=clerk,
        till_store=shop.bastille,
    ).order

    assert order.status == "completed"
    assert level(shop.beanie, shop.bastille).on_hand == 3
    sale = StockMovement.objects.get(kind="sale")
    assert (sale.quantity, sale.actor) == (-2, clerk)
    assert order.payments.get().status == "captured"


def test_an_empty_cart_cannot_be_checked_out(shop, camille):
    with pytest.raises(InvalidRequest, match="empty"):
        services.checkout(
            cart=services.cart_of(customer=camille),
            fulfilment="pickup",
            channel="web",
            idempotency_key="k",
            pickup_store_code="PAR-RIV",
        )


def test_a_known_customer_earns_points_on_an_in_store_sale(shop, camille):
    clerk = User.objects.create_user("clerk", is_staff=True)
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="store", clerk=clerk)

    services.checkout(
        cart=cart,
        fulfilment="in_store",
        channel="store",
        idempotency_key="till-2",
        clerk=clerk,
        till_store=shop.bastille,
    )

    assert Account.objects.get(customer=camille).pending == 38


def test_only_a_clerks_till_sale_may_name_a_customer_apart_from_the_cart(shop, camille):
    cart = services.cart_of()
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=1, channel="web")

    with pytest.raises(InvalidRequest, match="in-store sale"):
        services.checkout(
            cart=cart,
            fulfilment="pickup",
            channel="web",
            idempotency_key="k",
            pickup_store_code="PAR-RIV",
            customer=camille,
        )

    assert not Order.objects.exists()


def test_each_line_keeps_the_cost_price_known_when_it_was_sold(shop, camille):
    Sku.objects.filter(pk=shop.jacket.pk).update(cost_price=Decimal("31.50"))
    cart = filled_cart(camille, ("RAIN-JACKET-M", 2), ("WOOL-BEANIE", 1), store="PAR-RIV")

    order = services.checkout(
        cart=cart, fulfilment="pickup", channel="ios", idempotency_key="k"
    ).order
    Sku.objects.filter(pk=shop.jacket.pk).update(cost_price=Decimal("40.00"))  # a later buy

    costs = dict(order.lines.values_list("sku__code", "unit_cost"))
    assert costs == {"RAIN-JACKET-M": Decimal("31.50"), "WOOL-BEANIE": None}

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from omni.core.errors import InsufficientStock, InvalidRequest, NotFound
from orders import services
from orders.models import Cart
from tests.campaigns.offer_factories import coupon
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def available(sku, store) -> int:
    return StockLevel.objects.get(sku=sku, location=store).available


def test_one_cart_follows_the_customer_across_channels_and_remembers_where_lines_came_from(
    shop, camille
):
    on_phone = services.cart_of(customer=camille)
    services.set_line(
        cart=on_phone, sku_code="RAIN-JACKET-M", quantity=1, channel="ios", device_id="iphone-15"
    )

    on_laptop = services.cart_of(customer=camille)

    assert on_laptop == on_phone
    line = on_laptop.lines.get()
    assert (line.sku.code, line.channel, line.device_id) == ("RAIN-JACKET-M", "ios", "iphone-15")


def test_adding_for_pick_up_holds_stock_at_the_store_and_the_carts_own_hold_never_blocks_it(
    shop, camille
):
    cart = services.cart_of(customer=camille)
    services.choose_pickup_store(cart=cart, store_code="PAR-RIV")

    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=2, channel="web")
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=3, channel="web")

    assert available(shop.jacket, shop.rivoli) == 0
    hold = Reservation.objects.get(status="active")
    assert (hold.kind, hold.quantity) == ("cart_hold", 3)


def test_a_store_that_cannot_cover_every_line_is_refused_and_nothing_is_held(shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="web")

    with pytest.raises(InsufficientStock):
        services.choose_pickup_store(cart=cart, store_code="PAR-BAS")  # no jackets there

    cart.refresh_from_db()
    assert cart.pickup_store is None
    assert not Reservation.objects.filter(status="active").exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [("NOPE", "Unknown store"), ("ORL-DC", "does not offer pick-up")],
)
def test_an_unknown_store_or_one_without_pick_up_is_refused(shop, camille, code, message):
    cart = services.cart_of(customer=camille)

    with pytest.raises(InvalidRequest, match=message):
        services.choose_pickup_store(cart=cart, store_code=code)


@pytest.mark.parametrize("quantity", [0, -1, 21])
def test_a_quantity_out_of_range_is_refused_and_changes_nothing(shop, camille, quantity):
    cart = services.cart_of(customer=camille)

    with pytest.raises(InvalidRequest):
        services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=quantity, channel="web")

    assert not cart.lines.exists()


def test_a_guest_cart_merges_keeping_the_larger_quantity_not_the_sum(shop, camille):
    mine = services.cart_of(customer=camille)
    services.set_line(cart=mine, sku_code="WOOL-BEANIE", quantity=2, channel="ios")
    guest = services.cart_of()
    services.set_line(cart=guest, sku_code="WOOL-BEANIE", quantity=1, channel="web")
    services.set_line(cart=guest, sku_code="RAIN-JACKET-M", quantity=1, channel="web")

    merged = services.merge_guest_cart(customer=camille, guest_token=guest.guest_token)
    again = services.merge_guest_cart(customer=camille, guest_token=guest.guest_token)

    assert merged == again == mine
    assert dict(mine.lines.values_list("sku__code", "quantity")) == {
        "WOOL-BEANIE": 2,
        "RAIN-JACKET-M": 1,
    }
    assert Cart.objects.get(pk=guest.pk).status == Cart.Status.MERGED


def test_codes_a_guest_presented_come_along_when_they_sign_in(shop, camille):
    coupon("SPRING10")
    coupon("WELCOME5")
    mine = services.cart_of(customer=camille)
    services.set_line(cart=mine, sku_code="WOOL-BEANIE", quantity=1, channel="ios")
    services.apply_coupon(cart=mine, code="WELCOME5", channel="ios")
    guest = services.cart_of()
    services.set_line(cart=guest, sku_code="RAIN-JACKET-M", quantity=1, channel="web")
    services.apply_coupon(cart=guest, code="SPRING10", channel="web")
    services.apply_coupon(cart=guest, code="WELCOME5", channel="web")

    services.merge_guest_cart(customer=camille, guest_token=guest.guest_token)

    assert sorted(mine.coupons.values_list("coupon__code", flat=True)) == [
        "SPRING10",
        "WELCOME5",
    ]
    assert not guest.coupons.exists()


def test_an_unknown_guest_token_is_refused(shop, camille):
    with pytest.raises(NotFound):
        services.merge_guest_cart(customer=camille, guest_token="made-up")


def test_another_carts_lapsed_hold_does_not_block_this_cart(shop, camille, time_machine):
    other = services.cart_of(customer=CustomerFactory())
    services.choose_pickup_store(cart=other, store_code="PAR-RIV")
    services.set_line(cart=other, sku_code="RAIN-JACKET-M", quantity=3, channel="web")
    time_machine.move_to(timezone.now() + timedelta(hours=1))  # its hold lapsed, not cleaned

    mine = services.cart_of(customer=camille)
    services.choose_pickup_store(cart=mine, store_code="PAR-RIV")
    services.set_line(cart=mine, sku_code="RAIN-JACKET-M", quantity=3, channel="web")

    assert Reservation.objects.get(status="active").reference == mine.hold_reference

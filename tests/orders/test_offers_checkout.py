"""Offers and coupons through the cart and checkout: discounts per line (with points), the
uses of codes, their release on cancel, and offer_changed when the offers moved meanwhile."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns.models import Coupon, Redemption, RefusedCode
from loyalty import services as loyalty
from loyalty.services import QuoteLine
from omni.core.errors import InvalidCoupon, OfferChanged
from orders import services
from orders.models import CartCoupon, Order
from tests.campaigns.offer_factories import coupon, offer

pytestmark = pytest.mark.django_db


def cart_with(customer, *lines, channel="ios"):
    cart = services.cart_of(customer=customer)
    for code, quantity in lines:
        services.set_line(cart=cart, sku_code=code, quantity=quantity, channel=channel)
    return cart


def pickup(cart, key="k", **kwargs):
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="ios",
        idempotency_key=key,
        pickup_store_code="PAR-RIV",
        **kwargs,
    )


def test_an_automatic_offer_is_priced_per_line_into_the_order(shop, camille):
    offer(name="Spring", value=Decimal("10"))
    cart = cart_with(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 1))

    order = pickup(cart).order

    assert (order.subtotal, order.offer_discount, order.total) == (
        Decimal("108.00"),
        Decimal("10.80"),
        Decimal("97.20"),
    )
    assert {line.sku.code: line.discount for line in order.lines.all()} == {
        "RAIN-JACKET-M": Decimal("8.90"),
        "WOOL-BEANIE": Decimal("1.90"),
    }
    assert list(order.discounts.values_list("name", "amount")) == [("Spring", Decimal("10.80"))]
    assert order.payments.get().amount == Decimal("97.20")


def test_offers_and_points_both_land_in_the_line_discount_and_returns_refund_pro_rata(
    shop, camille
):
    loyalty.earn_for_order(
        customer=camille,
        reference="old",
        lines=[QuoteLine(Decimal(500))],
        channel="web",
        idempotency_key="old",
    )
    loyalty.mature_points(now=timezone.now() + timedelta(days=31))
    offer(name="Beanies", reward="amount_off_lines", value=Decimal("4")).skus.add(shop.beanie)
    cart = cart_with(camille, ("RAIN-JACKET-M", 1), ("WOOL-BEANIE", 2))

    order = pickup(cart, redeem_points=400).order  # 4.00 of points on the 119.00 left

    lines = {line.sku.code: line for line in order.lines.all()}
    assert order.offer_discount == Decimal("8.00")
    assert order.total == Decimal("127.00") - Decimal("8.00") - Decimal("4.00")
    assert lines["RAIN-JACKET-M"].discount == Decimal("2.99")  # 89/119 of 4.00
    assert lines["WOOL-BEANIE"].discount == Decimal("8.00") + Decimal("1.01")  # and the rest
    clerk = User.objects.create_user("clerk", is_staff=True)
    services.mark_ready_for_pickup(order=order, actor=clerk)
    services.collect_pickup(order=order, code=Order.objects.get().pickup_code, actor=clerk)
    ret = services.return_items(
        order=order,
        items=[services.ReturnedItem(lines["WOOL-BEANIE"].pk, 1, restock=False)],
        idempotency_key="r1",
    )
    assert ret.refund_amount == Decimal("14.50")  # half of 38.00 - 9.01, rounded half up


def test_a_coupon_is_used_by_the_order_and_given_back_when_it_is_cancelled(shop, camille):
    single = coupon("SPRING-ONCE", max_uses=1)
    cart = cart_with(camille, ("RAIN-JACKET-M", 1))
    services.apply_coupon(cart=cart, code="spring once", channel="ios")

    order = pickup(cart).order

    assert order.offer_discount == Decimal("8.90")
    single.refresh_from_db()
    assert single.times_used == 1
    assert Redemption.objects.get().reference == order.number
    services.cancel_order(order=order)
    single.refresh_from_db()
    assert single.times_used == 0
    assert Redemption.objects.get().status == "released"


def test_bad_codes_are_refused_counted_and_change_nothing_on_the_cart(shop, camille):
    coupon("OLD", offer=offer(trigger="code", ends_at=timezone.now() - timedelta(days=1)))
    coupon("TILL-ONLY", offer=offer(trigger="code", redeemable="in_store"))
    cart = cart_with(camille, ("RAIN-JACKET-M", 1))

    for code, reason in [("NOPE", "unknown"), ("OLD", "ended"), ("TILL-ONLY", "where")]:
        with pytest.raises(InvalidCoupon) as refused:
            services.apply_coupon(cart=cart, code=code, channel="ios")
        assert refused.value.details["reason"] == reason

    assert not CartCoupon.objects.exists()
    assert RefusedCode.objects.filter(customer=camille).count() == 3


def test_an_offer_changed_after_the_cart_was_priced_is_refused_once_then_checkout_proceeds(
    shop, camille
):
    spring = offer(name="Spring", value=Decimal("10"))
    cart = cart_with(camille, ("RAIN-JACKET-M", 1))
    spring.value = Decimal("5")
    spring.save()

    with pytest.raises(OfferChanged) as refused:
        pickup(cart)

    assert refused.value.details["offers"][0]["reason"] == "changed"
    assert not Order.objects.exists()
    assert pickup(cart, key="k2").order.offer_discount == Decimal("4.45")


def test_an_offer_that_ended_or_a_coupon_expired_before_checkout_is_refused(
    shop, camille, time_machine
):
    now = timezone.now()
    offer(name="Weekend", value=Decimal("10"), ends_at=now + timedelta(hours=1))
    coupon(
        "FIVE",
        offer=offer(
            trigger="code", reward="amount_off_cart", value=5, ends_at=now + timedelta(hours=1)
        ),
    )
    cart = cart_with(camille, ("RAIN-JACKET-M", 1))
    services.apply_coupon(cart=cart, code="FIVE", channel="ios")
    time_machine.move_to(now + timedelta(hours=2))

    with pytest.raises(OfferChanged) as refused:
        pickup(cart)

    reasons = {change["reason"] for change in refused.value.details["offers"]}
    assert reasons == {"ended"}
    assert not CartCoupon.objects.exists()  # the expired code was taken off the cart
    assert pickup(cart, key="k2").order.total == Decimal("89.00")
    assert Coupon.objects.get().times_used == 0


def test_a_points_multiplier_offer_multiplies_the_points_the_order_earns(shop, camille):
    clerk = User.objects.create_user("clerk", is_staff=True)

    def collected(key):
        cart = cart_with(camille, ("WOOL-BEANIE", 1))
        order = pickup(cart, key=key).order
        services.mark_ready_for_pickup(order=order, actor=clerk)
        code = Order.objects.get(pk=order.pk).pickup_code
        services.collect_pickup(order=order, code=code, actor=clerk)
        return order

    plain = collected("plain")
    offer(name="Triple points weekend", reward="points_multiplier", value=Decimal("3"))
    tripled = collected("tripled")

    earned = {
        entry.reference: entry for entry in camille.loyalty_account.entries.filter(kind="earn")
    }
    assert tripled.total == plain.total  # a multiplier takes nothing off the price
    assert earned[tripled.number].pending == 3 * earned[plain.number].pending > 0
    assert {"rule": "Triple points weekend", "multiplier": "3"} in (
        earned[tripled.number].explanation[0]["factors"]
    )

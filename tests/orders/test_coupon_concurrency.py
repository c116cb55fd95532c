"""One single-use code presented at the till and in the app at the same moment is used once."""

import pytest
from django.contrib.auth.models import User

from campaigns.models import Coupon, Redemption
from omni.core.errors import OfferChanged
from orders import services
from orders.models import Order
from tests.campaigns.offer_factories import coupon
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_a_single_use_code_at_the_till_and_in_the_app_at_once_goes_to_one_order():
    store = LocationFactory(code="PAR-RIV")
    sku = SkuFactory(code="RAIN-JACKET-M", price="89.00")
    stock(sku, store, 10)
    coupon("GIFT-ONCE", max_uses=1)
    clerk = User.objects.create_user("clerk", is_staff=True)
    till = services.cart_of()  # the till's own cart
    services.set_line(cart=till, sku_code=sku.code, quantity=1, channel="store", clerk=clerk)
    services.apply_coupon(cart=till, code="GIFT-ONCE", channel="store")
    app = services.cart_of(customer=customer())
    services.set_line(cart=app, sku_code=sku.code, quantity=1, channel="ios")
    services.apply_coupon(cart=app, code="GIFT-ONCE", channel="ios")

    def at_the_till():
        return services.checkout(
            cart=till,
            fulfilment="in_store",
            channel="store",
            idempotency_key="till",
            clerk=clerk,
            till_store=store,
        )

    def in_the_app():
        return services.checkout(
            cart=app,
            fulfilment="pickup",
            channel="ios",
            idempotency_key="app",
            pickup_store_code="PAR-RIV",
        )

    outcome = run_concurrently([at_the_till, in_the_app], OfferChanged)

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert (len(outcome.granted), len(outcome.refused)) == (1, 1), summary
    assert outcome.refused[0].details["reason"] == "used_up"
    assert Order.objects.count() == 1
    assert Coupon.objects.get().times_used == 1
    assert Redemption.objects.get().reference == Order.objects.get().number

"""Two tills selling at the same moment, both paying with the same stored-value card, on a
real PostgreSQL server: the card pays what it holds once, the rest goes to the till."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db.models import Sum

from loyalty import services as loyalty
from omni.core.errors import InsufficientBalance
from orders import services
from orders.models import Payment
from tests.concurrency import run_concurrently
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.stored_value_factories import card_with

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]


def test_two_till_sales_at_once_with_one_card_never_take_it_below_zero():
    store = LocationFactory(code="PAR-RIV", name="Paris Rivoli", ship_from_enabled=False)
    stock(SkuFactory(code="RAIN-JACKET-M", price="89.00"), store, 10)
    card = card_with("100")
    clerks = [User.objects.create_user(f"till{n}", is_staff=True) for n in range(2)]
    carts = []
    for _ in clerks:
        cart = services.cart_of()
        services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=1, channel="store")
        carts.append(cart)

    def sale(n):
        return lambda: (
            services.checkout(
                cart=carts[n],
                fulfilment="in_store",
                channel="store",
                idempotency_key=f"till-{n}",
                clerk=clerks[n],
                till_store=store,
                stored_value_card=loyalty.stored_value_card_for(card.number),
            ).order
        )

    outcome = run_concurrently([sale(0), sale(1)], InsufficientBalance)

    summary = outcome.summary(2)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 2, summary  # the second one's card share is what was left
    card.refresh_from_db()
    assert card.balance == 0
    assert card.entries.aggregate(total=Sum("amount"))["total"] == 0
    by_card = Payment.objects.filter(provider=Payment.STORED_VALUE)
    assert sorted(by_card.values_list("amount", flat=True)) == [Decimal("11"), Decimal("89")]
    assert Payment.objects.exclude(provider=Payment.STORED_VALUE).get().amount == Decimal("78")

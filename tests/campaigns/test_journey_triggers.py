"""Each trigger enrols exactly the customers with an occasion now, once per occasion, with
what the message may say about it; a second run enrols nobody again."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Campaign, JourneyEnrollment
from customers.models import Notification
from loyalty.models import Account, PointsLot
from orders.models import Cart, CartLine, OrderEvent, WishList, WishListEvent, WishListItem
from tests.campaigns.campaign_factories import audience, shopper
from tests.campaigns.factories import lot, member, order, touch
from tests.campaigns.offer_factories import offer
from tests.inventory.factories import LocationFactory, SkuFactory
from tests.loyalty.factories import programme

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 15, 20, 0, tzinfo=UTC)  # 05:00 on the 16th in Tokyo


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def entered(journey: Campaign) -> dict[str, tuple[str, dict]]:
    """Who entered the journey: first name → (occasion, context)."""
    return {
        e.customer.first_name: (e.occasion, e.context)
        for e in JourneyEnrollment.objects.filter(campaign=journey).select_related("customer")
    }


def enrol_twice() -> int:
    first = services.run_journeys().entered
    assert services.run_journeys().entered == 0
    return first


def started(trigger: str, params: dict | None = None, **fields) -> Campaign:
    from tests.campaigns.journey_factories import journey

    return journey(trigger, params=params, **fields)


def cart(customer, *, idle: timedelta, lines: int = 1, status: str = "active") -> Cart:
    made = Cart.objects.create(customer=customer, status=status)
    for _ in range(lines):
        CartLine.objects.create(
            cart=made, sku=SkuFactory(), quantity=2, unit_price=Decimal("10.00"), channel="web"
        )
    CartLine.objects.filter(cart=made).update(updated_at=NOW - idle)
    Cart.objects.filter(pk=made.pk).update(updated_at=NOW - idle)
    return made


def test_abandoned_cart_enrols_carts_idle_for_the_hours_and_again_after_a_new_touch(clock):
    journey = started("abandoned_cart", {"hours": 4})
    anna, ben, chloe, david = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe", "David"))
    left = cart(anna, idle=timedelta(hours=5))
    cart(ben, idle=timedelta(hours=2))  # still shopping
    cart(chloe, idle=timedelta(hours=5), lines=0)  # nothing in it
    cart(david, idle=timedelta(hours=5), status="checked_out")

    assert enrol_twice() == 1
    _occasion, context = entered(journey)["Anna"]
    assert context == {"cart": str(left.public_id), "cart_items": 2, "cart_total": "20.00"}

    # Anna comes back, adds to the cart and leaves it again: a new occasion.
    clock.move_to(NOW + timedelta(hours=1))
    CartLine.objects.filter(cart=left).update(updated_at=NOW + timedelta(hours=1))
    clock.move_to(NOW + timedelta(hours=5, minutes=1))
    assert services.run_journeys().entered == 2  # Anna's second, and Ben's cart, idle now
    assert JourneyEnrollment.objects.filter(customer=anna).count() == 2


def test_browse_abandonment_enrols_online_views_not_bought_since_with_an_in_store_code(clock):
    batch = services.generate_codes(
        offer=offer(trigger="code", redeemable="in_store"), name="browse", quantity=5
    )
    journey = started(
        "browse_abandonment",
        {"hours": 24},
        code_batch=batch,
        text="{{ first_name }}, {{ product }} is waiting in store: {{ code }}",
    )
    sku = SkuFactory()
    product = sku.product
    anna, ben, chloe, david = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe", "David"))
    touch(anna, "product_view", at=NOW - timedelta(hours=3), product_code=product.code)
    touch(
        ben, "product_view", at=NOW - timedelta(hours=3), product_code=product.code, channel="store"
    )
    touch(chloe, "product_view", at=NOW - timedelta(hours=5), product_code=product.code)
    order(chloe, at=NOW - timedelta(hours=4), skus=(sku,))  # bought it since
    touch(david, "product_view", at=NOW - timedelta(hours=30), product_code=product.code)

    assert enrol_twice() == 1
    assert entered(journey)["Anna"][1] == {"product_code": product.code, "product": product.name}
    message = Notification.objects.get(customer=anna)
    code = anna.coupons.get(batch=batch).code
    assert message.body == f"Anna, {product.name} is waiting in store: {code}"


def test_birthday_enrols_whose_birthday_it_is_in_their_own_time_zone_once_a_year(clock):
    journey = started("birthday")
    shopper("Anna", "email", birthday=date(1990, 3, 15))  # the shop's zone (UTC): today
    shopper("Kenji", "email", birthday=date(1985, 3, 16), time_zone="Asia/Tokyo")  # today there
    shopper("Ben", "email", birthday=date(1990, 3, 16))  # tomorrow
    shopper("Chloe", "email")  # no birthday known

    assert enrol_twice() == 2
    assert {name: occasion for name, (occasion, _) in entered(journey).items()} == {
        "Anna": "birthday:2026",
        "Kenji": "birthday:2026",
    }
    clock.move_to(NOW.replace(year=2027))
    assert services.run_journeys().entered == 2


def test_win_back_enrols_who_has_not_bought_for_the_days_once_per_lapse(clock):
    journey = started("win_back", {"days": 90})
    anna, ben, chloe, david = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe", "David"))
    order(anna, at=NOW - timedelta(days=90, hours=1))
    order(ben, at=NOW - timedelta(days=10))
    order(chloe, at=NOW - timedelta(days=200))  # lapsed long ago: not a new lapse
    order(david, at=NOW - timedelta(days=91))
    order(david, at=NOW - timedelta(days=5), status="cancelled")  # not a purchase

    assert enrol_twice() == 2
    assert set(entered(journey)) == {"Anna", "David"}


def test_welcome_enrols_customers_new_since_the_journey_started(clock):
    shopper("Before", "email")
    clock.move_to(NOW + timedelta(minutes=1))
    journey = started("welcome")
    clock.move_to(NOW + timedelta(minutes=2))
    shopper("Anna", "email")

    assert enrol_twice() == 1
    assert entered(journey) == {"Anna": ("welcome", {})}


def test_tier_reached_enrols_members_who_moved_up_once_per_tier(clock):
    rewards = programme()
    journey = started("tier_reached", text="{{ first_name }}, welcome to {{ tier_reached }}")
    anna, ben, chloe = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe"))
    today = timezone.localdate()
    Account.objects.filter(pk=member(anna, rewards, "Gold").pk).update(
        tier_anniversary=today + timedelta(days=365)  # changed today
    )
    member(ben, rewards, "Silver")  # reached it months ago
    Account.objects.filter(pk=member(chloe, rewards, "Member").pk).update(
        tier_anniversary=today + timedelta(days=365)  # the entry tier
    )

    assert enrol_twice() == 1
    assert entered(journey)["Anna"][1] == {"tier_reached": "Gold"}
    assert Notification.objects.get().body == "Anna, welcome to Gold"


def test_points_expiring_enrols_each_expiry_day_within_the_days_once(clock):
    rewards = programme()
    journey = started(
        "points_expiring",
        {"days": 14},
        text="{{ expiring_points }} points expire on {{ expiry_date }}",
    )
    anna, ben = shopper("Anna", "email"), shopper("Ben", "email")
    account = member(anna, rewards, "Member", available=450)
    lot(account, 100, expires_at=NOW + timedelta(days=10))
    lot(account, 50, expires_at=NOW + timedelta(days=10, hours=2))  # the same day
    lot(account, 300, expires_at=NOW + timedelta(days=20))  # not yet
    told = lot(member(ben, rewards, "Member", available=80), 80, expires_at=NOW + timedelta(days=3))
    PointsLot.objects.filter(pk=told.pk).update(expiry_notice_sent_at=NOW - timedelta(days=11))
    lot(account, 40, expires_at=NOW + timedelta(days=5), pending=True)

    assert enrol_twice() == 1
    assert entered(journey)["Anna"] == (
        "points:2026-03-25",
        {"expiring_points": 150, "expiry_date": "25 March 2026"},
    )
    assert Notification.objects.get().body == "150 points expire on 25 March 2026"
    clock.move_to(NOW + timedelta(days=7))
    assert services.run_journeys().entered == 1  # the 300 points' day came into the window


def test_order_completed_enrols_collected_delivered_and_till_orders_with_their_facts(clock):
    journey = started("order_completed", text="{{ first_name }}, how was order {{ order_number }}?")
    store = LocationFactory(code="LYO-BEL")
    anna, ben, chloe, david = (shopper(n, "email") for n in ("Anna", "Ben", "Chloe", "David"))
    clock.move_to(NOW + timedelta(minutes=1))

    def moved(customer, from_status, to_status, **fields):
        made = order(customer, at=NOW - timedelta(days=2), status=to_status, **fields)
        OrderEvent.objects.create(
            order=made, from_status=from_status, to_status=to_status, actor_label="system"
        )
        return made

    collected = moved(
        anna, "ready_for_pickup", "collected", fulfilment="pickup", store=store, channel="ios"
    )
    till = moved(ben, "placed", "completed", fulfilment="in_store", store=store, channel="store")
    delivered = moved(chloe, "shipped", "delivered")
    moved(david, "allocated", "shipped")  # on its way
    OrderEvent.objects.create(
        order=till, to_status="completed", actor_label="clerk", note="receipt reprinted"
    )

    assert enrol_twice() == 3
    assert entered(journey) == {
        "Anna": (
            f"order:{collected.number}",
            {
                "order_number": collected.number,
                "order_channel": "ios",
                "store_code": "LYO-BEL",
                "survey_scale": "nps",
            },
        ),
        "Ben": (
            f"order:{till.number}",
            {
                "order_number": till.number,
                "order_channel": "store",
                "store_code": "LYO-BEL",
                "survey_scale": "nps",
            },
        ),
        "Chloe": (
            f"order:{delivered.number}",
            {
                "order_number": delivered.number,
                "order_channel": "web",
                "store_code": "",
                "survey_scale": "nps",
            },
        ),
    }


def test_a_journey_with_an_audience_enrols_only_its_members(clock):
    anna = shopper("Anna", "email")
    shopper("Ben", "email")
    journey = started("win_back", {"days": 1}, segment=audience([anna]))
    for person in anna.__class__.objects.all():
        order(person, at=NOW - timedelta(days=1, hours=1))

    assert enrol_twice() == 1
    assert set(entered(journey)) == {"Anna"}


def saved(customer, product, *events):
    """A wish-list item of ``product`` with its events (kind, details), recorded just now."""
    wishes = WishList.objects.create(customer=customer, name="Wish list", is_default=True)
    item = WishListItem.objects.create(
        wish_list=wishes,
        product=product,
        channel="ios",
        price_when_added=Decimal("80.00"),
        last_price=Decimal("80.00"),
    )
    for kind, details in events:
        WishListEvent.objects.create(item=item, kind=kind, at=NOW, details=details)
    return item


@pytest.mark.parametrize(
    ("trigger", "kind", "details", "context"),
    [
        (
            "wish_list_price_dropped",
            "price_dropped",
            {"from": "80.00", "to": "60.00"},
            {"price_before": "80.00", "price_now": "60.00"},
        ),
        (
            "wish_list_back_in_stock",
            "back_in_stock",
            {"store": "LYO-BEL", "available": 4},
            {"store_code": "LYO-BEL", "available": 4},
        ),
        (
            "wish_list_low_stock",
            "low_stock",
            {"store": "LYO-BEL", "available": 2},
            {"store_code": "LYO-BEL", "available": 2},
        ),
    ],
)
def test_wish_list_events_enrol_the_customer_once_per_item_and_day(
    clock, trigger, kind, details, context
):
    journey = started(trigger, text="{{ first_name }}: {{ product }}")
    clock.move_to(NOW + timedelta(minutes=1))
    anna, ben = shopper("Anna", "email"), shopper("Ben", "email")
    jacket = SkuFactory().product
    saved(anna, jacket, (kind, details))
    other_kind = "price_dropped" if kind != "price_dropped" else "low_stock"
    saved(ben, SkuFactory().product, (other_kind, {}))  # another kind of news
    old = saved(shopper("Chloe", "email"), jacket)
    WishListEvent.objects.create(item=old, kind=kind, at=NOW - timedelta(days=3), details=details)

    assert enrol_twice() == 1
    occasion, entered_with = entered(journey)["Anna"]
    assert entered_with == {"product": jacket.name, "product_code": jacket.code, **context}
    assert occasion.startswith(f"wish:{kind}:")
    assert Notification.objects.get(customer=anna).body == f"Anna: {jacket.name}"

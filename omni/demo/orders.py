"""Demo carts and orders in every state a store manager meets: to pick, ready on the shelf,
collected and returned at another store, cancelled, expired, shipped, delivered, sold at the
till; plus a guest's cart and a live cart holding stock for pick-up.

Every record is made through ``orders.services`` (cart, checkout, ready, collect, ship, return),
so stock, the ledger, payments and points agree exactly as they would in real use. Idempotent:
each story has a fixed idempotency key and is skipped when its order exists.

Camille gets no collected or delivered order on purpose: the loyalty demo fast-forwards her
pending points only while she has none, so pending points of hers would make a reload mature
everyone's.
"""

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from customers.models import Customer
from inventory.models import Location
from loyalty import services as loyalty
from loyalty.models import StoredValueCard
from omni.core.channels import Channel
from omni.demo.customers import ANONYMOUS_VISITOR
from orders import services
from orders.models import Cart, Order
from orders.services import Address, ReturnedItem

PARIS = Address("Léa Robert", "12 rue Oberkampf", "Paris", "75011", "FR", 48.8650, 2.3780)
LYON = Address("Hugo Thomas", "4 quai Saint-Antoine", "Lyon", "69002", "FR", 45.7640, 4.8320)


def load_orders() -> None:
    people = {c.email.split(".")[0]: c for c in Customer.objects.filter(erased_at=None)}
    if not {"camille", "louis", "chloe", "hugo", "lea"} <= people.keys():
        return  # the customers demo was not loaded
    clerk, _ = User.objects.get_or_create(username="clerk", defaults={"is_staff": True})
    stories: list[tuple[str, Callable[[], Order]]] = [
        # First, while no other order waits on a shelf: expiring uses a clock moved forward.
        ("demo-hugo-expired", lambda: _expired_pickup(people["hugo"], clerk)),
        ("demo-chloe-jacket", lambda: _collected_then_returned(people["chloe"], clerk)),
        ("demo-louis-ready", lambda: _ready_on_the_shelf(people["louis"], clerk)),
        ("demo-camille-to-pick", lambda: _placed_with_points(people["camille"])),
        ("demo-camille-cancelled", lambda: _cancelled_by_customer(people["camille"])),
        ("demo-lea-cancelled", lambda: _cancelled_by_store(people["lea"], clerk)),
        ("demo-lea-delivered", lambda: _delivered(people["lea"], clerk)),
        ("demo-hugo-shipped", lambda: _shipped(people["hugo"], clerk)),
        ("demo-chloe-to-ship", lambda: _to_ship(people["chloe"])),
        ("demo-louis-till", lambda: _till_sale(people["louis"], clerk)),
    ]
    for key, story in stories:
        if not Order.objects.filter(checkout_key__endswith=f":{key}").exists():
            with transaction.atomic():
                story()
    _guest_cart()
    _live_cart_with_pickup_hold(people["camille"])
    _wish_list_and_wallet(people["camille"], clerk)


def _cart(
    customer, lines, *, channel: str, device_id: str = "", store: str | None = None, clerk=None
):
    cart = services.cart_of(customer=customer)
    if store:
        services.choose_pickup_store(cart=cart, store_code=store)
    for sku_code, quantity in lines:
        services.set_line(
            cart=cart,
            sku_code=sku_code,
            quantity=quantity,
            channel=channel,
            device_id=device_id,
            clerk=clerk,
        )
    return cart


def _pickup(cart: Cart, key: str, *, channel: str, store: str, redeem_points: int = 0) -> Order:
    return services.checkout(
        cart=cart,
        fulfilment=Order.Fulfilment.PICKUP,
        channel=channel,
        idempotency_key=key,
        pickup_store_code=store,
        redeem_points=redeem_points,
        payment_token="demo-card-token",
    ).order


def _delivery(cart: Cart, key: str, *, channel: str, address: Address) -> Order:
    return services.checkout(
        cart=cart,
        fulfilment=Order.Fulfilment.DELIVERY,
        channel=channel,
        idempotency_key=key,
        address=address,
        payment_token="demo-card-token",
    ).order


def _expired_pickup(hugo, clerk) -> Order:
    """Ordered in the Android app, picked, reminded the day before, never collected."""
    cart = _cart(hugo, [("MERINO-CREW-L", 1)], channel=Channel.ANDROID, device_id="pixel-8-hugo")
    order = _pickup(cart, "demo-hugo-expired", channel=Channel.ANDROID, store="PAR-BAS")
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    deadline = order.pickup_expires_at
    if deadline is None:  # set by mark_ready_for_pickup
        raise ValueError(f"{order.number} has no pick-up deadline.")
    services.send_pickup_reminders(now=deadline - timedelta(hours=12))
    services.expire_uncollected_pickups(now=deadline + timedelta(minutes=1))
    return order


def _collected_then_returned(chloe, clerk) -> Order:
    """The jacket story: added on the phone, the beanie on the laptop, one cart; collected at
    Paris Rivoli; the jacket brought back to Paris Bastille and put back on its shelf."""
    cart = _cart(chloe, [("RAIN-JACKET-S", 1)], channel=Channel.IOS, device_id="iphone-chloe")
    _cart(chloe, [("WOOL-BEANIE-ONE-SIZE", 1)], channel=Channel.WEB, device_id="laptop-chloe")
    services.choose_pickup_store(cart=cart, store_code="PAR-RIV")
    order = _pickup(cart, "demo-chloe-jacket", channel=Channel.WEB, store="PAR-RIV")
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    services.collect_pickup(order=order, code=order.pickup_code, actor=clerk)
    jacket = order.lines.get(sku__code="RAIN-JACKET-S")
    services.return_items(
        order=order,
        items=[ReturnedItem(jacket.pk, 1, restock=True)],
        location=Location.objects.get(code="PAR-BAS"),
        actor=clerk,
        idempotency_key="demo-return-chloe-jacket",
    )
    return order


def _ready_on_the_shelf(louis, clerk) -> Order:
    """A web order waiting at Paris Bastille with its pick-up code (see his service note)."""
    cart = _cart(louis, [("TRAIL-SHOE-43", 1)], channel=Channel.WEB, device_id="web-louis")
    order = _pickup(cart, "demo-louis-ready", channel=Channel.WEB, store="PAR-BAS")
    return services.mark_ready_for_pickup(order=order, actor=clerk)


def _placed_with_points(camille) -> Order:
    """Just placed, partly paid with points: on Paris Rivoli's list to pick."""
    cart = _cart(
        camille,
        [("MERINO-CREW-S", 1), ("CANVAS-TOTE-ONE-SIZE", 1)],
        channel=Channel.WEB,
        device_id="web-camille",
    )
    return _pickup(
        cart, "demo-camille-to-pick", channel=Channel.WEB, store="PAR-RIV", redeem_points=200
    )


def _cancelled_by_customer(camille) -> Order:
    cart = _cart(camille, [("DOWN-VEST-M", 1)], channel=Channel.IOS, device_id="iphone-camille")
    order = _pickup(cart, "demo-camille-cancelled", channel=Channel.IOS, store="PAR-RIV")
    return services.cancel_order(order=order, by_customer=camille, note="Changed her mind")


def _cancelled_by_store(lea, clerk) -> Order:
    cart = _cart(lea, [("DOWN-VEST-S", 1)], channel=Channel.WEB, device_id="web-lea")
    order = _pickup(cart, "demo-lea-cancelled", channel=Channel.WEB, store="LYS-PDI")
    order = services.mark_ready_for_pickup(order=order, actor=clerk)
    return services.cancel_order(order=order, actor=clerk, note="Customer phoned: not needed")


def _delivered(lea, clerk) -> Order:
    cart = _cart(
        lea,
        [("TRAIL-SHOE-41", 1), ("WOOL-BEANIE-ONE-SIZE", 2)],
        channel=Channel.WEB,
        device_id="web-lea",
    )
    order = _delivery(cart, "demo-lea-delivered", channel=Channel.WEB, address=PARIS)
    for shipment in order.shipments.all():
        services.ship(
            shipment=shipment,
            tracking=services.Tracking(
                "Colissimo",
                "6A20931874512",
                "https://www.laposte.fr/outils/suivre-vos-envois?code=6A20931874512",
            ),
            actor=clerk,
        )
    return services.mark_delivered(order=order, actor=clerk)


def _shipped(hugo, clerk) -> Order:
    cart = _cart(hugo, [("DOWN-VEST-L", 1)], channel=Channel.ANDROID, device_id="pixel-8-hugo")
    order = _delivery(cart, "demo-hugo-shipped", channel=Channel.ANDROID, address=LYON)
    for shipment in order.shipments.all():
        services.ship(
            shipment=shipment,
            tracking=services.Tracking(
                "Chronopost",
                "XY418203957FR",
                "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=XY418203957FR",
            ),
            actor=clerk,
        )
    return order


def _to_ship(chloe) -> Order:
    """Allocated to a location, waiting to be packed."""
    cart = _cart(chloe, [("MERINO-CREW-M", 1)], channel=Channel.IOS, device_id="iphone-chloe")
    address = Address("Chloé Dubois", "8 rue des Martyrs", "Paris", "75009", "FR", 48.8790, 2.3390)
    return _delivery(cart, "demo-chloe-to-ship", channel=Channel.IOS, address=address)


def _till_sale(louis, clerk) -> Order:
    """Sold in store by the demo clerk: stock leaves Paris Rivoli's shelf at once."""
    cart = _cart(
        louis,
        [("TRAIL-SHOE-43", 1), ("WOOL-BEANIE-ONE-SIZE", 1)],
        channel=Channel.STORE,
        clerk=clerk,
    )
    return services.checkout(
        cart=cart,
        fulfilment=Order.Fulfilment.IN_STORE,
        channel=Channel.STORE,
        idempotency_key="demo-louis-till",
        payment_token="demo-card-present",
        clerk=clerk,
        till_store=Location.objects.get(code="PAR-RIV"),
    ).order


def _guest_cart() -> None:
    """The anonymous visitor of the customers demo put what they looked at in a cart."""
    if Cart.objects.filter(customer=None, lines__device_id=ANONYMOUS_VISITOR).exists():
        return
    cart = services.cart_of()
    for sku_code in ("CANVAS-TOTE-ONE-SIZE", "WOOL-BEANIE-ONE-SIZE"):
        services.set_line(
            cart=cart,
            sku_code=sku_code,
            quantity=1,
            channel=Channel.WEB,
            device_id=ANONYMOUS_VISITOR,
        )


def _live_cart_with_pickup_hold(camille) -> None:
    """Camille's open cart, filled from her phone and her laptop, held at Paris Bastille."""
    cart = services.cart_of(customer=camille)
    if cart.lines.exists():
        return
    _cart(
        camille,
        [("RAIN-JACKET-M", 1)],
        channel=Channel.IOS,
        device_id="iphone-camille",
        store="PAR-BAS",
    )
    _cart(camille, [("WOOL-BEANIE-ONE-SIZE", 2)], channel=Channel.WEB, device_id="web-camille")


def _wish_list_and_wallet(camille, clerk) -> None:
    """Camille saved trail shoes on her phone and a jumper on the website (the clerk sees them
    with this store's stock), and carries a wallet card topped up with 50.00 at the till."""
    owner = services.Owner(customer=camille)
    services.add_to_wish_list(owner=owner, channel=Channel.IOS, product_code="trail-shoe")
    services.add_to_wish_list(owner=owner, channel=Channel.WEB, product_code="merino-crew")
    if StoredValueCard.objects.filter(customer=camille).exists():
        return
    card = loyalty.issue_stored_value_card(customer=camille, kind=StoredValueCard.Kind.WALLET)
    services.top_up_at_till(
        card=card, amount=Decimal("50.00"), clerk=clerk, idempotency_key="demo-camille-wallet"
    )

"""The clerk's customer page (one customer across channels, live cart included) and the in-store
sale (items by code or barcode, points, one sale per form), through Django's test client."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns import services as campaign_services
from campaigns.models import Coupon, Redemption, RefusedCode
from customers import services as customer_services
from inventory.models import Location, StockLevel, StockMovement
from loyalty import services as loyalty
from orders import services
from orders.models import Cart, CartCoupon, Order
from tests.campaigns.campaign_factories import campaign
from tests.campaigns.factories import order as campaign_order
from tests.campaigns.offer_factories import coupon, offer
from tests.inventory.factories import SkuFactory, stock
from tests.loyalty.factories import customer, programme
from tests.omni.test_clerk import clerk_at, collected_order, jacket_in, pickup_order, store

pytestmark = pytest.mark.django_db

JACKET = "RAIN-JACKET-M"


@pytest.fixture
def rivoli(db):
    return store("PAR-RIV", "Paris Rivoli")


@pytest.fixture
def bastille(db):
    return store("PAR-BAS", "Paris Bastille")


@pytest.fixture
def shop(rivoli, bastille):
    programme()
    return jacket_in(rivoli, bastille)


@pytest.fixture
def clerk(rivoli):
    return clerk_at(rivoli)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def camille(shop):
    """A loyalty member with a phone, an app pick-up order and a collected web order."""
    camille = customer(first_name="Camille", last_name="Martin", email="camille@example.com")
    customer_services.update_profile(
        customer=camille, changes={"email": camille.email, "phone": "06 12 34 56 78"}
    )
    loyalty.enrol(customer=camille)
    return camille


# --- Helpers --------------------------------------------------------------------------------


def customer_url(someone) -> str:
    return f"/clerk/customers/{someone.public_id}/"


def sale_data(someone=None, **fields) -> dict:
    return {**({"customer": str(someone.public_id)} if someone else {}), **fields}


def add(client, sku: str, quantity: int = 1, someone=None):
    return client.post("/clerk/sell/lines/", sale_data(someone, sku=sku, quantity=quantity))


def complete_form(client, someone=None, **fields) -> dict:
    """The complete-sale form as the sale page renders it (with its one-time token)."""
    url = "/clerk/sell/" + (f"?customer={someone.public_id}" if someone else "")
    page = client.get(url).content.decode()
    token = re.search(r'name="token" value="([0-9a-f-]+)"', page).group(1)
    return sale_data(someone, token=token, **fields)


def complete(client, someone=None, **fields):
    return client.post("/clerk/sell/complete/", complete_form(client, someone, **fields))


def level(sku_code: str, where: Location) -> StockLevel:
    return StockLevel.objects.get(sku__code=sku_code, location=where)


def card_of(someone) -> str:
    """The number a scanner types from the customer's active loyalty card."""
    return someone.loyalty_account.cards.get(status="active").number


def points_of(someone) -> tuple[int, int]:
    someone.loyalty_account.refresh_from_db()
    return someone.loyalty_account.available, someone.loyalty_account.pending


# --- In-store sale --------------------------------------------------------------------------


def test_a_sale_for_a_known_customer_takes_stock_at_once_completes_and_earns_points(
    clerk_client, clerk, rivoli, bastille, camille
):
    add(clerk_client, JACKET, 2, camille)

    response = complete(clerk_client, camille)

    order = Order.objects.get(fulfilment="in_store")
    assert response["Location"] == f"/clerk/sell/done/{order.number}/"
    assert (order.customer, order.channel, order.store, order.clerk) == (
        camille,
        "store",
        rivoli,
        clerk,
    )
    assert (order.status, order.total) == ("completed", 178)
    assert level(JACKET, rivoli).on_hand == 18
    assert level(JACKET, bastille).on_hand == 20
    sale = StockMovement.objects.get(kind="sale")
    assert (sale.level.location, sale.quantity, sale.actor) == (rivoli, -2, clerk)
    assert points_of(camille) == (0, 178)
    receipt = clerk_client.get(response["Location"]).content.decode()
    assert f'href="/clerk/orders/{order.number}/"' in receipt
    assert "178 points earned" in receipt
    assert f"Sale {order.number} complete: 178.00 EUR." in receipt


def test_the_sale_page_shows_the_lines_the_total_and_the_stock_here(clerk_client, shop, camille):
    add(clerk_client, JACKET, 2, camille)

    response = clerk_client.get("/clerk/sell/", {"customer": camille.public_id})

    cart = response.context["cart"]
    assert [(line.sku.code, line.quantity, line.on_hand_here) for line in cart.line_list] == [
        (JACKET, 2, 20)
    ]
    page = response.content.decode()
    assert "178.00 EUR" in page
    assert "Camille Martin" in page
    assert "Complete the sale" in page


def test_a_walk_in_sale_needs_no_customer_and_the_next_sale_starts_empty(
    clerk_client, clerk, rivoli, shop
):
    add(clerk_client, JACKET)

    response = complete(clerk_client)

    order = Order.objects.get()
    assert response["Location"] == f"/clerk/sell/done/{order.number}/"
    assert (order.customer, order.status, order.store, order.clerk) == (
        None,
        "completed",
        rivoli,
        clerk,
    )
    assert level(JACKET, rivoli).on_hand == 19
    assert b"Walk-in" in clerk_client.get(response["Location"]).content
    assert b"No items yet" in clerk_client.get("/clerk/sell/").content


def test_adding_the_same_item_again_adds_to_its_line(clerk_client, shop):
    add(clerk_client, JACKET)
    add(clerk_client, JACKET.lower(), 2)

    cart = clerk_client.get("/clerk/sell/").context["cart"]

    assert [(line.sku.code, line.quantity) for line in cart.line_list] == [(JACKET, 3)]


def test_a_scanned_barcode_adds_the_right_sku(clerk_client, rivoli, shop):
    beanie = SkuFactory(code="WOOL-BEANIE", barcode="4006381333931", product__name="Beanie")
    SkuFactory(code="WOOL-SCARF", barcode="96385074")
    stock(beanie, rivoli, 5)

    add(clerk_client, " 4006381333931 ")

    cart = Cart.objects.get(status="active")
    line = cart.lines.get()
    assert (line.sku, line.quantity, line.channel) == (beanie, 1, "store")


def test_an_unknown_sku_shows_a_message_and_adds_nothing(clerk_client, shop):
    response = add(clerk_client, "NO-SUCH-THING")

    assert response.status_code == 400
    assert b"Unknown or discontinued SKU" in response.content
    assert b'role="alert"' in response.content
    assert not Cart.objects.filter(lines__isnull=False).exists()


def test_a_line_is_removed_from_the_sale(clerk_client, shop, camille):
    add(clerk_client, JACKET, 1, camille)

    response = clerk_client.post(
        "/clerk/sell/lines/remove/", sale_data(camille, sku=JACKET), follow=True
    )

    assert response.redirect_chain[-1][0] == f"/clerk/sell/?customer={camille.public_id}"
    assert not services.cart_of(customer=camille).lines.exists()
    assert b"No items yet" in response.content


def test_a_double_submitted_sale_makes_one_order(clerk_client, rivoli, camille):
    add(clerk_client, JACKET, 1, camille)
    data = complete_form(clerk_client, camille)

    first = clerk_client.post("/clerk/sell/complete/", data)
    second = clerk_client.post("/clerk/sell/complete/", data)

    order = Order.objects.get()
    assert first["Location"] == second["Location"] == f"/clerk/sell/done/{order.number}/"
    assert level(JACKET, rivoli).on_hand == 19
    assert StockMovement.objects.filter(kind="sale").count() == 1
    assert points_of(camille) == (0, 89)


def test_a_double_submitted_walk_in_sale_makes_one_order(clerk_client, rivoli, shop):
    add(clerk_client, JACKET)
    data = complete_form(clerk_client)

    first = clerk_client.post("/clerk/sell/complete/", data)
    second = clerk_client.post("/clerk/sell/complete/", data)

    assert first["Location"] == second["Location"]
    assert Order.objects.count() == 1
    assert level(JACKET, rivoli).on_hand == 19


def test_not_enough_stock_at_the_store_shows_why_and_takes_nothing(
    clerk_client, rivoli, bastille, camille
):
    scarf = SkuFactory(code="WOOL-SCARF", product__name="Scarf")
    stock(scarf, rivoli, 1)
    stock(scarf, bastille, 10)  # plenty elsewhere: a till sells only what is in its own store
    add(clerk_client, "WOOL-SCARF", 2, camille)

    response = complete(clerk_client, camille)

    assert response.status_code == 409
    assert b"Not enough stock for WOOL-SCARF at PAR-RIV." in response.content
    assert not Order.objects.exists()
    assert (level("WOOL-SCARF", rivoli).on_hand, level("WOOL-SCARF", bastille).on_hand) == (1, 10)
    assert not StockMovement.objects.filter(kind="sale").exists()
    till_cart = Cart.objects.get(guest_token__isnull=False)
    assert till_cart.lines.get().quantity == 2  # still on the till, to change or remove
    assert points_of(camille) == (0, 0)


def test_a_clerk_of_another_store_sells_from_their_own_store(
    client, rivoli, bastille, shop, camille
):
    bastille_clerk = clerk_at(bastille, "bastille-clerk")
    client.force_login(bastille_clerk)
    add(client, JACKET, 1, camille)

    complete(client, camille)

    order = Order.objects.get()
    assert (order.store, order.clerk) == (bastille, bastille_clerk)
    assert (level(JACKET, bastille).on_hand, level(JACKET, rivoli).on_hand) == (19, 20)
    assert StockMovement.objects.get(kind="sale").level.location == bastille


def test_points_are_redeemed_for_a_known_customer(clerk_client, shop, camille):
    loyalty.adjust_points(account=camille.loyalty_account, points=500, reason="goodwill")
    add(clerk_client, JACKET, 1, camille)

    page = clerk_client.get("/clerk/sell/", {"customer": camille.public_id}).content
    complete(clerk_client, camille, redeem_points=300, card=card_of(camille))

    order = Order.objects.get()
    assert b"Points to redeem" in page
    assert (order.points_redeemed, order.total) == (300, 86)
    assert points_of(camille) == (200, 86)


def test_too_many_points_show_why_and_change_nothing(clerk_client, rivoli, shop, camille):
    loyalty.adjust_points(account=camille.loyalty_account, points=150, reason="goodwill")
    add(clerk_client, JACKET, 1, camille)

    response = complete(clerk_client, camille, redeem_points=400, card=card_of(camille))

    assert response.status_code == 409
    assert b"Only 150 points are available." in response.content
    assert not Order.objects.exists()
    assert level(JACKET, rivoli).on_hand == 20
    assert points_of(camille) == (150, 0)


def test_a_walk_in_sale_offers_no_points(clerk_client, shop):
    add(clerk_client, JACKET)

    page = clerk_client.get("/clerk/sell/").content

    assert b"Points to redeem" not in page
    assert b"Walk-in customer" in page


def test_an_unknown_customer_is_not_found(clerk_client, shop):
    assert clerk_client.get("/clerk/sell/?customer=not-a-uuid").status_code == 404
    missing = "/clerk/customers/0b7c1f0e-7f5e-4d4c-9c1e-3f1e1f0e7f5e/"
    assert clerk_client.get(missing).status_code == 404


# --- Customer page --------------------------------------------------------------------------


def test_lines_a_clerk_added_show_the_clerk_on_the_customer_page(clerk_client, shop, camille):
    clerk = User.objects.get(username="clerk")
    services.set_line(
        cart=services.cart_of(customer=camille),
        sku_code=JACKET,
        quantity=1,
        channel="store",
        clerk=clerk,
    )

    response = clerk_client.get(customer_url(camille))

    (line,) = response.context["picture"].cart.line_list
    assert (line.channel, line.added_by.username) == ("store", "clerk")
    page = response.content.decode()
    assert re.search(r"<td>Store</td>\s*<td>—</td>\s*<td>clerk clerk</td>", page)


def test_the_customer_page_shows_a_live_cart_with_lines_from_two_channels(
    clerk_client, rivoli, shop, camille
):
    stock(SkuFactory(code="WOOL-BEANIE", product__name="Beanie"), rivoli, 5)
    cart = services.cart_of(customer=camille)
    services.set_line(
        cart=cart, sku_code=JACKET, quantity=1, channel="ios", device_id="iphone-of-camille"
    )
    services.set_line(cart=cart, sku_code="WOOL-BEANIE", quantity=2, channel="web")

    page = clerk_client.get(customer_url(camille)).content.decode()

    assert re.search(r"<td>iOS app</td>\s*<td>iphone-of-camille</td>\s*<td>customer</td>", page)
    assert re.search(r"<td>Website</td>\s*<td>—</td>\s*<td>customer</td>", page)
    assert "139.00 EUR" in page


def test_the_customer_page_shows_profile_loyalty_and_orders_from_every_channel(
    clerk_client, camille
):
    app_order = pickup_order(camille, "PAR-RIV", channel="ios")
    web_order = collected_order(camille, "PAR-BAS", channel="web")
    card = camille.loyalty_account.cards.get()

    response = clerk_client.get(customer_url(camille))

    page = response.content.decode()
    assert "Camille Martin" in page
    assert "camille@example.com" in page
    assert "+33612345678" in page
    assert "<strong>Member</strong> · 0 points available, 89 pending" in page
    assert card.number in page
    for order in (app_order, web_order):
        assert f'href="/clerk/orders/{order.number}/"' in page
    assert "<td>iOS app</td>" in page
    assert "<td>Website</td>" in page
    assert "The cart is empty." in page
    assert f'href="/clerk/sell/?customer={camille.public_id}"' in page


def test_the_only_customer_found_opens_their_page(clerk_client, camille):
    response = clerk_client.get("/clerk/customers/", {"q": "06 12 34 56 78"})

    assert (response.status_code, response["Location"]) == (302, customer_url(camille))


@pytest.mark.parametrize("size", [1, 4])
def test_the_customer_page_takes_the_same_few_queries_however_much_there_is(
    client, rivoli, shop, camille, django_assert_max_num_queries, size
):
    for n in range(size):
        pickup_order(camille, "PAR-RIV", channel="web")
        offer(name=f"Offer {n}")
        coupon(f"MINE-{n}", customer=camille)
    cart = services.cart_of(customer=camille)
    for n in range(size):
        stock(SkuFactory(code=f"SOCK-{n}"), rivoli, 50)
        services.set_line(
            cart=cart,
            sku_code=f"SOCK-{n}",
            quantity=1,
            channel=["web", "ios", "store"][n % 3],
            clerk=clerk_at(None, f"clerk-{n}") if n % 3 == 2 else None,
        )
        services.add_to_wish_list(
            owner=services.Owner(customer=camille), sku_code=f"SOCK-{n}", channel="web"
        )
        customer_services.receive_message(
            customer=camille, channel="email", body=f"Question {n}", external_id=f"q-{n}"
        )
    client.force_login(clerk_at(rivoli))

    # session, user, assignment, customer, account, its summary (qualifying, next tier,
    # expiring, card), cart, cart again with its lines (2), the lines with their clerks, orders,
    # lines, SKUs, products; the cart's coupons, live automatic offers and tier (pricing);
    # her offers: live automatic offers, her codes' offers (each with their SKUs, categories,
    # stores, tiers), her tier and segments, her codes; products to suggest (affinities, else
    # best-sellers, then the products); campaigns' counter messages; her wish-list items with
    # the stock here, and their images; the latest survey answers; her open conversations
    # with their last messages, and the clerk's permissions (2: may they reply?)
    with django_assert_max_num_queries(45):
        response = client.get(customer_url(camille))

    picture = response.context["picture"]
    assert (len(picture.cart.line_list), len(picture.orders)) == (size, size)
    assert len(picture.wish_list) == size
    assert len(picture.offers) == 2 * size
    assert cart.pk == picture.cart.pk


@pytest.mark.parametrize("lines", [1, 4])
def test_the_sale_page_takes_the_same_few_queries_however_many_lines(
    clerk_client, rivoli, shop, camille, django_assert_max_num_queries, lines
):
    for n in range(lines):
        stock(SkuFactory(code=f"SOCK-{n}"), rivoli, 5)
        add(clerk_client, f"SOCK-{n}", 1, camille)
        offer(name=f"Offer {n}")
        coupon(f"MINE-{n}", customer=camille)
        apply_code(clerk_client, f"MINE-{n}", camille)

    # session, user, assignment, customer, account, cart, cart again with its lines (2),
    # the lines with their clerks and the stock here; the cart's coupons, live automatic
    # offers, their SKUs, categories, stores and tiers, her tier and segments (pricing); her
    # offers (the same again, her codes' offers and her codes)
    with django_assert_max_num_queries(32):
        response = clerk_client.get("/clerk/sell/", {"customer": camille.public_id})

    assert len(response.context["cart"].line_list) == lines
    assert len(response.context["cart"].pricing.applied) == 2 * lines
    assert len(response.context["offers"]) == 2 * lines


# --- Log-in and store scope ---------------------------------------------------------------


@pytest.mark.parametrize("url", ["/clerk/sell/", "customer"])
def test_visitors_who_are_not_logged_in_are_sent_to_the_log_in(client, camille, url):
    url = customer_url(camille) if url == "customer" else url

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/clerk/login/?next=")


def test_a_sale_cannot_be_made_without_logging_in(client, shop, camille):
    cart = services.cart_of(customer=camille)
    services.set_line(cart=cart, sku_code=JACKET, quantity=1, channel="web")

    added = client.post("/clerk/sell/lines/", sale_data(camille, sku=JACKET, quantity=1))
    completed = client.post(
        "/clerk/sell/complete/", sale_data(camille, token="0b7c1f0e-7f5e-4d4c-9c1e-3f1e1f0e7f5e")
    )

    assert (added.status_code, completed.status_code) == (302, 302)
    assert cart.lines.get().quantity == 1
    assert not Order.objects.exists()


def test_staff_without_a_store_cannot_sell_or_see_customers(client, shop, camille):
    client.force_login(clerk_at(None, "new-hire"))

    assert client.get("/clerk/sell/").status_code == 403
    assert client.get(customer_url(camille)).status_code == 403
    assert add(client, JACKET, 1, camille).status_code == 403
    assert not Cart.objects.exists()


def test_a_shopper_account_is_not_staff_and_cannot_sell(client, rivoli, shop):
    shopper = User.objects.create_user("shopper", password="a-counter-password-1")
    client.force_login(shopper)

    assert add(client, JACKET)["Location"].startswith("/clerk/login/")
    assert not Cart.objects.exists()


def test_a_sale_for_a_known_customer_leaves_their_online_cart_as_it_is(
    clerk_client, rivoli, shop, camille
):
    beanie = SkuFactory(code="WOOL-BEANIE", product__name="Beanie")
    stock(beanie, rivoli, 5)
    online = services.cart_of(customer=camille)
    services.set_line(cart=online, sku_code="WOOL-BEANIE", quantity=2, channel="web")
    add(clerk_client, JACKET, 1, camille)

    complete(clerk_client, camille)

    order = Order.objects.get()
    assert (order.customer, order.fulfilment, order.status) == (camille, "in_store", "completed")
    assert [line.sku.code for line in order.lines.all()] == [JACKET]
    online.refresh_from_db()
    assert online.status == Cart.Status.ACTIVE
    assert list(online.lines.values_list("sku__code", "quantity")) == [("WOOL-BEANIE", 2)]


# --- Coupons and offers at the till ---------------------------------------------------------


def apply_code(client, code: str, someone=None):
    return client.post("/clerk/sell/coupons/", sale_data(someone, code=code))


def test_a_code_applied_at_the_till_comes_off_the_sale_and_is_used_by_it(
    clerk_client, rivoli, shop, camille
):
    coupon("TILL10", max_uses=1)
    add(clerk_client, JACKET, 1, camille)

    response = apply_code(clerk_client, " till10 ", camille)  # as typed: any case, spaces
    assert response.status_code == 302
    page = clerk_client.get("/clerk/sell/", {"customer": camille.public_id}).content.decode()
    assert "Coupon TILL10" in page
    assert "80.10 EUR" in page  # 89.00 less 10 %
    complete(clerk_client, camille)

    order = Order.objects.get()
    assert (order.offer_discount, order.total) == (Decimal("8.90"), Decimal("80.10"))
    used = Redemption.objects.get()
    assert (used.reference, used.channel, used.customer) == (order.number, "store", camille)
    assert Coupon.objects.get().times_used == 1


def test_a_customers_own_code_is_listed_at_the_till_and_applied_in_one_click(
    clerk_client, shop, camille
):
    coupon(
        "CAMILLE5",
        customer=camille,
        offer=offer(name="Five off", trigger="code", reward="amount_off_cart", value=5),
    )
    add(clerk_client, JACKET, 1, camille)
    page = clerk_client.get("/clerk/sell/", {"customer": camille.public_id}).content.decode()
    assert 'aria-label="Apply code CAMILLE5"' in page

    apply_code(clerk_client, "CAMILLE5", camille)

    page = clerk_client.get("/clerk/sell/", {"customer": camille.public_id}).content.decode()
    assert "Five off" in page
    assert "84.00 EUR" in page


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("NOPENOPE", "This code does not exist."),
        ("CAMILLE5", "This code belongs to another customer."),
        ("APPONLY", "This code can only be used online."),
    ],
)
def test_a_code_that_cannot_be_used_at_the_till_is_refused_counted_and_changes_nothing(
    clerk_client, clerk, shop, camille, code, message
):
    coupon("CAMILLE5", customer=camille)
    coupon("APPONLY", offer=offer(name="App", trigger="code", redeemable="online"))
    add(clerk_client, JACKET)  # a walk-in

    response = apply_code(clerk_client, code)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not CartCoupon.objects.exists()
    refused = RefusedCode.objects.get()
    assert (refused.tried, refused.channel, refused.client) == (code, "store", "clerk:clerk")


def test_a_code_is_taken_off_the_sale(clerk_client, shop, camille):
    coupon("TILL10")
    add(clerk_client, JACKET, 1, camille)
    apply_code(clerk_client, "TILL10", camille)

    response = clerk_client.post("/clerk/sell/coupons/remove/", sale_data(camille, code="TILL10"))

    assert response.status_code == 302
    assert not CartCoupon.objects.exists()
    complete(clerk_client, camille)
    assert Order.objects.get().total == Decimal("89.00")


def test_the_customer_page_shows_the_offers_and_codes_the_customer_may_use(
    clerk_client, shop, camille
):
    offer(name="Spring for everyone")
    coupon("CAMILLE5", customer=camille)
    coupon("SOMEONEELSE", customer=customer())

    page = clerk_client.get(customer_url(camille)).content.decode()

    assert "Spring for everyone" in page
    assert "CAMILLE5" in page
    assert "SOMEONEELSE" not in page


def test_a_till_that_keeps_guessing_codes_is_stopped_for_the_hour(
    clerk_client, shop, camille, settings, time_machine
):
    settings.COUPON_REFUSALS_PER_HOUR = 3
    coupon("GOOD10")
    add(clerk_client, JACKET)
    for n in range(3):
        assert apply_code(clerk_client, f"GUESS{n}").status_code == 400

    stopped = apply_code(clerk_client, "GOOD10")  # even a good code: the till is stopped

    assert stopped.status_code == 429
    assert "no more codes for now" in stopped.content.decode()
    assert not CartCoupon.objects.exists()
    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=1))
    assert apply_code(clerk_client, "GOOD10").status_code == 302


def test_the_customer_page_suggests_what_goes_with_what_they_bought(clerk_client, shop, camille):
    boots = SkuFactory(code="BOOTS-42", product__name="Hiking boots")
    socks = SkuFactory(code="WOOL-SOCKS", product__name="Wool socks")
    for _ in range(3):
        campaign_order(customer(), at=timezone.now(), skus=(boots, socks))
    campaign_order(camille, at=timezone.now(), skus=(boots,))
    campaign_services.refresh_affinities()

    page = clerk_client.get(customer_url(camille))

    assert [p.name for p in page.context["picture"].recommended] == ["Wool socks"]
    assert "Wool socks" in page.content.decode()


def test_the_customer_page_shows_what_a_running_campaign_asks_the_counter_to_say(
    clerk_client, shop, camille, monkeypatch
):
    monkeypatch.setattr(campaign_services.lifecycle, "_queue_send", lambda pk: None)
    batch = campaign_services.generate_codes(offer=offer(trigger="code"), name="spring", quantity=1)
    spring = campaign([camille], code_batch=batch)
    campaign_services.start_campaign(campaign=spring)
    campaign_services.send_campaign(campaign_id=spring.pk)
    code = Coupon.objects.get(batch=batch).code

    page = clerk_client.get(customer_url(camille))

    [message] = page.context["picture"].counter_messages
    assert message.text == f"Offer Camille the spring code {code}"
    assert f"Offer Camille the spring code {code}" in page.content.decode()

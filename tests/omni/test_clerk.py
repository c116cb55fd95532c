"""The clerk dashboard through Django's test client: log-in and store scope, the pick-up queue,
picking, handing over, returns in any store and the customer look-up."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from customers import services as customer_services
from customers.models import Identity
from inventory.models import Location, StockLevel
from loyalty import services as loyalty
from omni.models import StoreAssignment
from orders import services
from orders.models import Order, Return
from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db

CLERK_PASSWORD = "a-counter-password-1"


# --- Arrange (plain functions: the browser test uses them too) ------------------------------


def store(code: str, name: str) -> Location:
    return LocationFactory(code=code, name=name, ship_from_enabled=False)


def jacket_in(*stores: Location):
    jacket = SkuFactory(code="RAIN-JACKET-M", price="89.00", product__name="Rain jacket")
    for where in stores:
        stock(jacket, where, 20)
    return jacket


def clerk_at(where: Location | None, username: str = "clerk") -> User:
    user = User.objects.create_user(username, password=CLERK_PASSWORD, is_staff=True)
    if where is not None:
        StoreAssignment.objects.create(user=user, store=where)
    return user


def pickup_order(buyer, store_code: str, *, quantity: int = 1, channel: str = "ios") -> Order:
    cart = services.cart_of(customer=buyer)
    services.set_line(cart=cart, sku_code="RAIN-JACKET-M", quantity=quantity, channel=channel)
    return services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel=channel,
        idempotency_key=f"checkout-{cart.public_id}",
        pickup_store_code=store_code,
    ).order


def ready_order(buyer, store_code: str, *, actor=None, **kwargs) -> Order:
    return services.mark_ready_for_pickup(
        order=pickup_order(buyer, store_code, **kwargs), actor=actor
    )


def collected_order(buyer, store_code: str, *, actor=None, **kwargs) -> Order:
    order = ready_order(buyer, store_code, actor=actor, **kwargs)
    return services.collect_pickup(order=order, code=order.pickup_code, actor=actor)


def wrong_code_for(order: Order) -> str:
    return "000000" if order.pickup_code != "000000" else "111111"


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
def camille(db):
    return customer(first_name="Camille", last_name="Martin", email="camille@example.com")


@pytest.fixture
def clerk(rivoli):
    return clerk_at(rivoli)


@pytest.fixture
def clerk_client(client, clerk):
    client.force_login(clerk)
    return client


def order_url(order: Order, action: str = "") -> str:
    return f"/clerk/orders/{order.number}/" + (f"{action}/" if action else "")


def refreshed(order: Order) -> Order:
    order.refresh_from_db()
    return order


def jacket_stock(where: Location) -> StockLevel:
    return StockLevel.objects.get(sku__code="RAIN-JACKET-M", location=where)


def return_form_data(client, order: Order, **quantities_and_conditions) -> dict:
    """The return form as the page renders it (with its one-time token), filled in."""
    page = client.get(order_url(order)).content.decode()
    token = re.search(r'name="token" value="([0-9a-f-]+)"', page).group(1)
    data = {"token": token}
    for line in order.lines.all():
        data[f"quantity_{line.pk}"] = 0
        data[f"condition_{line.pk}"] = "restock"
    data.update(quantities_and_conditions)
    return data


# --- Log-in and store scope ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/clerk/", "/clerk/pickups/", "/clerk/customers/?q=x", "/clerk/orders/OM-1/"]
)
def test_visitors_who_are_not_logged_in_are_sent_to_the_clerk_log_in(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/clerk/login/?next=")


def test_a_user_who_is_not_staff_is_sent_to_the_log_in_and_cannot_log_in(client, rivoli):
    shopper = User.objects.create_user("shopper", password=CLERK_PASSWORD)
    StoreAssignment.objects.create(user=shopper, store=rivoli)
    client.force_login(shopper)

    assert client.get("/clerk/pickups/")["Location"].startswith("/clerk/login/")
    client.logout()
    response = client.post("/clerk/login/", {"username": "shopper", "password": CLERK_PASSWORD})
    assert response.status_code == 200
    assert b"staff account" in response.content


def test_a_clerk_logs_in_and_lands_on_the_stores_pick_up_queue(client, clerk):
    response = client.post(
        "/clerk/login/", {"username": "clerk", "password": CLERK_PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == "/clerk/pickups/"
    assert b"Pick-ups at Paris Rivoli" in response.content


def test_the_log_in_returns_the_clerk_to_the_page_asked_for(client, clerk):
    response = client.post(
        "/clerk/login/?next=/clerk/customers/",
        {"username": "clerk", "password": CLERK_PASSWORD, "next": "/clerk/customers/"},
    )

    assert response["Location"] == "/clerk/customers/"


def test_staff_without_a_store_are_asked_to_see_a_manager(client, db):
    client.force_login(clerk_at(None, "new-hire"))

    response = client.get("/clerk/pickups/")

    assert response.status_code == 403
    assert b"Ask a manager to assign you to a store" in response.content


def test_logging_out_ends_the_session(clerk_client):
    response = clerk_client.post("/clerk/logout/")

    assert response["Location"] == "/clerk/login/"
    assert clerk_client.get("/clerk/pickups/").status_code == 302


def test_managers_assign_clerks_to_stores_in_the_admin(client, clerk):
    client.force_login(User.objects.create_superuser("boss", password=CLERK_PASSWORD))

    listing = client.get("/admin/omni/storeassignment/")

    assert listing.status_code == 200
    assert b"Paris Rivoli" in listing.content
    assert client.get("/admin/omni/storeassignment/add/").status_code == 200


def test_the_home_page_links_to_the_clerk_dashboard(client):
    response = client.get("/")

    assert b'href="/clerk/pickups/"' in response.content
    assert b"Clerk dashboard" in response.content


# --- Pick-up queue ------------------------------------------------------------------------


def test_the_queue_shows_to_pick_ready_and_overdue_for_the_clerks_store_only(
    clerk_client, shop, camille
):
    to_pick = pickup_order(camille, "PAR-RIV")
    on_shelf = ready_order(customer(first_name="Louis"), "PAR-RIV")
    due_soon = ready_order(customer(first_name="Chloe"), "PAR-RIV")
    late = ready_order(customer(first_name="Hugo"), "PAR-RIV")
    Order.objects.filter(pk=due_soon.pk).update(
        pickup_expires_at=timezone.now() + timedelta(hours=12)
    )
    Order.objects.filter(pk=late.pk).update(pickup_expires_at=timezone.now() - timedelta(hours=2))
    elsewhere = pickup_order(customer(first_name="Lea"), "PAR-BAS")
    gone = collected_order(customer(first_name="Emma"), "PAR-RIV")

    response = clerk_client.get("/clerk/pickups/")

    groups = response.context["groups"]
    assert groups.to_pick == [to_pick]
    assert groups.ready == [on_shelf]
    assert groups.overdue == [late, due_soon]
    page = response.content.decode()
    assert "Camille Martin" in page
    assert "1 \u00d7 Rain jacket" in page
    assert elsewhere.number not in page
    assert gone.number not in page


def test_times_are_shown_on_the_stores_clock(clerk_client, shop, camille, time_machine):
    time_machine.move_to(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))  # 13:00 in Paris
    pickup_order(camille, "PAR-RIV")

    response = clerk_client.get("/clerk/pickups/")

    assert b"Placed Thu 15 Jan, 13:00" in response.content


@pytest.mark.parametrize("orders_per_group", [1, 6])
def test_the_queue_takes_the_same_few_queries_however_long_it_is(
    clerk_client, shop, django_assert_max_num_queries, orders_per_group
):
    for _ in range(orders_per_group):
        pickup_order(customer(), "PAR-RIV")
        ready_order(customer(), "PAR-RIV")

    # session, user, assignment, orders with customers, lines, SKUs, products
    with django_assert_max_num_queries(7):
        response = clerk_client.get("/clerk/pickups/")

    assert len(response.context["groups"].to_pick) == orders_per_group


# --- Order page: pick, hand over -----------------------------------------------------------


def test_the_order_page_shows_lines_timeline_and_the_pick_button(clerk_client, shop, camille):
    order = pickup_order(camille, "PAR-RIV", quantity=2)

    response = clerk_client.get(order_url(order))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Rain jacket" in page
    assert "RAIN-JACKET-M" in page
    assert "Mark picked (ready for pick-up)" in page
    assert "Hand over" not in page
    assert "Take a return" not in page
    assert re.search(r"<strong>Placed</strong>\s*<span[^>]*>by customer", page)


def test_marking_picked_makes_the_order_ready_with_the_clerk_on_its_timeline(
    clerk_client, clerk, shop, camille
):
    order = pickup_order(camille, "PAR-RIV")

    response = clerk_client.post(order_url(order, "ready"), follow=True)

    order = refreshed(order)
    assert order.status == "ready_for_pickup"
    assert len(order.pickup_code) == 6
    assert order.events.last().actor == clerk
    assert b"is ready for pick-up" in response.content
    assert b"Hand over" in response.content


def test_marking_picked_twice_shows_why_on_the_page(clerk_client, shop, camille):
    order = ready_order(camille, "PAR-RIV")

    response = clerk_client.post(order_url(order, "ready"))

    assert response.status_code == 409
    assert b"is ready for pick-up: it cannot become ready for pick-up" in response.content
    assert refreshed(order).events.count() == 2


def test_the_right_code_hands_the_order_over(clerk_client, clerk, shop, rivoli, camille):
    order = ready_order(camille, "PAR-RIV")

    response = clerk_client.post(
        order_url(order, "hand-over"), {"code": f" {order.pickup_code} "}, follow=True
    )

    order = refreshed(order)
    assert order.status == "collected"
    assert order.events.last().actor == clerk
    level = jacket_stock(rivoli)
    assert (level.on_hand, level.reserved) == (19, 0)
    assert b"handed over: collected" in response.content


def test_a_wrong_code_shows_a_clear_error_and_changes_nothing(clerk_client, shop, rivoli, camille):
    order = ready_order(camille, "PAR-RIV")

    response = clerk_client.post(order_url(order, "hand-over"), {"code": wrong_code_for(order)})

    assert response.status_code == 400
    assert b"That pick-up code does not match this order." in response.content
    assert b'role="alert"' in response.content
    assert refreshed(order).status == "ready_for_pickup"
    level = jacket_stock(rivoli)
    assert (level.on_hand, level.reserved) == (20, 1)


def test_an_empty_code_is_asked_for_again(clerk_client, shop, camille):
    order = ready_order(camille, "PAR-RIV")

    response = clerk_client.post(order_url(order, "hand-over"), {"code": ""})

    assert response.status_code == 400
    assert b"This field is required." in response.content
    assert refreshed(order).status == "ready_for_pickup"


def test_a_clerk_cannot_pick_or_hand_over_another_stores_order(client, shop, bastille, camille):
    client.force_login(clerk_at(bastille, "bastille-clerk"))
    placed = pickup_order(camille, "PAR-RIV")
    ready = ready_order(customer(), "PAR-RIV")

    page = client.get(order_url(placed)).content
    picked = client.post(order_url(placed, "ready"))
    handed = client.post(order_url(ready, "hand-over"), {"code": ready.pickup_code})

    assert b"Mark picked" not in page
    assert (picked.status_code, handed.status_code) == (403, 403)
    assert b"only its own staff can pick it and hand it over" in handed.content
    assert refreshed(placed).status == "placed"
    assert refreshed(ready).status == "ready_for_pickup"


def test_an_unknown_order_is_not_found(clerk_client):
    assert clerk_client.get("/clerk/orders/OM-NOPE/").status_code == 404


@pytest.mark.parametrize("lines", [1, 3])
def test_the_order_page_takes_the_same_few_queries_however_many_lines(
    clerk_client, rivoli, camille, django_assert_max_num_queries, lines
):
    programme()
    cart = services.cart_of(customer=camille)
    for n in range(lines):
        stock(SkuFactory(code=f"SOCK-{n}"), rivoli, 5)
        services.set_line(cart=cart, sku_code=f"SOCK-{n}", quantity=1, channel="web")
    order = services.checkout(
        cart=cart,
        fulfilment="pickup",
        channel="web",
        idempotency_key="k",
        pickup_store_code="PAR-RIV",
    ).order

    # session, user, assignment, order, lines, SKUs, events, shipments, products, returns (+lines)
    with django_assert_max_num_queries(12):
        response = clerk_client.get(order_url(order))

    assert response.status_code == 200


# --- Returns in any store -----------------------------------------------------------------


def test_a_return_is_taken_at_the_clerks_store_for_an_order_of_another_store(
    client, shop, rivoli, bastille, camille
):
    order = collected_order(camille, "PAR-RIV", quantity=2)
    bastille_clerk = clerk_at(bastille, "bastille-clerk")
    client.force_login(bastille_clerk)
    line = order.lines.get()

    response = client.post(
        order_url(order, "returns"),
        return_form_data(client, order, **{f"quantity_{line.pk}": 1}),
        follow=True,
    )

    ret = Return.objects.get()
    assert (ret.location, ret.actor, ret.refund_amount) == (bastille, bastille_clerk, 89)
    assert jacket_stock(bastille).on_hand == 21
    assert jacket_stock(rivoli).on_hand == 18
    assert b"Return taken at Paris Bastille: refund 89.00 EUR" in response.content
    assert refreshed(order).lines.get().returned_quantity == 1


def test_a_damaged_item_is_refunded_but_not_restocked(clerk_client, shop, rivoli, camille):
    order = collected_order(camille, "PAR-RIV")
    line = order.lines.get()

    clerk_client.post(
        order_url(order, "returns"),
        return_form_data(
            clerk_client, order, **{f"quantity_{line.pk}": 1, f"condition_{line.pk}": "damaged"}
        ),
    )

    assert Return.objects.get().lines.get().restocked is False
    assert jacket_stock(rivoli).on_hand == 19


def test_a_double_submitted_return_form_returns_the_items_once(clerk_client, shop, rivoli, camille):
    order = collected_order(camille, "PAR-RIV", quantity=2)
    line = order.lines.get()
    data = return_form_data(clerk_client, order, **{f"quantity_{line.pk}": 1})

    first = clerk_client.post(order_url(order, "returns"), data)
    second = clerk_client.post(order_url(order, "returns"), data)

    assert (first.status_code, second.status_code) == (302, 302)
    assert Return.objects.count() == 1
    assert refreshed(order).lines.get().returned_quantity == 1
    assert jacket_stock(rivoli).on_hand == 19
    assert order.payments.get().refunded == 89


def test_each_rendering_of_the_return_form_has_a_new_token(clerk_client, shop, camille):
    order = collected_order(camille, "PAR-RIV")

    first = return_form_data(clerk_client, order)["token"]
    second = return_form_data(clerk_client, order)["token"]

    assert first != second


def test_returning_more_than_is_left_shows_why_and_changes_nothing(
    clerk_client, shop, rivoli, camille
):
    order = collected_order(camille, "PAR-RIV")
    line = order.lines.get()

    response = clerk_client.post(
        order_url(order, "returns"),
        return_form_data(clerk_client, order, **{f"quantity_{line.pk}": 3}),
    )

    assert response.status_code == 400
    assert b"1 of RAIN-JACKET-M can still be returned." in response.content
    assert not Return.objects.exists()
    assert jacket_stock(rivoli).on_hand == 19


def test_a_return_with_nothing_chosen_asks_which_items_come_back(clerk_client, shop, camille):
    order = collected_order(camille, "PAR-RIV")

    response = clerk_client.post(order_url(order, "returns"), return_form_data(clerk_client, order))

    assert response.status_code == 400
    assert b"Say which items come back." in response.content
    assert not Return.objects.exists()


def test_an_order_not_yet_collected_offers_no_return_and_refuses_one(clerk_client, shop, camille):
    order = ready_order(camille, "PAR-RIV")
    line = order.lines.get()

    page = clerk_client.get(order_url(order)).content
    response = clerk_client.post(
        order_url(order, "returns"),
        {
            "token": "0b7c1f0e-7f5e-4d4c-9c1e-3f1e1f0e7f5e",
            f"quantity_{line.pk}": 1,
            f"condition_{line.pk}": "restock",
        },
    )

    assert b"Take a return" not in page
    assert response.status_code == 400
    assert b"A ready for pick-up order cannot be returned." in response.content
    assert not Return.objects.exists()


def test_when_everything_came_back_the_page_says_so(clerk_client, shop, camille):
    order = collected_order(camille, "PAR-RIV")
    line = order.lines.get()
    clerk_client.post(
        order_url(order, "returns"),
        return_form_data(clerk_client, order, **{f"quantity_{line.pk}": 1}),
    )

    page = clerk_client.get(order_url(order)).content

    assert b"Everything on this order has come back." in page
    assert b"1 \xc3\x97 <code>RAIN-JACKET-M</code> (restocked)" in page


# --- Customer look-up ---------------------------------------------------------------------


@pytest.fixture
def member(shop, camille):
    """Camille with a phone, a loyalty card and orders from the app and from the website."""
    customer_services.update_profile(
        customer=camille, changes={"email": camille.email, "phone": "06 12 34 56 78"}
    )
    loyalty.enrol(customer=camille)
    pickup_order(camille, "PAR-RIV", channel="ios")
    collected_order(camille, "PAR-BAS", channel="web")
    return camille


def card_number_of(someone) -> str:
    return someone.loyalty_account.cards.get().number


@pytest.mark.parametrize(
    "term",
    [
        "06 12 34 56 78",
        "+33 6 12 34 56 78",
        "0612345678",
        "CAMILLE@EXAMPLE.COM",
        "card",  # replaced by the member's loyalty card number, written with spaces
    ],
)
def test_one_customer_found_by_phone_email_or_card_opens_their_page_with_points_and_orders(
    clerk_client, member, term
):
    if term == "card":
        number = card_number_of(member)
        term = " ".join(number[i : i + 4] for i in range(0, 16, 4))

    response = clerk_client.get("/clerk/customers/", {"q": term}, follow=True)

    assert response.redirect_chain == [(f"/clerk/customers/{member.public_id}/", 302)]
    assert response.context["customer"] == member
    page = response.content.decode()
    assert "Camille Martin" in page
    assert "<strong>Member</strong> · 0 points available, 89 pending" in page
    for order in member.orders.all():
        assert f'href="/clerk/orders/{order.number}/"' in page
    assert "<td>iOS app</td>" in page
    assert "<td>Website</td>" in page


def test_a_customer_who_is_not_a_loyalty_member_is_found_too(clerk_client, shop):
    louis = customer(first_name="Louis", email="louis@example.com")
    customer_services.update_profile(customer=louis, changes={"email": louis.email})

    response = clerk_client.get("/clerk/customers/", {"q": "louis@example.com"}, follow=True)

    assert response.context["customer"] == louis
    assert b"Not a loyalty member." in response.content
    assert b"No orders yet." in response.content


def test_a_search_that_finds_no_one_says_so(clerk_client, member):
    response = clerk_client.get("/clerk/customers/", {"q": "nobody@example.com"})

    assert response.context["customers"] == []
    assert b"No customer or order matches" in response.content


def test_an_order_number_goes_straight_to_the_order(clerk_client, member):
    order = member.orders.first()

    response = clerk_client.get("/clerk/customers/", {"q": order.number.lower()})

    assert response.status_code == 302
    assert response["Location"] == f"/clerk/orders/{order.number}/"


@pytest.fixture
def namesake(member):
    """Louis, whose app's device id is the very digits of Camille's phone: one term, two people."""
    louis = customer(first_name="Louis", last_name="Bernard", email="louis@example.com")
    Identity.objects.create(customer=louis, kind=Identity.Kind.DEVICE, value="0612345678")
    return louis


def test_a_term_that_finds_several_customers_lists_them(clerk_client, member, namesake):
    response = clerk_client.get("/clerk/customers/", {"q": "0612345678"})

    assert response.status_code == 200
    assert response.context["customers"] == [namesake, member]  # by last name
    page = response.content.decode()
    assert f'href="/clerk/customers/{member.public_id}/"' in page
    assert f'href="/clerk/customers/{namesake.public_id}/"' in page


@pytest.mark.parametrize("extra_orders", [0, 4])
def test_the_look_up_takes_the_same_few_queries_however_many_orders(
    clerk_client, member, namesake, django_assert_max_num_queries, extra_orders
):
    for _ in range(extra_orders):
        pickup_order(member, "PAR-RIV", channel="web")

    # session, user, assignment, customers with accounts and tiers, their orders, order number
    with django_assert_max_num_queries(6):
        response = clerk_client.get("/clerk/customers/", {"q": "0612345678"})

    assert len(response.context["customers"][1].all_orders) == 2 + extra_orders


# --- Demo ---------------------------------------------------------------------------------


def test_the_demo_clerk_works_at_paris_rivoli_and_a_reload_keeps_one_assignment():
    from omni.demo import load_demo

    load_demo()
    load_demo()

    assignment = StoreAssignment.objects.get()
    assert (assignment.user.username, assignment.store.code) == ("clerk", "PAR-RIV")

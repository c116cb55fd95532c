"""Points are redeemed at the till only for a customer who is there: the clerk scans (or types)
one of the customer's active loyalty cards. Without it the sale is refused when points were
asked, and goes through without points when none were."""

import pytest
from django.contrib.auth.models import User

from customers import services as customer_services
from loyalty import services as loyalty
from omni.core.errors import InvalidRequest
from orders import services
from orders.models import Order
from tests.loyalty.factories import customer, programme
from tests.omni.test_clerk import clerk_at, jacket_in, store
from tests.omni.test_clerk_sale import JACKET, add, card_of, complete, level, points_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def rivoli(db):
    return store("PAR-RIV", "Paris Rivoli")


@pytest.fixture
def shop(rivoli):
    programme()
    return jacket_in(rivoli)


@pytest.fixture
def clerk_client(client, rivoli):
    client.force_login(clerk_at(rivoli))
    return client


def member(first_name: str, points: int):
    someone = customer(first_name=first_name, last_name="Martin")
    customer_services.update_profile(customer=someone, changes={"email": someone.email})
    account = loyalty.enrol(customer=someone)
    loyalty.adjust_points(account=account, points=points, reason="goodwill")
    return someone


@pytest.fixture
def camille(shop):
    return member("Camille", 500)


def test_points_are_redeemed_when_the_customers_card_is_scanned(clerk_client, camille):
    add(clerk_client, JACKET, 1, camille)

    complete(clerk_client, camille, redeem_points=300, card=f" {card_of(camille)} ")

    order = Order.objects.get()
    assert (order.points_redeemed, order.total) == (300, 86)
    assert points_of(camille) == (200, 86)


def test_points_without_the_card_are_refused_and_nothing_changes(clerk_client, rivoli, camille):
    add(clerk_client, JACKET, 1, camille)

    response = complete(clerk_client, camille, redeem_points=300)

    assert response.status_code == 400
    assert b"Scan the customer&#x27;s loyalty card to redeem points." in response.content
    assert not Order.objects.exists()
    assert points_of(camille) == (500, 0)
    assert level(JACKET, rivoli).on_hand == 20


def test_another_customers_card_does_not_redeem_this_customers_points(clerk_client, camille):
    louis = member("Louis", 100)
    add(clerk_client, JACKET, 1, camille)

    response = complete(clerk_client, camille, redeem_points=300, card=card_of(louis))

    assert response.status_code == 400
    assert b"not this customer&#x27;s" in response.content
    assert not Order.objects.exists()
    assert (points_of(camille), points_of(louis)) == ((500, 0), (100, 0))


def test_a_made_up_card_number_does_not_redeem(clerk_client, camille):
    add(clerk_client, JACKET, 1, camille)

    response = complete(clerk_client, camille, redeem_points=300, card="4970000000000000")

    assert response.status_code == 400
    assert not Order.objects.exists()


def test_a_blocked_card_of_the_customer_does_not_redeem(clerk_client, camille):
    old_card = card_of(camille)
    loyalty.replace_card(account=camille.loyalty_account, reason="lost")
    add(clerk_client, JACKET, 1, camille)

    response = complete(clerk_client, camille, redeem_points=300, card=old_card)

    assert response.status_code == 403
    assert b"blocked" in response.content
    assert not Order.objects.exists()
    assert points_of(camille) == (500, 0)


def test_without_points_the_sale_needs_no_card(clerk_client, camille):
    add(clerk_client, JACKET, 1, camille)

    complete(clerk_client, camille)

    order = Order.objects.get()
    assert (order.customer, order.points_redeemed, order.total) == (camille, 0, 89)


def test_the_sale_page_asks_for_the_card_next_to_the_points(clerk_client, camille):
    add(clerk_client, JACKET, 1, camille)

    page = clerk_client.get("/clerk/sell/", {"customer": camille.public_id}).content

    assert b"Scan the customer&#x27;s card to redeem points" in page


def test_checkout_itself_refuses_a_clerks_redemption_without_the_card(
    clerk_client, rivoli, camille
):
    """The rule lives in the checkout service, so any till that names a customer keeps it."""
    cart = services.cart_of()
    services.set_line(cart=cart, sku_code=JACKET, quantity=1, channel="store")

    with pytest.raises(InvalidRequest, match="Scan the customer's loyalty card"):
        services.checkout(
            cart=cart,
            customer=camille,
            fulfilment="in_store",
            channel="store",
            idempotency_key="till-1",
            redeem_points=100,
            clerk=User.objects.get(username="clerk"),
            till_store=rivoli,
        )

    assert points_of(camille) == (500, 0)

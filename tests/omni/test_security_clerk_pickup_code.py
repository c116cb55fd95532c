"""The clerk's hand-over counts wrong pick-up codes: after the limit the page says a manager
must unlock it, and even the right code is refused."""

import pytest

from tests.loyalty.factories import customer, programme
from tests.omni.test_clerk import (
    clerk_at,
    jacket_in,
    order_url,
    ready_order,
    refreshed,
    store,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db


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
    return customer(first_name="Camille", last_name="Martin")


@pytest.fixture
def clerk_client(client, rivoli):
    client.force_login(clerk_at(rivoli))
    return client


def hand_over(client, order, code: str):
    return client.post(order_url(order, "hand-over"), {"code": code})


def test_the_fifth_wrong_code_locks_the_hand_over_and_says_so(clerk_client, shop, camille):
    order = ready_order(camille, "PAR-RIV")
    for _ in range(4):
        assert hand_over(clerk_client, order, wrong_code_for(order)).status_code == 400

    response = hand_over(clerk_client, order, wrong_code_for(order))

    assert response.status_code == 400
    assert b"a manager must unlock it" in response.content
    assert refreshed(order).pickup_code_failures == 5


def test_once_locked_the_right_code_is_refused_and_nothing_is_handed_over(
    clerk_client, shop, camille
):
    order = ready_order(camille, "PAR-RIV")
    for _ in range(5):
        hand_over(clerk_client, order, wrong_code_for(order))

    response = hand_over(clerk_client, order, order.pickup_code)

    assert response.status_code == 403
    assert b"is locked after 5 wrong pick-up codes" in response.content
    assert b'role="alert"' in response.content
    assert refreshed(order).status == "ready_for_pickup"


def test_the_order_page_of_a_locked_hand_over_asks_for_a_manager_instead_of_the_code(
    clerk_client, shop, camille
):
    order = ready_order(camille, "PAR-RIV")
    for _ in range(5):
        hand_over(clerk_client, order, wrong_code_for(order))

    page = clerk_client.get(order_url(order)).content.decode()

    assert "Hand-over locked after 5 wrong codes" in page
    assert 'name="code"' not in page
    assert "locked after 5 wrong codes" in page  # on the timeline too


def test_wrong_codes_tried_at_another_store_are_not_counted(client, shop, camille, bastille):
    order = ready_order(camille, "PAR-RIV")
    client.force_login(clerk_at(bastille, "bastille-clerk"))

    for _ in range(6):
        assert hand_over(client, order, wrong_code_for(order)).status_code == 403

    assert refreshed(order).pickup_code_failures == 0

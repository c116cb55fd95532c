"""The customer's wish list on the clerk's customer page: every item with what THIS store has
available, read in a fixed number of queries, and items saved at the counter."""

import pytest

from orders import services
from orders.models import WishListItem
from orders.selectors import wish_list_items_at
from tests.inventory.factories import SkuFactory, stock
from tests.loyalty.factories import customer
from tests.omni.test_clerk import clerk_at, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def rivoli(db):
    return store("PAR-RIV", "Paris Rivoli")


@pytest.fixture
def bastille(db):
    return store("PAR-BAS", "Paris Bastille")


@pytest.fixture
def camille(db):
    return customer(first_name="Camille", last_name="Martin")


@pytest.fixture
def clerk_client(client, rivoli):
    client.force_login(clerk_at(rivoli))
    return client


def page_of(someone) -> str:
    return f"/clerk/customers/{someone.public_id}/"


def save(someone, channel="ios", **codes):
    return services.add_to_wish_list(
        owner=services.Owner(customer=someone), channel=channel, **codes
    )


def test_the_customer_page_shows_each_saved_item_with_the_stock_here(
    clerk_client, rivoli, bastille, camille
):
    boot = SkuFactory(code="BOOT-38", price="99.00", product__name="Hiking boot")
    boot_42 = SkuFactory(code="BOOT-42", price="109.00", product=boot.product)
    scarf = SkuFactory(code="SCARF", price="25.00", product__name="Scarf")
    stock(boot, rivoli, 2)
    stock(boot_42, rivoli, 3)
    stock(scarf, bastille, 9)  # elsewhere: none here
    save(camille, sku_code="SCARF")
    save(camille, product_code=boot.product.code, channel="web")

    response = clerk_client.get(page_of(camille))

    items = response.context["picture"].wish_list
    assert [(i.product.name, i.available_here) for i in items] == [
        ("Scarf", 0),
        ("Hiking boot", 5),  # a product: every size here
    ]
    html = response.content.decode()
    assert "Wish list" in html
    assert "from 99.00" in html


@pytest.mark.parametrize("size", [1, 5])
def test_the_wish_list_section_reads_in_two_queries_however_many_items(
    clerk_client, rivoli, camille, django_assert_num_queries, size
):
    for n in range(size):
        stock(SkuFactory(code=f"SOCK-{n}"), rivoli, n)
        save(camille, sku_code=f"SOCK-{n}")

    with django_assert_num_queries(2):  # the items with price and stock here; their images
        items = wish_list_items_at(camille, rivoli)

    assert [i.available_here for i in items] == list(range(size))


def test_a_clerk_saves_an_item_at_the_counter_by_barcode(clerk_client, rivoli, camille):
    SkuFactory(code="SCARF", price="25.00", barcode="4006381333931", product__name="Scarf")

    response = clerk_client.post(
        f"{page_of(camille)}wish-list/", {"code": "4006381333931"}, follow=True
    )

    item = WishListItem.objects.get()
    assert (item.sku.code, item.channel, item.added_by.username) == ("SCARF", "store", "clerk")
    assert item.wish_list.customer == camille
    assert "SCARF saved on the wish list." in response.content.decode()


def test_an_unknown_code_at_the_counter_is_refused_on_the_page_and_nothing_is_saved(
    clerk_client, camille
):
    response = clerk_client.post(f"{page_of(camille)}wish-list/", {"code": "NOPE"})

    assert response.status_code == 400
    assert "Unknown or discontinued product &#x27;NOPE&#x27;." in response.content.decode()
    assert not WishListItem.objects.exists()

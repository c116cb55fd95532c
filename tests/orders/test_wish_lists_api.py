"""Wish lists through the storefront API: the same lists on every device, a guest's lists by
their token merged on sign-in, two customers kept apart, bad input refused with nothing
changed, and the share link on and off with nothing personal on the shared read."""

import uuid

import pytest

from orders.models import WishList, WishListItem
from tests.api_clients import app_client
from tests.inventory.factories import SkuFactory
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/wishlists/items"


@pytest.fixture
def boots(shop):
    """A product with two sizes (38.00 and 42.00), besides the shop's jacket and beanie."""
    small = SkuFactory(
        code="BOOT-38", price="99.00", product__code="hiking-boot", product__name="Hiking boot"
    )
    SkuFactory(code="BOOT-42", price="109.00", product=small.product)
    return small.product


def save(client, headers=None, **body):
    return client.post(ITEMS, body, format="json", headers=headers or {})


def test_an_item_saved_on_the_app_is_on_the_list_read_on_the_website(shop, camille, boots):
    on_the_app = app_client("ios", camille)
    on_the_web = app_client("web", camille)

    saved = save(on_the_app, sku="RAIN-JACKET-M")
    also = save(on_the_web, product="hiking-boot")
    lists = on_the_web.get("/api/v1/wishlists").json()

    assert (saved.status_code, also.status_code) == (201, 201)
    assert len(lists) == 1
    assert lists[0]["is_default"]
    assert lists[0]["guest_token"] is None
    items = lists[0]["items"]
    assert [(i["sku"], i["product"], i["channel"]) for i in items] == [
        ("RAIN-JACKET-M", shop.jacket.product.code, "ios"),
        (None, "hiking-boot", "web"),
    ]
    assert (items[0]["price"], items[1]["price"]) == ("89.00", "99.00")  # a product: from


def test_saving_the_same_item_again_changes_nothing(shop, camille):
    client = app_client("web", camille)
    save(client, sku="WOOL-BEANIE")

    again = save(client, sku="WOOL-BEANIE")

    assert again.status_code == 200
    assert len(again.json()["items"]) == 1
    assert WishListItem.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [({"product": "no-such-thing"}, "product"), ({"sku": "NO-SUCH-SKU"}, "sku")],
)
def test_an_unknown_product_or_sku_is_refused_by_name_and_nothing_changes(
    shop, camille, body, field
):
    client = app_client("web", camille)

    response = save(client, **body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in error["details"]
    assert not WishList.objects.exists()  # not even the default list


def test_neither_product_nor_sku_is_refused(shop, camille):
    response = save(app_client("web", camille))

    assert response.status_code == 400
    assert not WishList.objects.exists()


def test_a_customer_never_sees_nor_changes_another_customers_lists(shop, camille):
    other = customer(first_name="Other")
    mine = save(app_client("web", camille), sku="WOOL-BEANIE").json()
    theirs = app_client("web", other)
    list_url = f"/api/v1/wishlists/{mine['id']}"
    item_url = f"{list_url}/items/{mine['items'][0]['id']}"

    seen = theirs.get("/api/v1/wishlists").json()
    renamed = theirs.patch(list_url, {"name": "Mine now"}, format="json")
    shared = theirs.put(f"{list_url}/share", {"shared": True}, format="json")
    added = save(theirs, sku="RAIN-JACKET-M", list=mine["id"])
    removed = theirs.delete(item_url)
    deleted = theirs.delete(list_url)

    assert seen == []
    statuses = [r.status_code for r in (renamed, shared, added, removed, deleted)]
    assert statuses == [404, 404, 404, 404, 404]
    wish_list = WishList.objects.get(customer=camille)
    assert (wish_list.name, wish_list.share_token, wish_list.items.count()) == (
        "My wish list",
        None,
        1,
    )
    assert not WishList.objects.filter(customer=other).exists()


def test_named_lists_are_made_renamed_and_deleted(shop, camille):
    client = app_client("web", camille)

    made = client.post("/api/v1/wishlists", {"name": "  Birthday  "}, format="json")
    list_id = made.json()["id"]
    clash = client.post("/api/v1/wishlists", {"name": "Birthday"}, format="json")
    renamed = client.patch(f"/api/v1/wishlists/{list_id}", {"name": "Xmas"}, format="json")
    saved = save(client, sku="WOOL-BEANIE", list=list_id)
    deleted = client.delete(f"/api/v1/wishlists/{list_id}")

    assert made.status_code == 201
    assert (made.json()["name"], made.json()["is_default"]) == ("Birthday", True)
    assert (clash.status_code, clash.json()["error"]["details"]) == (
        400,
        {"name": "Already the name of another of your lists."},
    )
    assert (renamed.status_code, renamed.json()["name"]) == (200, "Xmas")
    assert saved.json()["items"][0]["sku"] == "WOOL-BEANIE"
    assert deleted.status_code == 204
    assert not WishList.objects.exists()
    assert not WishListItem.objects.exists()


def test_an_item_is_taken_off_a_list(shop, camille):
    client = app_client("web", camille)
    listed = save(client, sku="WOOL-BEANIE").json()

    removed = client.delete(f"/api/v1/wishlists/{listed['id']}/items/{listed['items'][0]['id']}")
    again = client.delete(f"/api/v1/wishlists/{listed['id']}/items/{listed['items'][0]['id']}")

    assert (removed.status_code, removed.json()["items"]) == (200, [])
    assert again.status_code == 404


def test_a_guest_saves_with_a_token_of_their_own_and_brings_it_into_their_account_on_sign_in(
    shop, camille, boots
):
    mine = app_client("web", camille)
    save(mine, sku="WOOL-BEANIE")
    save(mine, product="hiking-boot")
    guest = app_client("ios")
    first = save(guest, sku="WOOL-BEANIE")
    token = first.json()["guest_token"]
    save(guest, {"X-Wishlist-Token": token}, sku="RAIN-JACKET-M")
    guest.post(
        "/api/v1/wishlists",
        {"name": "Holidays"},
        format="json",
        headers={"X-Wishlist-Token": token},
    )
    save(guest, {"X-Wishlist-Token": token}, product="hiking-boot", list=_id_of(guest, token))

    merged = mine.post("/api/v1/wishlists/merge", {"guest_token": token}, format="json")
    retried = mine.post("/api/v1/wishlists/merge", {"guest_token": token}, format="json")

    assert first.status_code == 201
    assert token
    assert merged.status_code == 200
    lists = {wl["name"]: [i["sku"] or i["product"] for i in wl["items"]] for wl in merged.json()}
    # Same name (the default): its items join, the beanie once; another name moves whole.
    assert lists == {
        "My wish list": ["WOOL-BEANIE", "hiking-boot", "RAIN-JACKET-M"],
        "Holidays": ["hiking-boot"],
    }
    assert [wl["is_default"] for wl in merged.json()] == [True, False]
    assert retried.json() == merged.json()
    assert not WishList.objects.filter(customer=None).exists()
    gone = guest.get("/api/v1/wishlists", headers={"X-Wishlist-Token": token})
    assert gone.status_code == 404


def _id_of(guest, token) -> str:
    lists = guest.get("/api/v1/wishlists", headers={"X-Wishlist-Token": token}).json()
    return next(wl["id"] for wl in lists if wl["name"] == "Holidays")


def test_a_guest_without_a_token_has_no_lists_and_a_made_up_token_finds_none(shop):
    guest = app_client("web")

    assert guest.get("/api/v1/wishlists").json() == []
    made_up = save(guest, {"X-Wishlist-Token": "made-up"}, sku="WOOL-BEANIE")
    assert made_up.status_code == 404
    assert not WishList.objects.exists()


def test_a_shared_list_shows_names_prices_and_images_never_whose_it_is(shop, camille):
    client = app_client("web", camille)
    listed = save(client, sku="RAIN-JACKET-M").json()
    share_url = f"/api/v1/wishlists/{listed['id']}/share"

    on = client.put(share_url, {"shared": True}, format="json").json()
    link = f"/api/v1/wishlists/shared/{on['share_token']}"
    read = app_client("android").get(link)

    assert on["shared"]
    assert len(on["share_token"]) >= 40
    assert read.status_code == 200
    body = read.json()
    assert body["name"] == "My wish list"
    assert [(i["sku"], i["price"], i["images"]) for i in body["items"]] == [
        ("RAIN-JACKET-M", "89.00", [])
    ]
    text = read.content.decode()
    for personal in ("camille", str(camille.public_id), "channel", listed["id"]):
        assert personal.lower() not in text.lower()

    off = client.put(share_url, {"shared": False}, format="json").json()
    assert (off["shared"], off["share_token"]) == (False, None)
    assert app_client("android").get(link).status_code == 404
    again = client.put(share_url, {"shared": True}, format="json").json()
    assert again["share_token"] != on["share_token"]
    assert app_client("android").get(link).status_code == 404


def test_a_link_never_made_is_not_found(shop):
    assert app_client("web").get(f"/api/v1/wishlists/shared/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/wishlists"),
        ("post", "/api/v1/wishlists"),
        ("post", ITEMS),
        ("post", "/api/v1/wishlists/merge"),
        ("get", "/api/v1/wishlists/shared/abc"),
    ],
)
def test_wish_list_calls_without_credentials_answer_401(db, method, path):
    from rest_framework.test import APIClient

    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_merging_needs_a_signed_in_customer(shop):
    response = app_client("web").post("/api/v1/wishlists/merge", {"guest_token": "x"})

    assert response.status_code == 403


@pytest.mark.parametrize("size", [1, 5])
def test_reading_my_lists_takes_the_same_few_queries_however_many_items(
    shop, camille, django_assert_max_num_queries, size
):
    client = app_client("web", camille)
    for n in range(size):
        SkuFactory(code=f"SOCK-{n}")
        save(client, sku=f"SOCK-{n}")
        client.post("/api/v1/wishlists", {"name": f"List {n}"}, format="json")
        save(client, sku=f"SOCK-{n}", list=WishList.objects.get(name=f"List {n}").public_id)

    # key, token, token use; lists, items (price now), images
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/wishlists")

    assert sum(len(wl["items"]) for wl in response.json()) == 2 * size


def test_the_cart_merge_after_sign_in_brings_the_guests_wish_lists_too(shop, camille):
    guest = app_client("web")
    cart = guest.post("/api/v1/cart/lines", {"sku": "WOOL-BEANIE", "quantity": 1}, format="json")
    saved = save(guest, sku="RAIN-JACKET-M")

    merged = app_client("web", camille).post(
        "/api/v1/cart/merge",
        {"guest_token": cart.json()["guest_token"], "wishlist_token": saved.json()["guest_token"]},
        format="json",
    )

    assert merged.status_code == 200
    assert [line["sku"] for line in merged.json()["lines"]] == ["WOOL-BEANIE"]
    kept = WishList.objects.get(customer=camille)
    assert [item.sku.code for item in kept.items.all()] == ["RAIN-JACKET-M"]

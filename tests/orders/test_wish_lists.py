"""Wish lists as services: two profiles of one person folding their lists, erasure and the
data export, the clerk saving at the counter."""

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from customers.selectors import customer_export
from customers.services import erase_customer, merge_customers
from orders import services
from orders.models import WishList, WishListItem
from tests.loyalty.factories import customer

pytestmark = pytest.mark.django_db


def save(who, code, **kwargs) -> services.Saved:
    return services.add_to_wish_list(
        owner=services.Owner(customer=who), sku_code=code, channel="web", **kwargs
    )


def test_two_profiles_of_one_person_fold_their_lists_into_one_of_each_name(shop, camille):
    other = customer(first_name="Camille")
    save(camille, "WOOL-BEANIE")
    save(other, "WOOL-BEANIE")
    save(other, "RAIN-JACKET-M")
    trip = services.create_wish_list(owner=services.Owner(customer=other), name="Trip")
    save(other, "RAIN-JACKET-M", list_id=trip.public_id)

    merge_customers(customer=camille, other=other, cause="same e-mail")

    lists = {
        wl.name: sorted(wl.items.values_list("sku__code", flat=True))
        for wl in WishList.objects.filter(customer=camille)
    }
    assert lists == {"My wish list": ["RAIN-JACKET-M", "WOOL-BEANIE"], "Trip": ["RAIN-JACKET-M"]}
    assert WishList.objects.filter(customer=camille, is_default=True).count() == 1
    assert WishList.objects.count() == 2


def test_erasure_deletes_the_customers_wish_lists_and_kills_their_links(shop, camille):
    saved = save(camille, "WOOL-BEANIE")
    services.share_wish_list(wish_list=saved.wish_list, shared=True)

    erase_customer(customer=camille, requested_via="admin")

    assert not WishList.objects.exists()
    assert not WishListItem.objects.exists()


def test_the_data_export_holds_the_wish_lists(shop, camille):
    save(camille, "WOOL-BEANIE")

    export = customer_export(camille, now=timezone.now())

    (exported,) = export["orders"]["wish_lists"]
    assert exported["name"] == "My wish list"
    assert [(i["sku"], i["channel"], i["price_when_added"]) for i in exported["items"]] == [
        ("WOOL-BEANIE", "web", "19.00")
    ]
    assert "orders.WishList" not in str(export.get("held_by_other_apps", {}))


def test_a_clerk_saves_an_item_at_the_counter_with_the_store_channel_and_their_name(shop, camille):
    clerk = User.objects.create_user("clerk", is_staff=True)

    saved = services.add_to_wish_list(
        owner=services.Owner(customer=camille), sku_code="WOOL-BEANIE", channel="store", clerk=clerk
    )

    assert (saved.item.channel, saved.item.added_by, saved.created) == ("store", clerk, True)


def test_a_guests_default_list_joins_the_customers_default_whatever_its_name(shop, camille):
    mine = save(camille, "WOOL-BEANIE").wish_list
    services.rename_wish_list(owner=services.Owner(customer=camille), wish_list=mine, name="Faves")
    guest = services.new_guest_owner()
    services.add_to_wish_list(owner=guest, sku_code="RAIN-JACKET-M", channel="ios")

    services.merge_guest_wish_lists(customer=camille, guest_token=guest.guest_token)

    (kept,) = WishList.objects.filter(customer=camille)
    assert (kept.name, kept.is_default) == ("Faves", True)
    assert sorted(kept.items.values_list("sku__code", flat=True)) == [
        "RAIN-JACKET-M",
        "WOOL-BEANIE",
    ]

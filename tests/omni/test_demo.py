from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from PIL import Image

from campaigns.selectors import offers_for_customer
from customers.models import Customer, Identity
from inventory.ledger_check import drifts_between
from inventory.models import (
    Location,
    LowStockAlert,
    Product,
    Reservation,
    Sku,
    StockLevel,
    StockMovement,
    Transfer,
)
from loyalty.models import Programme
from omni.demo import ACCOUNTS, load_demo

pytestmark = pytest.mark.django_db


def row_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Location, Product, Sku, Customer, Identity, StockMovement, Transfer)
    }


def test_demo_has_stores_a_warehouse_products_with_images_and_customers():
    load_demo()

    assert Location.objects.filter(kind=Location.Kind.STORE).count() >= 3
    assert Location.objects.filter(kind=Location.Kind.WAREHOUSE).exists()
    for product in Product.objects.all():
        with Image.open(product.images.get().image.path) as picture:
            assert picture.size == (600, 600)
    assert Customer.objects.count() >= 5


def test_demo_stock_shows_every_state_an_inventory_manager_meets():
    load_demo()

    assert not drifts_between(0, 10**9)
    assert StockLevel.objects.filter(on_hand=0).exists()
    assert LowStockAlert.objects.filter(resolved_at=None).exists()
    assert set(Transfer.objects.values_list("status", flat=True)) == {
        "requested",
        "in_transit",
        "received",
    }
    assert set(Reservation.objects.values_list("kind", flat=True)) == {"cart_hold", "order"}
    assert StockMovement.objects.filter(kind="cycle_count").exists()


def test_loading_the_demo_again_changes_nothing():
    load_demo()
    first = row_counts()

    load_demo()

    assert row_counts() == first


def test_demo_accounts_log_in_with_the_printed_passwords_and_have_their_roles():
    load_demo()

    # As the log-in pages do: with the request, which the log-in lockout (django-axes) needs.
    request = RequestFactory().post("/admin/login/")
    users = {
        a.username: authenticate(request, username=a.username, password=a.password)
        for a in ACCOUNTS
    }

    assert all(users.values())
    assert users["marketer"].has_perm("campaigns.change_campaign")
    assert not users["marketer"].has_perm("inventory.change_sku")
    assert users["clerk"].has_perm("customers.view_customer")
    assert not users["clerk"].has_perm("campaigns.change_campaign")


def test_the_demo_is_refused_with_debug_off(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")


def test_the_demo_sets_loyalty_up_as_setup_loyalty_does_and_the_command_then_changes_nothing():
    load_demo()
    out = StringIO()

    call_command("setup_loyalty", stdout=out)

    programme = Programme.objects.get()
    assert programme.name == "Omni Rewards"
    assert list(programme.tiers.values_list("name", flat=True)) == ["Member", "Silver", "Gold"]
    assert "already set up" in out.getvalue()


def test_demo_offers_show_on_camilles_page_and_at_the_till():
    load_demo()
    camille = Customer.objects.get(email="camille.martin@example.com")

    mine = offers_for_customer(camille)

    assert {(p.offer.name, p.code) for p in mine} == {
        ("Rain-ready week: 10% off from 100 EUR", None),
        ("Welcome: 5 EUR off", "CAMILLE5"),
    }

"""The token command can set up an integration's user in one step: create it and grant the
Django permissions the integration's calls need (e.g. the fulfilment API's), so an operator
needs no admin clicks (issue 11)."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from inventory.models import IntegrationToken
from tests.inventory.factories import LocationFactory, UserFactory

pytestmark = pytest.mark.django_db


def create_token(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_integration_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_grant_gives_the_user_the_named_permissions(db):
    LocationFactory(code="ORL-DC")
    UserFactory(username="wms")

    raw, said = create_token(
        "--user",
        "wms",
        "--name",
        "WMS Orléans",
        "--location",
        "ORL-DC",
        "--grant",
        "orders.view_shipment",
        "--grant",
        "orders.change_shipment",
    )

    user = User.objects.get(username="wms")
    assert user.has_perm("orders.view_shipment")
    assert user.has_perm("orders.change_shipment")
    assert not user.has_perm("orders.change_parcel")
    assert raw.startswith("it_")
    assert "orders.change_shipment" in said


def test_create_user_makes_a_user_that_cannot_sign_in_with_a_password(db):
    create_token(
        "--user",
        "wms-orleans",
        "--create-user",
        "--name",
        "WMS Orléans",
        "--grant",
        "orders.view_shipment",
    )

    user = User.objects.get(username="wms-orleans")
    assert not user.has_usable_password()
    assert not user.is_staff
    assert user.has_perm("orders.view_shipment")
    assert IntegrationToken.objects.get().user == user


def test_an_unknown_permission_is_refused_and_nothing_is_created(db):
    with pytest.raises(CommandError, match=r"orders\.ship_everything"):
        create_token(
            "--user",
            "wms",
            "--create-user",
            "--name",
            "WMS",
            "--grant",
            "orders.ship_everything",
        )

    assert not User.objects.filter(username="wms").exists()
    assert not IntegrationToken.objects.exists()


def test_without_create_user_an_unknown_user_is_still_refused(db):
    with pytest.raises(CommandError, match="No user"):
        create_token("--user", "nobody", "--name", "WMS")

"""Integration tokens (POS, WMS) are stored hashed, expire, can be revoked and may be limited
to locations (issue 9, integration tokens)."""

import importlib
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.integrations import issue_integration_token, revoke_integration_token
from inventory.models import CycleCount, IntegrationToken, StockMovement, Transfer
from omni.core.credentials import hash_secret
from tests.inventory.factories import LocationFactory, SkuFactory, UserFactory, stock

pytestmark = pytest.mark.django_db

WMS_PERMISSIONS = [
    "inventory.add_stockmovement",
    "inventory.add_cyclecount",
    "inventory.add_transfer",
    "inventory.change_transfer",
    "inventory.view_transfer",
]


@pytest.fixture
def wms_user():
    return UserFactory(username="wms", permissions=WMS_PERMISSIONS)


@pytest.fixture
def lyon():
    return LocationFactory(code="WH-LYON", kind="warehouse")


@pytest.fixture
def paris():
    return LocationFactory(code="PAR-RIV")


def client_with(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def receipt(client, sku, location, key="k1", quantity=4):
    return client.post(
        "/api/v1/stock/movements/",
        {
            "source": "wms-lyon",
            "movements": [
                {
                    "idempotency_key": key,
                    "sku": sku.code,
                    "location": location.code,
                    "kind": "receipt",
                    "quantity": quantity,
                }
            ],
        },
        format="json",
    )


def count(client, location, sku, counted=3):
    return client.post(
        "/api/v1/cycle-counts/",
        {"location": location.code, "lines": [{"sku": sku.code, "counted": counted}]},
        format="json",
    )


def request_transfer(client, source, destination, sku):
    return client.post(
        "/api/v1/transfers/",
        {
            "source": source.code,
            "destination": destination.code,
            "lines": [{"sku": sku.code, "quantity": 2}],
        },
        format="json",
    )


# --- Stored hashed, expiring, revocable ----------------------------------------------------


def test_the_raw_token_is_not_stored_only_its_hash(wms_user):
    token, raw = issue_integration_token(user=wms_user, name="WMS Lyon")

    stored = IntegrationToken.objects.filter(pk=token.pk).values().get()
    assert raw not in {str(value) for value in stored.values()}
    assert stored["key_hash"] == hash_secret(raw)
    assert raw.startswith(stored["prefix"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM inventory_integrationtoken")
        assert not any(raw in str(cell) for row in cursor.fetchall() for cell in row)


def test_a_token_acts_as_its_user_and_records_its_use(wms_user, lyon):
    token, raw = issue_integration_token(user=wms_user, name="WMS Lyon")

    response = receipt(client_with(raw), SkuFactory(), lyon)

    assert response.status_code == 201
    assert StockMovement.objects.get().actor == wms_user
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_expires_after_its_days(wms_user, lyon, time_machine, settings):
    settings.INTEGRATION_TOKEN_DAYS = 90
    _, raw = issue_integration_token(user=wms_user, name="WMS Lyon")
    time_machine.move_to(timezone.now() + timedelta(days=90, minutes=1))

    response = receipt(client_with(raw), SkuFactory(), lyon)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert "expired" in response.json()["error"]["message"]
    assert not StockMovement.objects.exists()


def test_a_revoked_token_is_refused_with_401(wms_user, lyon):
    token, raw = issue_integration_token(user=wms_user, name="WMS Lyon")
    revoke_integration_token(token=token)

    response = receipt(client_with(raw), SkuFactory(), lyon)

    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["message"]
    assert not StockMovement.objects.exists()


def test_an_unknown_token_is_refused_with_401(lyon):
    response = receipt(client_with("0123456789abcdef0123456789abcdef01234567"), SkuFactory(), lyon)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


def test_the_token_of_an_inactive_user_is_refused(wms_user, lyon):
    _, raw = issue_integration_token(user=wms_user, name="WMS Lyon")
    wms_user.is_active = False
    wms_user.save()

    assert receipt(client_with(raw), SkuFactory(), lyon).status_code == 401


def test_the_users_permissions_still_apply(lyon):
    _, raw = issue_integration_token(
        user=UserFactory(permissions=["inventory.view_stockmovement"]), name="Read only"
    )

    response = receipt(client_with(raw), SkuFactory(), lyon)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


@pytest.mark.parametrize("days", [0, -1, 366])
def test_a_token_needs_a_lifetime_of_one_day_to_a_year(wms_user, days):
    from omni.core.errors import InvalidInput

    with pytest.raises(InvalidInput):
        issue_integration_token(user=wms_user, name="WMS Lyon", days=days)
    assert not IntegrationToken.objects.exists()


# --- Limited to locations ------------------------------------------------------------------


def test_a_token_limited_to_a_location_writes_movements_there(wms_user, lyon):
    _, raw = issue_integration_token(user=wms_user, name="WMS Lyon", locations=[lyon])

    response = receipt(client_with(raw), SkuFactory(), lyon)

    assert response.status_code == 201


def test_a_token_limited_to_a_location_cannot_write_movements_elsewhere(wms_user, lyon, paris):
    _, raw = issue_integration_token(user=wms_user, name="WMS Lyon", locations=[lyon])
    client, sku = client_with(raw), SkuFactory()

    response = client.post(
        "/api/v1/stock/movements/",
        {
            "source": "wms-lyon",
            "movements": [
                {
                    "idempotency_key": "a",
                    "sku": sku.code,
                    "location": "WH-LYON",
                    "kind": "receipt",
                    "quantity": 1,
                },
                {
                    "idempotency_key": "b",
                    "sku": sku.code,
                    "location": "PAR-RIV",
                    "kind": "receipt",
                    "quantity": 1,
                },
            ],
        },
        format="json",
    )

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "WH-LYON" in error["message"]
    assert "PAR-RIV" in error["message"]
    assert not StockMovement.objects.exists()


def test_a_token_limited_to_a_location_counts_only_there(wms_user, lyon, paris):
    _, raw = issue_integration_token(user=wms_user, name="WMS Lyon", locations=[lyon])
    client, sku = client_with(raw), SkuFactory()

    refused = count(client, paris, sku)
    accepted = count(client, lyon, sku)

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert accepted.status_code == 201
    assert list(CycleCount.objects.values_list("location", flat=True)) == [lyon.pk]


def test_a_transfer_is_requested_only_by_a_token_of_one_of_its_ends(wms_user, lyon, paris):
    sku, elsewhere = SkuFactory(), LocationFactory()
    stock(sku, lyon, 10)
    _, raw = issue_integration_token(user=wms_user, name="Paris POS", locations=[paris])
    client = client_with(raw)

    refused = request_transfer(client, lyon, elsewhere, sku)
    accepted = request_transfer(client, lyon, paris, sku)

    assert refused.status_code == 403
    assert accepted.status_code == 201
    assert Transfer.objects.count() == 1


def test_only_a_token_of_the_source_ships_and_of_the_destination_receives(wms_user, lyon, paris):
    sku = SkuFactory()
    stock(sku, lyon, 10)
    _, warehouse_raw = issue_integration_token(user=wms_user, name="WMS", locations=[lyon])
    _, store_raw = issue_integration_token(user=wms_user, name="POS", locations=[paris])
    warehouse, store = client_with(warehouse_raw), client_with(store_raw)
    transfer_id = request_transfer(warehouse, lyon, paris, sku).json()["public_id"]
    url = f"/api/v1/transfers/{transfer_id}/"

    assert store.post(f"{url}ship/").status_code == 403
    assert warehouse.post(f"{url}ship/").status_code == 200
    assert warehouse.post(f"{url}receive/", {}, format="json").status_code == 403
    assert store.post(f"{url}receive/", {}, format="json").status_code == 200
    assert Transfer.objects.get().status == Transfer.Status.RECEIVED


def test_a_token_without_locations_acts_everywhere(wms_user, lyon, paris):
    _, raw = issue_integration_token(user=wms_user, name="Head office")
    client, sku = client_with(raw), SkuFactory()

    assert receipt(client, sku, lyon, key="a").status_code == 201
    assert receipt(client, sku, paris, key="b").status_code == 201


# --- Creating and revoking -----------------------------------------------------------------


def test_the_command_prints_the_token_once_and_stores_its_hash(wms_user, lyon):
    out, err = StringIO(), StringIO()

    call_command(
        "create_integration_token",
        "--user=wms",
        "--name=WMS Lyon",
        "--days=30",
        "--location=WH-LYON",
        stdout=out,
        stderr=err,
    )

    raw = out.getvalue().strip()
    token = IntegrationToken.objects.get()
    assert token.key_hash == hash_secret(raw)
    assert list(token.locations.all()) == [lyon]
    assert token.user == wms_user
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert receipt(client_with(raw), SkuFactory(), lyon).status_code == 201


@pytest.mark.parametrize(
    "arguments",
    [["--user=nobody"], ["--user=wms", "--location=NOWHERE"], ["--user=wms", "--days=0"]],
)
def test_the_command_refuses_bad_arguments_and_creates_nothing(wms_user, arguments):
    with pytest.raises(CommandError):
        call_command("create_integration_token", "--name=WMS", *arguments, stdout=StringIO())

    assert not IntegrationToken.objects.exists()


def test_the_admin_shows_a_new_token_once_and_never_its_hash(admin_client, wms_user, lyon):
    assert admin_client.get("/admin/inventory/integrationtoken/add/").status_code == 200
    response = admin_client.post(
        "/admin/inventory/integrationtoken/add/",
        {"name": "WMS Lyon", "user": wms_user.pk, "days": 30, "locations": [lyon.pk]},
        follow=True,
    )

    token = IntegrationToken.objects.get()
    shown = [str(message) for message in response.context["messages"]]
    raw = next(word for message in shown for word in message.split() if word.startswith("it_"))
    assert token.key_hash == hash_secret(raw)
    assert list(token.locations.all()) == [lyon]
    listing = admin_client.get("/admin/inventory/integrationtoken/").content.decode()
    assert token.prefix in listing
    assert token.key_hash not in listing
    assert raw not in listing
    change_page = admin_client.get(f"/admin/inventory/integrationtoken/{token.pk}/change/")
    assert change_page.status_code == 200
    assert token.key_hash not in change_page.content.decode()


def test_the_admin_revokes_selected_tokens(admin_client, wms_user, lyon):
    token, raw = issue_integration_token(user=wms_user, name="WMS Lyon")

    admin_client.post(
        "/admin/inventory/integrationtoken/",
        {"action": "revoke_selected", ACTION_CHECKBOX_NAME: [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert receipt(client_with(raw), SkuFactory(), lyon).status_code == 401


# --- Leaving DRF's plain-text tokens --------------------------------------------------------


def test_drf_authtoken_is_no_longer_installed(settings):
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS


def test_existing_plain_text_drf_tokens_are_hashed_and_then_deleted(wms_user, lyon, settings):
    settings.INTEGRATION_TOKEN_DAYS = 90
    legacy_key = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamptz NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token VALUES (%s, now(), %s)", [legacy_key, wms_user.pk]
        )
    migration = importlib.import_module("inventory.migrations.0004_hash_legacy_drf_tokens")

    with connection.schema_editor() as schema_editor:
        migration.hash_legacy_drf_tokens(apps, schema_editor)

    token = IntegrationToken.objects.get()
    assert (token.user, token.key_hash) == (wms_user, hash_secret(legacy_key))
    assert token.expires_at > timezone.now() + timedelta(days=89)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    assert receipt(client_with(legacy_key), SkuFactory(), lyon).status_code == 201

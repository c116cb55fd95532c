from decimal import Decimal

import pytest

from loyalty import services
from loyalty.models import Card, PointsEntry
from loyalty.services import QuoteLine
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    programme()
    member = customer()
    services.earn_for_order(
        customer=member,
        reference="o1",
        lines=[QuoteLine(Decimal("80"))],
        channel="web",
        idempotency_key="o1",
    )
    return services.enrol(customer=member)


def adjust_url(account) -> str:
    return f"/admin/loyalty/account/{account.pk}/adjust/"


def test_an_adjustment_without_a_reason_is_refused_and_writes_nothing(admin_client, account):
    response = admin_client.post(adjust_url(account), {"points": "25", "reason": ""})

    assert response.status_code == 200
    assert b"This field is required" in response.content
    assert not PointsEntry.objects.filter(kind="adjust").exists()


def test_an_adjustment_with_a_reason_is_written_with_who_made_it(admin_client, admin_user, account):
    response = admin_client.post(
        adjust_url(account), {"points": "25", "reason": "Goodwill: parcel arrived late"}
    )

    assert response.status_code == 302
    entry = PointsEntry.objects.get(kind="adjust")
    assert (entry.available, entry.actor, entry.reason) == (
        25,
        admin_user,
        "Goodwill: parcel arrived late",
    )


def test_taking_more_than_available_shows_the_error_and_writes_nothing(admin_client, account):
    response = admin_client.post(adjust_url(account), {"points": "-10", "reason": "Fraud"})

    assert response.status_code == 200
    assert b"Only 0 points are available" in response.content
    assert not PointsEntry.objects.filter(kind="adjust").exists()


def test_the_points_ledger_cannot_be_edited_in_the_admin(admin_client, account):
    entry = PointsEntry.objects.get()

    assert admin_client.get("/admin/loyalty/pointsentry/add/").status_code == 403
    change = admin_client.post(f"/admin/loyalty/pointsentry/{entry.pk}/change/", {"available": 9})
    assert PointsEntry.objects.get().pending == 80
    assert change.status_code in (302, 403) or b"Change" not in change.content
    assert admin_client.get(f"/admin/loyalty/pointsentry/{entry.pk}/delete/").status_code == 403


def test_blocking_a_lost_card_issues_a_new_one_and_keeps_the_points(admin_client, account):
    card = account.cards.get()

    admin_client.post(
        "/admin/loyalty/card/",
        {"action": "block_and_replace", "_selected_action": [card.pk]},
    )

    assert Card.objects.get(pk=card.pk).status == Card.Status.BLOCKED
    assert account.cards.filter(status=Card.Status.ACTIVE).count() == 1
    account.refresh_from_db()
    assert account.pending == 80


def test_account_pages_load(admin_client, account):
    assert admin_client.get("/admin/loyalty/account/").status_code == 200
    assert admin_client.get(f"/admin/loyalty/account/{account.pk}/change/").status_code == 200
    assert admin_client.get("/admin/loyalty/programme/").status_code == 200

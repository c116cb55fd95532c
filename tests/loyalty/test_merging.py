from decimal import Decimal

import pytest
from django.db import IntegrityError, InternalError, connection, transaction
from django.db.models import Sum

from customers.services import merge_customers
from loyalty import services
from loyalty.models import Account, Card, PointsEntry
from loyalty.services import QuoteLine
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db


def earn(member, amount, key):
    services.earn_for_order(
        customer=member,
        reference=key,
        lines=[QuoteLine(Decimal(amount))],
        channel="web",
        idempotency_key=key,
    )


def test_two_accounts_of_one_person_become_one_with_every_point_and_one_active_card():
    programme()
    older, newer = customer(), customer()
    earn(older, "700", "o1")  # Silver
    earn(newer, "40", "o2")

    merge_customers(customer=newer, other=older, cause="same phone")

    account = Account.objects.get()
    assert account.customer == older
    assert (account.pending, account.tier.name) == (740, "Silver")
    assert account.entries.aggregate(p=Sum("pending"))["p"] == 740
    assert Card.objects.filter(account=account).count() == 2
    assert Card.objects.filter(account=account, status=Card.Status.ACTIVE).count() == 1


def test_an_account_of_the_merged_customer_alone_simply_follows_the_person():
    programme()
    older, newer = customer(), customer()
    earn(newer, "40", "o2")

    merge_customers(customer=older, other=newer, cause="guest signed in")

    assert Account.objects.get().customer == older


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_database_refuses_to_rewrite_or_delete_points_entries(change):
    programme()
    earn(customer(), "40", "o1")
    # Raw SQL: the database itself must refuse, whatever the ORM would have checked first.
    sql = {
        "update": "UPDATE loyalty_pointsentry SET pending = 4000",
        "delete": "DELETE FROM loyalty_pointsentry",
    }[change]

    with (
        pytest.raises((InternalError, IntegrityError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)

    assert PointsEntry.objects.get().pending == 40

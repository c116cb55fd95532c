"""What the loyalty row locks hold, and what they must not, on a real PostgreSQL server."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.utils import timezone

from loyalty import services
from loyalty.models import Account, PointsEntry
from loyalty.services import QuoteLine
from omni.core.errors import DomainError
from tests.concurrency import run_concurrently
from tests.loyalty.factories import customer, programme

pytestmark = pytest.mark.django_db(transaction=True)


def members_with_available_points(points: int, count: int, time_machine) -> list:
    programme(pending_days=0)
    members = [customer() for _ in range(count)]
    for n, member in enumerate(members):
        services.earn_for_order(
            customer=member,
            reference=f"o{n}",
            lines=[QuoteLine(Decimal(points))],
            channel="web",
            idempotency_key=f"o{n}",
        )
    time_machine.move_to(timezone.now() + timedelta(seconds=1))
    services.mature_points()
    return members


def redeem(member, key: str) -> services.Redemption:
    return services.redeem(
        customer=member, points=100, reference=key, source="order", idempotency_key=key
    )


def test_a_redemption_never_waits_for_another_members_redemption(time_machine):
    # Locking an account must lock that row only: locking the programme and tier rows joined
    # in alongside would make every member of the programme wait for this one.
    first, second = members_with_available_points(500, 2, time_machine)
    holding, done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first_redeems_and_holds_its_locks() -> None:
        try:
            with transaction.atomic():
                redeem(first, "basket:first")
                holding.set()
                done.wait(timeout=30)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)
            holding.set()
        finally:
            connection.close()

    thread = threading.Thread(target=first_redeems_and_holds_its_locks)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            with connection.cursor() as cursor:  # waiting longer than this is a failure
                cursor.execute("SET LOCAL lock_timeout = '5s'")
            redemption = redeem(second, "basket:second")
    finally:
        done.set()
        thread.join(timeout=30)

    assert not failures, failures
    assert redemption.points == 100
    assert Account.objects.get(customer=second).available == 400
    assert Account.objects.get(customer=first).available == 400


def test_a_redemption_released_from_several_workers_at_once_is_given_back_once(time_machine):
    (member,) = members_with_available_points(500, 1, time_machine)
    redeem(member, "basket:1")
    attempts = 4

    def release() -> PointsEntry:
        return services.release_redemption(redemption_key="basket:1")

    outcome = run_concurrently([release for _ in range(attempts)], DomainError)

    summary = outcome.summary(attempts)
    assert not outcome.crashed, summary
    assert not outcome.refused, summary
    assert len({entry.pk for entry in outcome.granted}) == 1, summary
    assert PointsEntry.objects.filter(kind="release").count() == 1, summary
    account = Account.objects.get(customer=member)
    assert account.available == 500, summary
    assert sum(account.lots.values_list("remaining", flat=True)) == 500, summary

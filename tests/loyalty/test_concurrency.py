"""Two channels redeeming at once on a real PostgreSQL server."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from loyalty import services
from loyalty.models import Account, PointsEntry
from loyalty.services import QuoteLine
from omni.core.errors import InsufficientPoints
from tests.concurrency import run_concurrently
from tests.loyalty.factories import customer, programme

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrency]

ATTEMPTS = 16


def member_with_available_points(points: int, time_machine):
    programme(pending_days=0)
    member = customer()
    services.earn_for_order(
        customer=member,
        reference="o1",
        lines=[QuoteLine(Decimal(points))],
        channel="web",
        idempotency_key="o1",
    )
    time_machine.move_to(timezone.now() + timedelta(seconds=1))
    services.mature_points()
    return member


def test_redemptions_from_every_channel_at_once_never_take_the_balance_below_zero(time_machine):
    member = member_with_available_points(500, time_machine)
    channels = ["web", "ios", "android", "store"]

    def redemption(n):
        return lambda: services.redeem(
            customer=member,
            points=100,
            reference=f"basket:{n}",
            source="order",
            channel=channels[n % 4],
            idempotency_key=f"redeem:{n}",
        )

    outcome = run_concurrently([redemption(n) for n in range(ATTEMPTS)], InsufficientPoints)

    # Without the account lock the balance's CHECK constraint would still refuse the sixth
    # debit, as a crash: the test asks for the business answer, not for the constraint's.
    summary = outcome.summary(ATTEMPTS)
    assert not outcome.crashed, summary
    assert len(outcome.granted) == 5, summary
    assert len(outcome.refused) == ATTEMPTS - 5, summary
    assert {error.details["available"] for error in outcome.refused} == {0}, summary
    assert {r.points for r in outcome.granted} == {100}, summary
    account = Account.objects.get(customer=member)
    assert account.available == 0, summary
    assert PointsEntry.objects.filter(kind="redeem").count() == 5, summary
    ledger = PointsEntry.objects.filter(account=account).aggregate(total=Sum("available"))
    assert ledger["total"] == account.available, summary


def test_six_retries_of_one_redemption_of_the_whole_balance_all_get_the_first_answer(
    time_machine,
):
    # The whole balance: a retry that missed the first attempt's entry would be refused for
    # insufficient points (or, with points left, write a second entry) instead of replaying.
    member = member_with_available_points(500, time_machine)
    retries = 6

    def retry():
        return services.redeem(
            customer=member,
            points=500,
            reference="basket:1",
            source="order",
            idempotency_key="checkout:abc",
        )

    outcome = run_concurrently([retry for _ in range(retries)], InsufficientPoints)

    summary = outcome.summary(retries)
    assert not outcome.crashed, summary
    assert not outcome.refused, summary
    assert len(outcome.granted) == retries, summary
    assert len({r.entry.pk for r in outcome.granted}) == 1, summary
    assert {(r.points, r.value) for r in outcome.granted} == {(500, Decimal("5.00"))}, summary
    assert Account.objects.get(customer=member).available == 0, summary
    assert PointsEntry.objects.filter(kind="redeem").count() == 1, summary

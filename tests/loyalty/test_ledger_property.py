"""Whatever happens to points, the balance is the sum of the ledger and never below zero."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import services
from loyalty.models import Account
from loyalty.services import QuoteLine
from omni.core.errors import DomainError
from tests.loyalty.factories import customer, programme

step = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, 400)),
    st.tuples(st.just("redeem"), st.integers(-10, 400)),
    st.tuples(st.just("reverse"), st.integers(0, 400)),
    st.tuples(st.just("adjust"), st.integers(-200, 200)),
    st.tuples(st.just("release"), st.integers(0, 5)),
    st.tuples(st.just("wait_days"), st.integers(1, 400)),
)


def apply(step_, member, n, clock) -> None:
    name, value = step_
    if name == "earn":
        services.earn_for_order(
            customer=member,
            reference=f"order:{n}",
            lines=[QuoteLine(Decimal(value))],
            channel="web",
            idempotency_key=f"earn:{n}",
        )
    elif name == "redeem":
        services.redeem(
            customer=member,
            points=value,
            reference="r",
            source="order",
            idempotency_key=f"redeem:{n}",
        )
    elif name == "reverse":
        services.reverse_for_return(
            customer=member,
            reference=f"order:{max(n - 1, 0)}",
            returned_amount=Decimal(value),
            idempotency_key=f"return:{n}",
        )
    elif name == "adjust":
        services.adjust_points(
            account=services.enrol(customer=member), points=value, reason="property test"
        )
    elif name == "release":
        services.release_redemption(redemption_key=f"redeem:{max(n - value, 0)}")
    elif name == "wait_days":
        clock.shift(timedelta(days=value))
        services.mature_points()
        services.expire_points()
        services.evaluate_all_tiers()


def remaining_in_lots(account: Account, *, pending: bool) -> int:
    lots = account.lots.filter(is_pending=pending)
    return lots.aggregate(total=Sum("remaining"))["total"] or 0


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(step, max_size=30))
def test_balance_is_the_sum_of_the_ledger_and_never_below_zero(steps):
    with (
        time_machine.travel(datetime(2026, 1, 1, tzinfo=UTC), tick=False) as clock,
        transaction.atomic(),
    ):
        programme(minimum_redemption=50)
        member = customer()
        account = services.enrol(customer=member)
        for n, step_ in enumerate(steps):
            try:
                with transaction.atomic():
                    apply(step_, member, n, clock)
            except DomainError:
                pass  # refused: the checks below prove it changed nothing

        account = Account.objects.get(pk=account.pk)
        entries = account.entries.aggregate(a=Sum("available"), p=Sum("pending"))
        assert (account.available, account.pending) == (entries["a"] or 0, entries["p"] or 0)
        assert account.available >= 0
        assert account.pending >= 0
        assert remaining_in_lots(account, pending=True) == account.pending
        assert remaining_in_lots(account, pending=False) == account.available
        transaction.set_rollback(True)

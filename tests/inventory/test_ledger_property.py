"""Whatever happens to stock, on hand equals its ledger and reserved its active reservations."""

import pytest
from django.db import transaction
from django.db.models import Q, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory import services
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import StockLine
from omni.core.errors import DomainError
from tests.inventory.factories import LocationFactory, SkuFactory

Kind = StockMovement.Kind

OPERATIONS = [
    "receive",
    "damage",
    "adjust",
    "reserve",
    "release",
    "consume",
    "sell",
    "count",
    "transfer",
]

operation = st.tuples(
    st.sampled_from(OPERATIONS),
    st.integers(0, 1),  # which SKU
    st.integers(0, 1),  # which location
    st.integers(-3, 9),  # quantity (refusals included on purpose)
    st.integers(0, 3),  # which order reference
)


def apply(op, skus, places) -> None:
    name, s, p, quantity, ref = op
    sku, place, other = skus[s], places[p], places[1 - p]
    reference = f"order:{ref}"
    if name == "receive":
        services.record_movement(sku=sku, location=place, kind=Kind.RECEIPT, quantity=quantity)
    elif name == "damage":
        services.record_movement(sku=sku, location=place, kind=Kind.DAMAGE, quantity=-quantity)
    elif name == "adjust":
        services.record_movement(sku=sku, location=place, kind=Kind.ADJUSTMENT, quantity=quantity)
    elif name == "reserve":
        services.reserve(
            lines=[StockLine(sku.pk, place.pk, quantity)], kind="order", reference=reference
        )
    elif name == "release":
        services.release_reservations(reference=reference)
    elif name == "consume":
        services.consume_reservations(reference=reference)
    elif name == "sell":
        services.sell_in_store(location=place, lines={sku: quantity}, reference="till")
    elif name == "count":
        services.record_cycle_count(location=place, counts={sku: quantity})
    elif name == "transfer":
        transfer = services.request_transfer(source=place, destination=other, lines={sku: quantity})
        services.ship_transfer(transfer=transfer)
        services.receive_transfer(transfer=transfer)


@pytest.mark.django_db
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=st.lists(operation, max_size=25))
def test_on_hand_equals_the_ledger_and_reserved_the_active_reservations(operations):
    with transaction.atomic():
        skus = [SkuFactory(), SkuFactory()]
        places = [LocationFactory(), LocationFactory()]
        for op in operations:
            try:
                with transaction.atomic():
                    apply(op, skus, places)
            except DomainError:
                pass  # a refusal must change nothing, which the checks below also cover

        levels = StockLevel.objects.annotate(
            ledger=Sum("movements__quantity", distinct=False),
        )
        for level in levels:
            assert level.on_hand == (level.ledger or 0), level
            active = level.reservations.filter(status="active").aggregate(t=Sum("quantity"))
            assert level.reserved == (active["t"] or 0), level
            assert level.on_hand >= 0
            assert level.reserved >= 0
        assert not StockLevel.objects.filter(Q(on_hand__lt=0) | Q(reserved__lt=0)).exists()
        assert not Reservation.objects.filter(quantity__lte=0).exists()
        transaction.set_rollback(True)  # each example starts from an empty database

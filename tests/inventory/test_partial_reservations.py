"""Closing part of what a reference reserves: a parcel that ships, a line that moves."""

import pytest

from inventory import services
from inventory.ledger_check import drifts_between
from inventory.models import Reservation, StockLevel, StockMovement
from inventory.services import StockLine
from omni.core.errors import InvalidRequest
from tests.inventory.factories import LocationFactory, SkuFactory, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    location = LocationFactory(code="ORL-DC")
    jacket, beanie = SkuFactory(code="JACKET"), SkuFactory(code="BEANIE")
    stock(jacket, location, 10)
    stock(beanie, location, 10)
    services.reserve(
        lines=[StockLine(jacket.pk, location.pk, 3), StockLine(beanie.pk, location.pk, 2)],
        kind=Reservation.Kind.ORDER,
        reference="order:1:ship:1",
    )
    return location, jacket, beanie


def level(sku, location) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=location)


def test_consuming_part_takes_exactly_those_units_and_keeps_the_rest_reserved(shelf):
    location, jacket, beanie = shelf

    services.consume_reserved(
        reference="order:1:ship:1", lines=[StockLine(jacket.pk, location.pk, 2)], reason="Parcel 1"
    )

    assert (level(jacket, location).on_hand, level(jacket, location).reserved) == (8, 1)
    assert (level(beanie, location).on_hand, level(beanie, location).reserved) == (10, 2)
    reservations = Reservation.objects.filter(level__sku=jacket).order_by("pk")
    assert [(r.quantity, r.status) for r in reservations] == [(1, "active"), (2, "consumed")]
    assert list(StockMovement.objects.filter(kind="sale").values_list("quantity", flat=True)) == [
        -2
    ]
    assert drifts_between(0, 10**9) == []


def test_consuming_more_than_is_still_reserved_is_refused_and_changes_nothing(shelf):
    location, jacket, beanie = shelf
    services.consume_reserved(
        reference="order:1:ship:1", lines=[StockLine(jacket.pk, location.pk, 3)]
    )

    with pytest.raises(InvalidRequest, match="Only 0 of JACKET are reserved"):
        services.consume_reserved(
            reference="order:1:ship:1",
            lines=[StockLine(beanie.pk, location.pk, 2), StockLine(jacket.pk, location.pk, 1)],
        )

    assert level(jacket, location).on_hand == 7
    assert (level(beanie, location).on_hand, level(beanie, location).reserved) == (10, 2)
    assert StockMovement.objects.filter(kind="sale").count() == 1


def test_releasing_part_puts_back_only_those_units(shelf):
    location, jacket, _ = shelf

    released = services.release_reserved(
        reference="order:1:ship:1", lines=[StockLine(jacket.pk, location.pk, 3)]
    )

    assert released == 3
    assert (level(jacket, location).on_hand, level(jacket, location).reserved) == (10, 0)
    with pytest.raises(InvalidRequest):
        services.release_reserved(
            reference="order:1:ship:1", lines=[StockLine(jacket.pk, location.pk, 1)]
        )
    with pytest.raises(InvalidRequest):
        services.release_reserved(reference="other", lines=[StockLine(jacket.pk, location.pk, 1)])

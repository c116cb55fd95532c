import pytest

from tests.inventory.factories import LocationFactory, SkuFactory, stock
from tests.loyalty.factories import customer, programme


@pytest.fixture
def shop(db):
    """A small chain: two pick-up stores, a warehouse, a loyalty programme and a jacket."""

    class Shop:
        rivoli = LocationFactory(code="PAR-RIV", name="Paris Rivoli", ship_from_enabled=False)
        bastille = LocationFactory(code="PAR-BAS", name="Paris Bastille", ship_from_enabled=False)
        warehouse = LocationFactory(
            code="ORL-DC",
            name="Orléans DC",
            kind="warehouse",
            pickup_enabled=False,
            latitude=47.95,
            longitude=1.87,
        )
        jacket = SkuFactory(code="RAIN-JACKET-M", price="89.00")
        beanie = SkuFactory(code="WOOL-BEANIE", price="19.00")
        programme = programme()

    stock(Shop.jacket, Shop.rivoli, 3)
    stock(Shop.jacket, Shop.warehouse, 20)
    stock(Shop.beanie, Shop.rivoli, 10)
    stock(Shop.beanie, Shop.bastille, 5)
    return Shop


@pytest.fixture
def camille(db):
    return customer(first_name="Camille", email="camille@example.com")

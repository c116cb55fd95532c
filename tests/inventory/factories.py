from decimal import Decimal

import factory

from inventory import services
from inventory.models import Category, Location, Product, Sku, StockLevel, StockMovement


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"STORE-{n}")
    name = factory.Sequence(lambda n: f"Store {n}")
    kind = Location.Kind.STORE
    latitude = Decimal("48.860000")
    longitude = Decimal("2.340000")
    pickup_enabled = True
    ship_from_enabled = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    code = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    code = factory.Sequence(lambda n: f"product-{n}")
    name = factory.Sequence(lambda n: f"Product {n}")


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku

    product = factory.SubFactory(ProductFactory)
    code = factory.Sequence(lambda n: f"SKU-{n:05d}")
    price = Decimal("25.00")


def stock(sku: Sku, location: Location, on_hand: int, *, safety_stock: int = 0) -> StockLevel:
    """A level with ``on_hand`` units received through the ledger, as in real life."""
    if on_hand:
        services.record_movement(
            sku=sku, location=location, kind=StockMovement.Kind.RECEIPT, quantity=on_hand
        )
    level, _ = StockLevel.objects.get_or_create(sku=sku, location=location)
    if safety_stock:
        level.safety_stock = safety_stock
        level.save(update_fields=["safety_stock"])
    level.refresh_from_db()
    return level

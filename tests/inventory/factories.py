from decimal import Decimal

import factory
from django.contrib.auth.models import Permission

from inventory import services
from inventory.models import (
    Category,
    Location,
    LowStockAlert,
    Product,
    Sku,
    StockLevel,
    StockMovement,
)


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


class UserFactory(factory.django.DjangoModelFactory):
    """A staff member or an integration's user; ``permissions`` are "app_label.codename"."""

    class Meta:
        model = "auth.User"
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user-{n}")

    @factory.post_generation
    def permissions(user, create, extracted, **kwargs):
        for name in extracted or ():
            app_label, codename = name.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def stock_grid(skus: list[Sku], locations: list[Location], on_hand: int) -> None:
    """``on_hand`` units of every SKU at every location, received in one ledger batch."""
    services.record_movements(
        [
            services.MovementSpec(sku.pk, location.pk, StockMovement.Kind.RECEIPT, on_hand)
            for sku in skus
            for location in locations
        ]
    )


class LowStockAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LowStockAlert

    level = factory.LazyFunction(
        lambda: StockLevel.objects.create(sku=SkuFactory(), location=LocationFactory())
    )
    available = 1
    reorder_point = 5

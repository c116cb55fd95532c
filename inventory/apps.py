from django.apps import AppConfig


class InventoryConfig(AppConfig):
    """Locations, catalogue, stock levels, the stock ledger and reservations."""

    name = "inventory"
    verbose_name = "Inventory"

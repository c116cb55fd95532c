from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Carts, checkout, orders, pick-up in store and returns."""

    name = "orders"
    verbose_name = "Orders"

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Carts, checkout, orders, pick-up in store and returns."""

    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler
        from orders import privacy

        register_erasure_handler(privacy.erase_order_personal_data)
        register_export_section("orders", privacy.export_orders, models=privacy.EXPORTED_MODELS)

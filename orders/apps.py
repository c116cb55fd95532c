from django.apps import AppConfig


class OrdersConfig(AppConfig):
    """Carts, checkout, orders, pick-up in store and returns."""

    name = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler, register_merge_handler
        from orders import privacy, services

        register_erasure_handler(privacy.erase_order_personal_data)
        # Two profiles with lists of the same name: folded before the merge moves the rows.
        register_merge_handler(services.merge_customer_wish_lists)
        register_export_section("orders", privacy.export_orders, models=privacy.EXPORTED_MODELS)

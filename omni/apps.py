from django.apps import AppConfig


class OmniConfig(AppConfig):
    """The project as an app: shared templates, the health check, demo data and commands."""

    name = "omni"
    verbose_name = "Omni"

    def ready(self) -> None:
        from customers.services import register_erasure_handler, register_merge_handler
        from omni.api.idempotency import forget_customer, forget_merged_customer

        register_erasure_handler(forget_customer)
        register_merge_handler(forget_merged_customer)

from django.apps import AppConfig


class OmniConfig(AppConfig):
    """The project as an app: shared templates, the health check, demo data and commands."""

    name = "omni"
    verbose_name = "Omni"

    def ready(self) -> None:
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler, register_merge_handler
        from omni.core.api import idempotency

        register_erasure_handler(idempotency.forget_customer)
        register_merge_handler(idempotency.forget_merged_customer)
        register_export_section("kept_api_answers", idempotency.export_kept_answers)

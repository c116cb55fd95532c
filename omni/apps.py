from django.apps import AppConfig


class OmniConfig(AppConfig):
    """The project as an app: shared templates, the health check, demo data and commands."""

    name = "omni"
    verbose_name = "Omni"

    def ready(self) -> None:
        from customers.notifications import register_store_time_zones
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler, register_merge_handler
        from omni.core.api import idempotency

        register_erasure_handler(idempotency.forget_customer)
        register_merge_handler(idempotency.forget_merged_customer)
        register_export_section("kept_api_answers", idempotency.export_kept_answers)
        # Quiet hours fall back on the customer's preferred store's time zone.
        register_store_time_zones(store_time_zones)


def store_time_zones(codes: set[str]) -> dict[str, str]:
    """{store code: time zone} for these codes (one query); stores live in ``inventory``."""
    from inventory.models import Location

    return dict(Location.objects.filter(code__in=codes).values_list("code", "time_zone"))

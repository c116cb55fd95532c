from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    """The loyalty programme, tiers, points ledger and cards."""

    name = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler
        from loyalty import (
            merging,  # noqa: F401  (registers the customer-merge handler)
            privacy,
        )

        register_erasure_handler(privacy.erase_loyalty_personal_data)
        register_export_section("loyalty", privacy.export_loyalty, models=privacy.EXPORTED_MODELS)
        register_erasure_handler(privacy.erase_stored_value_personal_data)
        register_export_section(
            "stored_value",
            privacy.export_stored_value,
            models=privacy.STORED_VALUE_EXPORTED_MODELS,
        )

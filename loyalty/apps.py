from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    """The loyalty programme, tiers, points ledger and cards."""

    name = "loyalty"
    verbose_name = "Loyalty"

    def ready(self) -> None:
        from loyalty import merging  # noqa: F401  (registers the customer-merge handler)

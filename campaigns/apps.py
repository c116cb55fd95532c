from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Segments, offers, coupons, campaigns and their messages."""

    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns import privacy
        from customers.selectors import register_export_section

        register_export_section(
            "campaigns", privacy.export_campaigns, models=privacy.EXPORTED_MODELS
        )

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Segments, offers, coupons, campaigns and their messages."""

    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        from campaigns import privacy
        from customers.selectors import register_export_section
        from customers.services import register_erasure_handler, register_merge_handler

        register_erasure_handler(privacy.erase_campaign_personal_data)
        register_merge_handler(privacy.merge_campaign_rows)
        register_export_section(
            "campaigns", privacy.export_campaigns, models=privacy.EXPORTED_MODELS
        )

from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    """Segments, offers, coupons, campaigns and their messages."""

    name = "campaigns"
    verbose_name = "Campaigns"

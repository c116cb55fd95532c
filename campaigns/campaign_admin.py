"""Admin for campaigns (registered by importing this module from ``campaigns.admin``)."""

from django.contrib import admin

from campaigns.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "kind", "segment", "send_at"]

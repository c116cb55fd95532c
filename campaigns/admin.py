from django.contrib import admin

from campaigns.models import Campaign, Segment


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "channel", "segment", "starts_at", "ends_at"]
    list_filter = ["status", "channel"]
    list_select_related = ["segment"]
    search_fields = ["name"]

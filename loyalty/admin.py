from django.contrib import admin

from loyalty.models import Programme, Tier


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "points_per_currency_unit", "pending_days", "expiry_days", "point_value"]
    inlines = [TierInline]

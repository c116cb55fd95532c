import csv

from django.contrib import admin
from django.http import HttpResponse

from campaigns import services
from campaigns.models import (
    Campaign,
    CodeBatch,
    Coupon,
    Offer,
    Redemption,
    RefusedCode,
    Segment,
)


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


# --- Offers and coupons -----------------------------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """History: written by services only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["name", "trigger", "reward", "value", "is_active", "starts_at", "ends_at"]
    list_filter = ["trigger", "reward", "is_active", "redeemable", "exclusive"]
    search_fields = ["name"]
    autocomplete_fields = ["free_sku", "skus", "categories", "stores"]
    filter_horizontal = ["tiers"]
    fieldsets = [
        (None, {"fields": ["name", "trigger", "is_active"]}),
        ("Reward", {"fields": ["reward", "value", "buy_quantity", "get_quantity", "free_sku"]}),
        (
            "Conditions",
            {
                "fields": [
                    "min_spend",
                    "categories",
                    "skus",
                    "channels",
                    "stores",
                    "tiers",
                    "segment",
                    "starts_at",
                    "ends_at",
                    "redeemable",
                ],
                "description": "Segment membership is not checked yet: an offer for a segment "
                "applies to no one until segments land.",
            },
        ),
        ("Stacking", {"fields": ["exclusive", "priority", "max_discount"]}),
    ]


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = ["code", "offer", "kind", "customer", "times_used", "max_uses", "is_active"]
    list_filter = ["kind", "is_active"]
    list_select_related = ["offer", "customer"]
    search_fields = ["code", "offer__name"]
    raw_id_fields = ["customer", "batch"]
    readonly_fields = ["times_used"]


@admin.register(CodeBatch)
class CodeBatchAdmin(admin.ModelAdmin):
    """Adding a batch generates its codes (``services.generate_codes``); exporting them needs
    the "Can export coupon codes as CSV" permission."""

    list_display = ["name", "offer", "quantity", "created_by", "created_at"]
    list_select_related = ["offer", "created_by"]
    fields = ["offer", "name", "quantity", "prefix"]
    actions = ["export_codes"]

    def get_readonly_fields(self, request, obj=None):
        return self.fields if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            return
        batch = services.generate_codes(
            offer=obj.offer,
            name=obj.name,
            quantity=obj.quantity,
            prefix=obj.prefix,
            actor=request.user,
        )
        obj.pk = batch.pk

    @admin.action(description="Export the codes as CSV", permissions=["export"])
    def export_codes(self, request, queryset):
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="coupon-codes.csv"'
        writer = csv.writer(response)
        for n, batch in enumerate(queryset.select_related("offer")):
            rows = services.batch_rows(batch)
            writer.writerows(rows if n == 0 else rows[1:])
        return response

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("campaigns.export_codes")


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = [
        "coupon",
        "reference",
        "customer",
        "channel",
        "discount",
        "status",
        "created_at",
    ]
    list_filter = ["status", "channel"]
    list_select_related = ["coupon", "customer"]
    search_fields = ["coupon__code", "reference"]


@admin.register(RefusedCode)
class RefusedCodeAdmin(ReadOnlyAdmin):
    list_display = ["tried", "reason", "customer", "channel", "client", "created_at"]
    list_filter = ["reason", "channel"]
    list_select_related = ["customer"]
    search_fields = ["tried", "client"]

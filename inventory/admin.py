from django.contrib import admin

from inventory.models import Location, Product, Sku


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "city",
        "pickup_enabled",
        "ship_from_enabled",
        "is_active",
    ]
    list_filter = ["kind", "pickup_enabled", "ship_from_enabled", "is_active"]
    search_fields = ["code", "name", "city", "postcode"]


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ["code", "barcode", "attributes", "price", "currency", "is_active"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["code", "name", "skus__code", "skus__barcode"]
    inlines = [SkuInline]


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "price", "currency", "is_active"]
    list_filter = ["is_active", "currency"]
    list_select_related = ["product"]
    search_fields = ["code", "barcode", "product__name"]
    autocomplete_fields = ["product"]

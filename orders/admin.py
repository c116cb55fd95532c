from django.contrib import admin

from orders.models import Order, OrderLine


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    autocomplete_fields = ["sku"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "channel", "fulfilment", "status", "total", "placed_at"]
    list_filter = ["channel", "fulfilment", "status"]
    list_select_related = ["customer"]
    search_fields = ["number", "customer__email", "customer__phone"]
    autocomplete_fields = ["customer"]
    inlines = [OrderLineInline]

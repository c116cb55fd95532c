"""Orders, carts and returns in the Django admin: followed here, moved on only through
``orders.services`` (the actions), never edited by hand.

Checkout, the returns service and shoppers' devices create these rows; money, status, lines and
the timeline are what those services wrote, so every field is read-only and nothing is added or
deleted here.
"""

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from customers import selectors as customer_selectors
from inventory.models import Location
from omni.core.admin_support import ReadOnlyAdminMixin, ReadOnlyTabularInline, run_for_each
from orders import services
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    Return,
    ReturnLine,
    Shipment,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# --- Shared pieces ---------------------------------------------------------------------------


class StoreFilter(admin.SimpleListFilter):
    """Stores only (a warehouse never takes a pick-up or rings up a sale), in one query."""

    title = "store"
    parameter_name = "store"
    field = "store"

    def lookups(self, request, model_admin):
        stores = Location.objects.filter(kind=Location.Kind.STORE).order_by("name")
        return [(store.code, f"{store.name} ({store.code})") for store in stores]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{f"{self.field}__code": self.value()})


class PickupStoreFilter(StoreFilter):
    title = "pick-up store"
    parameter_name = "pickup_store"
    field = "pickup_store"


class ReturnStoreFilter(StoreFilter):
    title = "store that took it back"
    field = "location"


def _search_link(model: str, term: str, text: str) -> str:
    """A link to an inventory list searched for a reference (reservations, the stock ledger)."""
    url = reverse(f"admin:inventory_{model}_changelist") + "?" + urlencode({"q": term})
    return format_html('<a href="{}">{}</a>', url, text)


# --- Orders ----------------------------------------------------------------------------------


class OrderLineInline(ReadOnlyTabularInline):
    model = OrderLine
    fields = readonly_fields = (
        "sku",
        "quantity",
        "unit_price",
        "line_total",
        "discount",
        "returned_quantity",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")


class OrderEventInline(ReadOnlyTabularInline):
    """The timeline: every change of status, with when and who."""

    model = OrderEvent
    verbose_name = "timeline event"
    verbose_name_plural = "timeline"
    fields = readonly_fields = ("created_at", "move", "by", "note")

    @admin.display(description="Status")
    def move(self, event: OrderEvent) -> str:
        to = Order.Status(event.to_status).label
        return f"{Order.Status(event.from_status).label} → {to}" if event.from_status else to

    @admin.display(description="By")
    def by(self, event: OrderEvent) -> str:
        return event.actor_label


class ShipmentInline(ReadOnlyTabularInline):
    model = Shipment
    fields = readonly_fields = ("location", "status", "contents", "parcels_sent", "created_at")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location")
            .prefetch_related("lines__order_line__sku", "parcels")
        )

    @admin.display(description="Lines")
    def contents(self, shipment: Shipment) -> str:
        return ", ".join(
            f"{line.quantity} x {line.order_line.sku.code} ({line.get_status_display().lower()})"
            for line in shipment.lines.all()
        )

    @admin.display(description="Parcels")
    def parcels_sent(self, shipment: Shipment) -> str:
        return ", ".join(
            f"{parcel.carrier} {parcel.tracking_number} ({parcel.get_status_display().lower()})"
            if parcel.tracking_number
            else parcel.get_status_display()
            for parcel in shipment.parcels.all()
        )


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = readonly_fields = (
        "provider",
        "reference",
        "amount",
        "refunded",
        "status",
        "created_at",
    )


class ReturnInline(ReadOnlyTabularInline):
    model = Return
    fields = readonly_fields = (
        "return_link",
        "created_at",
        "location",
        "refund_amount",
        "points_reversed",
        "actor",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("location", "actor")

    @admin.display(description="Return")
    def return_link(self, ret: Return) -> str:
        url = reverse("admin:orders_return_change", args=[ret.pk])
        return format_html('<a href="{}">{}</a>', url, str(ret.public_id)[:8])


def _order_label(order: Order) -> str:
    return f"Order {order.number}"


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Orders from every channel. Status moves through the actions, which call the services."""

    list_display = [
        "number",
        "placed_at",
        "customer",
        "channel",
        "fulfilment",
        "status",
        "store",
        "total",
        "currency",
    ]
    list_filter = ["channel", "fulfilment", "status", StoreFilter, "placed_at"]
    list_select_related = ["customer", "store"]
    date_hierarchy = "placed_at"
    search_fields = ["=number", "customer__email", "customer__phone"]
    search_help_text = "Order number, or the customer's e-mail or phone (any format) or card."
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "status"),
                    ("channel", "fulfilment"),
                    ("customer", "store", "clerk"),
                    ("placed_at", "updated_at"),
                    "stock",
                ]
            },
        ),
        (
            "Money",
            {
                "fields": [
                    ("subtotal", "points_redeemed", "points_discount", "total", "currency"),
                ]
            },
        ),
        (
            "Pick-up",
            {
                "fields": [
                    ("pickup_code_sent", "pickup_code_tries"),
                    ("pickup_expires_at", "pickup_reminder_sent_at"),
                ]
            },
        ),
        ("Delivery", {"fields": ["ship_to"]}),
    ]
    readonly_fields = [
        "number",
        "status",
        "channel",
        "fulfilment",
        "customer",
        "store",
        "clerk",
        "placed_at",
        "updated_at",
        "stock",
        "subtotal",
        "points_redeemed",
        "points_discount",
        "total",
        "currency",
        "pickup_code_sent",
        "pickup_code_tries",
        "pickup_expires_at",
        "pickup_reminder_sent_at",
        "ship_to",
    ]
    inlines = [OrderLineInline, OrderEventInline, ShipmentInline, PaymentInline, ReturnInline]
    actions = ["mark_ready_for_pickup", "cancel", "unlock_pickup_code"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("customer", "store", "clerk")

    def get_fieldsets(self, request, obj=None):
        # Only the part that applies: pick-up details for pick-ups, the address for deliveries.
        hidden = {
            name
            for name, fulfilment in [
                ("Pick-up", Order.Fulfilment.PICKUP),
                ("Delivery", Order.Fulfilment.DELIVERY),
            ]
            if obj is not None and obj.fulfilment != fulfilment
        }
        return [(name, opts) for name, opts in self.fieldsets if name not in hidden]

    def get_inlines(self, request, obj):
        if obj is not None and obj.fulfilment != Order.Fulfilment.DELIVERY:
            return [inline for inline in self.inlines if inline is not ShipmentInline]
        return self.inlines

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            # "06 12 34 56 78", a loyalty card or an e-mail in capitals find the customer's orders.
            customers = customer_selectors.customers_matching_any_identity(term).values("pk")
            results = results | queryset.filter(customer__in=customers)
        return results, may_have_duplicates

    def has_fulfil_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    @admin.display(description="Pick-up code")
    def pickup_code_sent(self, order: Order) -> str:
        # The code proves at the counter that the customer is the one collecting: not shown.
        return "Sent to the customer" if order.pickup_code else "—"

    @admin.display(description="Wrong codes tried")
    def pickup_code_tries(self, order: Order) -> str:
        if services.pickup_code_attempts_left(order) == 0:
            return f"{order.pickup_code_failures} wrong codes: locked (Unlock pick-up code)"
        return str(order.pickup_code_failures)

    @admin.display(description="Stock")
    def stock(self, order: Order) -> str:
        reference = order.reservation_reference
        return format_html(
            "{} · {}",
            _search_link("reservation", reference, "Reservations"),
            _search_link("stockmovement", reference, "Stock ledger"),
        )

    @admin.action(description="Mark ready for pick-up (picked)", permissions=["fulfil"])
    def mark_ready_for_pickup(self, request, queryset):
        self._move(
            request, queryset, "marked ready", services.mark_ready_for_pickup, actor=request.user
        )

    @admin.action(description="Cancel selected orders", permissions=["fulfil"])
    def cancel(self, request, queryset):
        self._move(request, queryset, "cancelled", services.cancel_order, actor=request.user)

    @admin.action(
        description="Unlock pick-up code (after too many wrong codes)", permissions=["fulfil"]
    )
    def unlock_pickup_code(self, request, queryset):
        self._move(request, queryset, "unlocked", services.unlock_pickup_code, actor=request.user)

    def _move(self, request, queryset, done: str, service, **kwargs):
        run_for_each(
            self,
            request,
            queryset.order_by("pk"),
            service,
            argument="order",
            label=_order_label,
            done=done,
            noun="order",
            **kwargs,
        )


# --- Carts -----------------------------------------------------------------------------------


class _LineCount(TypedDict):
    line_total: int  # the cart list counts each cart's lines (CartAdmin.get_queryset)


class CartLineInline(ReadOnlyTabularInline):
    """Each line remembers where it came from: channel, device and, in store, the clerk."""

    model = CartLine
    fields = readonly_fields = (
        "sku",
        "quantity",
        "unit_price",
        "channel",
        "device_id",
        "added_by",
        "added_at",
        "updated_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku", "added_by")


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Live and past carts; shoppers and clerks change them through the cart services."""

    list_display = [
        "__str__",
        "customer",
        "is_guest",
        "status",
        "pickup_store",
        "line_count",
        "updated_at",
    ]
    list_filter = ["status", PickupStoreFilter, "updated_at"]
    list_select_related = ["customer", "pickup_store"]
    search_fields = ["=public_id", "customer__email", "customer__phone", "lines__device_id"]
    search_help_text = "Customer e-mail or phone, cart id, or a device id of one of its lines."
    show_full_result_count = False
    fields = readonly_fields = (
        "public_id",
        "status",
        "customer",
        "pickup_store",
        "holds",
        "currency",
        "created_at",
        "updated_at",
    )
    inlines = [CartLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description="Guest", boolean=True)
    def is_guest(self, cart: Cart) -> bool:
        return cart.customer_id is None

    @admin.display(description="Lines", ordering="line_total")
    def line_count(self, cart: "WithAnnotations[Cart, _LineCount]") -> int:
        return cart.line_total

    @admin.display(description="Holds on pick-up stock")
    def holds(self, cart: Cart) -> str:
        return _search_link("reservation", cart.hold_reference, "Reservations of this cart")


# --- Returns ---------------------------------------------------------------------------------


class ReturnLineInline(ReadOnlyTabularInline):
    model = ReturnLine
    fields = readonly_fields = ("sku", "quantity", "restocked", "refund_amount")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line__sku")

    @admin.display(description="SKU")
    def sku(self, line: ReturnLine) -> str:
        return line.order_line.sku.code


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Returns are taken through the returns service (refund, restock, points reversed)."""

    list_display = [
        "__str__",
        "created_at",
        "order",
        "location",
        "refund_amount",
        "points_reversed",
        "actor",
    ]
    list_filter = [ReturnStoreFilter, "created_at"]
    list_select_related = ["order", "location", "actor"]
    search_fields = ["=order__number", "order__customer__email", "=public_id"]
    show_full_result_count = False
    fields = readonly_fields = (
        "public_id",
        "order",
        "location",
        "refund_amount",
        "points_reversed",
        "actor",
        "created_at",
        "restocked_stock",
    )
    inlines = [ReturnLineInline]

    @admin.display(description="Stock")
    def restocked_stock(self, ret: Return) -> str:
        return _search_link("stockmovement", f"return:{ret.public_id}", "Restocked in the ledger")

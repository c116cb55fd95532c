"""Orders, carts, returns and delivery fulfilment in the Django admin: followed here, moved on
only through ``orders.services`` (the actions), never edited by hand.

Checkout, the shipping and returns services and shoppers' devices create these rows; money,
status, lines, parcels and the timeline are what those services wrote, so every field is
read-only and nothing is added or deleted here.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from customers import selectors as customer_selectors
from inventory.models import Location
from omni.core.admin_support import ReadOnlyAdminMixin, ReadOnlyTabularInline, run_for_each
from omni.core.errors import DomainError
from orders import selectors, services
from orders.models import (
    CarrierEvent,
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Parcel,
    ParcelLine,
    Payment,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
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


class _FulfilmentFlags(TypedDict):
    is_late: bool  # selectors.with_fulfilment_flags
    has_short: bool


def _lines_summary(shipment: Shipment) -> str:
    """Each line of the shipment with where it stands, one a line."""
    return format_html_join(
        mark_safe("<br>"),
        "{} x {} ({})",
        (
            (line.quantity, line.order_line.sku.code, line.get_status_display().lower())
            for line in shipment.lines.all()
        ),
    )


def _tracking(parcel: Parcel) -> str:
    """The carrier and tracking number, linked to the carrier's page when there is one ("—"
    while the parcel waits to ship)."""
    if not parcel.tracking_number:
        return "—"
    text = f"{parcel.carrier} {parcel.tracking_number}"
    if not parcel.tracking_url:
        return text
    return format_html(
        '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', parcel.tracking_url, text
    )


def _parcels_summary(shipment: Shipment) -> str:
    """Each parcel with its tracking link and where it stands, one a line."""
    return (
        format_html_join(
            mark_safe("<br>"),
            "{} ({})",
            (
                (
                    _tracking(parcel)
                    if parcel.tracking_number
                    else f"Parcel {str(parcel.public_id)[:8]}",
                    parcel.get_status_display().lower(),
                )
                for parcel in shipment.parcels.all()
            ),
        )
        or "—"
    )


def _attention(shipment: "WithAnnotations[Shipment, _FulfilmentFlags]") -> str:
    flags = [
        text
        for flag, text in [
            (shipment.is_late, f"late (open over {settings.FULFILMENT_LATE_HOURS} h)"),
            (shipment.has_short, "a line reported short"),
        ]
        if flag
    ]
    return ", ".join(flags).capitalize() or "—"


def _flag(text: str) -> str:
    return format_html('<strong style="color: var(--error-fg)">{}</strong>', text)


def _admin_link(obj: Any, text: str) -> str:
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, text)


class ShipmentInline(ReadOnlyTabularInline):
    """The order's shipments: where each ships from, its lines and parcels (tracking links) and
    whether it needs attention; the shipment's own page has its actions."""

    model = Shipment
    fields = readonly_fields = (
        "shipment",
        "status",
        "attention",
        "contents",
        "parcels_sent",
        "created_at",
    )

    def get_queryset(self, request):
        shipments = selectors.with_contents(super().get_queryset(request))
        return selectors.with_fulfilment_flags(shipments, now=timezone.now())

    @admin.display(description="Ships from")
    def shipment(self, shipment: Shipment) -> str:
        return _admin_link(shipment, f"{shipment.location.name} ({shipment.location.code})")

    @admin.display(description="Needs attention")
    def attention(self, shipment: "WithAnnotations[Shipment, _FulfilmentFlags]") -> str:
        return _attention(shipment)

    @admin.display(description="Lines")
    def contents(self, shipment: Shipment) -> str:
        return _lines_summary(shipment)

    @admin.display(description="Parcels")
    def parcels_sent(self, shipment: Shipment) -> str:
        return _parcels_summary(shipment)


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
    actions = ["mark_ready_for_pickup", "mark_delivered", "cancel", "unlock_pickup_code"]

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

    @admin.action(
        description="Mark delivered (every parcel that shipped arrived)", permissions=["fulfil"]
    )
    def mark_delivered(self, request, queryset):
        self._move(request, queryset, "delivered", services.mark_delivered, actor=request.user)

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


# --- Delivery fulfilment --------------------------------------------------------------------
#
# A manager follows each location's delivery shipments here (the list, with its filters, and
# the overview per location); "Can change shipment" runs the fulfilment actions (parcels
# delivered, a line reported short), "Can change order" delivers whole orders, as on the order
# list. Every action calls ``orders.services``; the steps at the location (pick, pack, ship)
# belong to the clerk dashboard and the warehouse API.


class ShipmentLocationFilter(admin.SimpleListFilter):
    """Locations that have delivery shipments (stores that ship, warehouses), in one query."""

    title = "location"
    parameter_name = "location"
    field = "location"

    def lookups(self, request, model_admin):
        shipping = Location.objects.filter(
            Exists(Shipment.objects.filter(location=OuterRef("pk")))
        ).order_by("name")
        return [(location.code, f"{location.name} ({location.code})") for location in shipping]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{f"{self.field}__code": self.value()})


class ParcelLocationFilter(ShipmentLocationFilter):
    field = "shipment__location"


class LateFilter(admin.SimpleListFilter):
    """Open for longer than ``FULFILMENT_LATE_HOURS`` (``selectors.with_fulfilment_flags``)."""

    title = "late"
    parameter_name = "late"

    def lookups(self, request, model_admin):
        return [
            ("yes", f"Late (open over {settings.FULFILMENT_LATE_HOURS} h)"),
            ("no", "Not late"),
        ]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(is_late=self.value() == "yes")
        return queryset


class ShortFilter(admin.SimpleListFilter):
    """Shipments a line of which their location reported short (it moved or was cancelled)."""

    title = "a line reported short"
    parameter_name = "short"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("yes", "Ever"), ("no", "Never")]

    def queryset(self, request, queryset):
        if self.value() == "today":
            return queryset.filter(selectors.reported_short_today(timezone.now()))
        if self.value() in ("yes", "no"):
            return queryset.filter(has_short=self.value() == "yes")
        return queryset


class ShippedTodayFilter(admin.SimpleListFilter):
    """Shipments a parcel of which left today (the location's own day)."""

    title = "a parcel shipped"
    parameter_name = "shipped"

    def lookups(self, request, model_admin):
        return [("today", "Today")]

    def queryset(self, request, queryset):
        if self.value() == "today":
            return queryset.filter(selectors.shipped_today(timezone.now()))
        return queryset


class CarrierFilter(admin.SimpleListFilter):
    """Shipments with a parcel that left with this carrier, whatever the case it was typed in."""

    title = "carrier"
    parameter_name = "carrier"

    def lookups(self, request, model_admin):
        return [(carrier.casefold(), carrier) for carrier in selectors.carrier_names()]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        parcels = Parcel.objects.filter(shipment=OuterRef("pk"), carrier__iexact=self.value())
        return queryset.filter(Exists(parcels))


class ParcelCarrierFilter(CarrierFilter):
    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(carrier__iexact=self.value())


class ShipmentLineInline(ReadOnlyTabularInline):
    model = ShipmentLine
    verbose_name = "line"
    fields = readonly_fields = ("sku", "quantity", "status", "short_reported_at", "note")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line__sku__product")

    @admin.display(description="SKU")
    def sku(self, line: ShipmentLine) -> str:
        sku = line.order_line.sku
        return f"{sku.code} ({sku.product.name})"


def _parcel_contents(parcel: Parcel) -> str:
    return ", ".join(
        f"{item.quantity} x {item.shipment_line.order_line.sku.code}" for item in parcel.lines.all()
    )


class ParcelInline(ReadOnlyTabularInline):
    model = Parcel
    fields = readonly_fields = (
        "parcel",
        "status",
        "tracking",
        "contents",
        "packed_at",
        "shipped_at",
        "delivered_at",
        "actor",
    )

    def get_queryset(self, request):
        contents = ParcelLine.objects.select_related("shipment_line__order_line__sku")
        return (
            super()
            .get_queryset(request)
            .select_related("actor")
            .prefetch_related(Prefetch("lines", queryset=contents))
        )

    @admin.display(description="Parcel")
    def parcel(self, parcel: Parcel) -> str:
        return _admin_link(parcel, str(parcel.public_id)[:8])

    @admin.display(description="Carrier and tracking")
    def tracking(self, parcel: Parcel) -> str:
        return _tracking(parcel)

    @admin.display(description="Contents")
    def contents(self, parcel: Parcel) -> str:
        return _parcel_contents(parcel)


def _shipment_label(shipment: Shipment) -> str:
    return f"Order {shipment.order.number} from {shipment.location.code}"


def _parcel_label(parcel: Parcel) -> str:
    name = (
        f"{parcel.carrier} {parcel.tracking_number}"
        if parcel.tracking_number
        else str(parcel.public_id)[:8]
    )
    return f"Parcel {name} (order {parcel.shipment.order.number})"


def _run_saying_each(
    modeladmin: "admin.ModelAdmin[Any]",
    request,
    objects: Iterable[Any],
    service: Callable[..., object],
    *,
    argument: str,
    label: Callable[[Any], str],
    outcome: Callable[[Any], str],
    done: str,
    noun: str,
    **kwargs: Any,
) -> int:
    """``run_for_each``, saying for each row that went through what came of it
    (``outcome(row)``, read once the service has run)."""

    def then_say(**arguments: Any) -> None:
        service(**arguments)
        row = arguments[argument]
        modeladmin.message_user(request, f"{label(row)}: {outcome(row)}", messages.SUCCESS)

    return run_for_each(
        modeladmin,
        request,
        objects,
        then_say,
        argument=argument,
        label=label,
        done=done,
        noun=noun,
        **kwargs,
    )


def _order_status_now(order_id: int) -> str:
    return Order.objects.only("status").get(pk=order_id).get_status_display().lower()


def _deliver_parcels(modeladmin: "admin.ModelAdmin[Any]", request, parcels: list[Parcel]):
    """Each parcel delivered on its own (``services.mark_parcel_delivered``); one already
    delivered is said to be, and not delivered again."""
    waiting = []
    for parcel in parcels:
        if parcel.status == Parcel.Status.DELIVERED:
            modeladmin.message_user(
                request, f"{_parcel_label(parcel)}: already delivered.", messages.INFO
            )
        else:
            waiting.append(parcel)
    _run_saying_each(
        modeladmin,
        request,
        waiting,
        services.mark_parcel_delivered,
        argument="parcel",
        label=_parcel_label,
        outcome=lambda parcel: (
            f"delivered; the order is {_order_status_now(parcel.shipment.order_id)}."
        ),
        done="delivered",
        noun="parcel",
        actor=request.user,
    )


class ReportShortForm(forms.Form):
    lines = forms.TypedMultipleChoiceField(
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        label="Lines the location cannot find",
    )
    note = forms.CharField(
        max_length=255,
        required=False,
        help_text="What the location found (kept on the line), e.g. “damaged”, “shelf empty”.",
    )

    def __init__(self, *args: Any, lines: list[ShipmentLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [  # type: ignore[attr-defined]
            (
                line.pk,
                f"{line.quantity} x {line.order_line.sku.code} — "
                f"{line.order_line.sku.product.name} ({line.get_status_display().lower()})",
            )
            for line in lines
        ]


# The overview's columns: the count, its heading, and the list filter that shows those shipments.
OVERVIEW_COLUMNS = [
    ("to_pick", "To pick", {"status__exact": Shipment.Status.ALLOCATED.value}),
    ("picked", "Picked", {"status__exact": Shipment.Status.PICKED.value}),
    ("packed", "Packed", {"status__exact": Shipment.Status.PACKED.value}),
    ("late", "Late", {"late": "yes"}),
    ("short_today", "Reported short today", {"short": "today"}),
    ("shipped_today", "Shipped today", {"shipped": "today"}),
]


CHART_ROWS = 20  # the busiest locations; the table below the chart lists them all
CHART_LABEL_WIDTH, CHART_BAR_WIDTH, CHART_ROW_HEIGHT = 200, 420, 34
CHART_COLOURS = {"to_pick": "#79aec8", "picked": "#417690", "packed": "#205067", "late": "#ba2121"}


def _workload_chart(
    workloads: list[selectors.LocationWorkload], link: Callable[[str, dict[str, str]], str]
) -> dict[str, Any]:
    """The open shipments of the busiest locations as stacked bars (to pick, picked, packed),
    the late ones in a thin bar beneath on the same scale, each bar linked to its shipments:
    drawn on the server as SVG, no script and nothing fetched from elsewhere."""
    shown = workloads[:CHART_ROWS]
    scale = CHART_BAR_WIDTH / max([w.open for w in shown] + [1])
    headings = {attr: heading for attr, heading, _ in OVERVIEW_COLUMNS}
    filters = {attr: params for attr, _, params in OVERVIEW_COLUMNS}

    def bar(workload: selectors.LocationWorkload, attr: str, x: float, y: int, height: int):
        count = getattr(workload, attr)
        return {
            "x": f"{x:.1f}",
            "y": str(y),  # strings: numbers would be localised in the template
            "width": f"{count * scale:.1f}",
            "height": str(height),
            "colour": CHART_COLOURS[attr],
            "url": link(workload.code, filters[attr]),
            "title": f"{workload.name}: {count} {headings[attr].lower()}",
        }

    rows = []
    for n, workload in enumerate(shown):
        top, x, bars = n * CHART_ROW_HEIGHT + 4, float(CHART_LABEL_WIDTH), []
        for step in ("to_pick", "picked", "packed"):
            if getattr(workload, step):
                bars.append(bar(workload, step, x, top, 16))
                x += getattr(workload, step) * scale
        if workload.late:
            bars.append(bar(workload, "late", CHART_LABEL_WIDTH, top + 19, 6))
        late = f", {workload.late} late" if workload.late else ""
        rows.append(
            {
                "label": workload.name,
                "text_y": str(top + 13),
                "bars": bars,
                "summary_x": f"{x + 6:.1f}",
                "summary": f"{workload.open} open{late}",
            }
        )
    return {
        "width": str(CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 110),
        "height": str(max(len(rows), 1) * CHART_ROW_HEIGHT),
        "label_x": str(CHART_LABEL_WIDTH - 8),
        "rows": rows,
        "legend": [(colour, headings[attr]) for attr, colour in CHART_COLOURS.items()],
        "more": len(workloads) - len(shown),
    }


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every location's delivery shipments, to follow: filters by location, status, late, short
    and carrier; search by order number, tracking number or SKU; an overview per location
    (``overview/``). The actions call the shipping services."""

    list_display = [
        "order_number",
        "location_code",
        "status",
        "late",
        "short",
        "age",
        "contents",
        "parcels_sent",
    ]
    list_filter = [
        ShipmentLocationFilter,
        "status",
        LateFilter,
        ShortFilter,
        ShippedTodayFilter,
        CarrierFilter,
    ]
    search_fields = ["=order__number"]  # and tracking numbers and SKUs: get_search_results
    search_help_text = "Order number, tracking number or SKU."
    show_full_result_count = False
    ordering = ["-created_at", "-pk"]
    fields = readonly_fields = (
        "order_link",
        "location",
        "status",
        "created_at",
        "age",
        "attention",
        "updated_at",
        "stock",
    )
    inlines = [ShipmentLineInline, ParcelInline]
    actions = ["deliver_parcels", "deliver_orders", "report_short"]

    def get_queryset(self, request):
        shipments = selectors.with_contents(super().get_queryset(request)).select_related("order")
        return selectors.with_fulfilment_flags(shipments, now=timezone.now())

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        tracked = Parcel.objects.filter(shipment=OuterRef("pk"), tracking_number__iexact=term)
        holding = ShipmentLine.objects.filter(
            shipment=OuterRef("pk"), order_line__sku__code__iexact=term
        )
        found = Q(order__number__iexact=term) | Exists(tracked) | Exists(holding)
        return queryset.filter(found), False  # subqueries: each shipment once, no DISTINCT

    def has_fulfil_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_shipment")

    def has_deliver_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_order")

    # --- Columns and fields

    @admin.display(description="Order", ordering="order__number")
    def order_number(self, shipment: Shipment) -> str:
        return shipment.order.number

    @admin.display(description="Location", ordering="location__code")
    def location_code(self, shipment: Shipment) -> str:
        return shipment.location.code

    @admin.display(description="Order")
    def order_link(self, shipment: Shipment) -> str:
        order = shipment.order
        return _admin_link(order, f"{order.number} ({order.get_status_display().lower()})")

    @admin.display(description="Age", ordering="created_at")
    def age(self, shipment: Shipment) -> str:
        if shipment.status not in selectors.OPEN_SHIPMENT:
            return "—"  # sent or cancelled: no longer waiting
        return timesince(shipment.created_at, timezone.now(), depth=2)

    @admin.display(description="Lines")
    def contents(self, shipment: Shipment) -> str:
        return _lines_summary(shipment)

    @admin.display(description="Parcels")
    def parcels_sent(self, shipment: Shipment) -> str:
        return _parcels_summary(shipment)

    # Flags, not booleans: a green tick for "late" would read as good news.
    @admin.display(description="Late", ordering="is_late")
    def late(self, shipment: "WithAnnotations[Shipment, _FulfilmentFlags]") -> str:
        return _flag("Late") if shipment.is_late else ""

    @admin.display(description="Short", ordering="has_short")
    def short(self, shipment: "WithAnnotations[Shipment, _FulfilmentFlags]") -> str:
        return _flag("Short") if shipment.has_short else ""

    @admin.display(description="Needs attention")
    def attention(self, shipment: "WithAnnotations[Shipment, _FulfilmentFlags]") -> str:
        return _attention(shipment)

    @admin.display(description="Stock")
    def stock(self, shipment: Shipment) -> str:
        reference = shipment.reservation_reference
        return format_html(
            "{} · {}",
            _search_link("reservation", reference, "Reservations"),
            _search_link("stockmovement", reference, "Stock ledger"),
        )

    # --- Actions

    @admin.action(description="Mark their shipped parcels delivered", permissions=["fulfil"])
    def deliver_parcels(self, request, queryset):
        parcels: list[Parcel] = []
        for shipment in queryset.order_by("pk"):
            sent = list(shipment.parcels.all())
            on_the_way = [p for p in sent if p.status != Parcel.Status.DELIVERED]
            if on_the_way:
                parcels += on_the_way
            elif sent:
                self.message_user(
                    request,
                    f"{_shipment_label(shipment)}: every parcel is already delivered.",
                    messages.INFO,
                )
            else:
                self.message_user(
                    request,
                    f"{_shipment_label(shipment)}: no parcel of it has left yet.",
                    messages.WARNING,
                )
        _deliver_parcels(self, request, parcels)

    @admin.action(
        description="Mark their orders delivered (every parcel that shipped arrived)",
        permissions=["deliver"],
    )
    def deliver_orders(self, request, queryset):
        orders = Order.objects.filter(pk__in=queryset.values("order")).order_by("pk")
        _run_saying_each(
            self,
            request,
            orders,
            services.mark_delivered,
            argument="order",
            label=_order_label,
            outcome=lambda order: "delivered.",
            done="delivered",
            noun="order",
            actor=request.user,
        )

    @admin.action(description="Report a line short…", permissions=["fulfil"])
    def report_short(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                "Select one shipment: its lines are reported short on its own page.",
                messages.ERROR,
            )
            return None
        return redirect("admin:orders_shipment_report_short", chosen[0])

    # --- Pages of their own: the overview, reporting a line short

    def get_urls(self):
        own = [
            path(
                "overview/",
                self.admin_site.admin_view(self.overview_view),
                name="orders_shipment_overview",
            ),
            path(
                "<int:shipment_id>/report-short/",
                self.admin_site.admin_view(self.report_short_view),
                name="orders_shipment_report_short",
            ),
        ]
        return [*own, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        overview = reverse("admin:orders_shipment_overview")
        return super().changelist_view(request, {**(extra_context or {}), "overview": overview})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_fulfil": self.has_fulfil_permission(request),
            "open_statuses": selectors.OPEN_SHIPMENT,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _filtered(self, location: str, params: dict[str, str]) -> str:
        query = {"location": location, **params} if location else params
        return reverse("admin:orders_shipment_changelist") + "?" + urlencode(query)

    def overview_view(self, request):
        """Per location: shipments to pick, picked, packed, late, reported short today and
        shipped today, each count linked to the list filtered to those shipments."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        workloads = selectors.fulfilment_overview(now=timezone.now())

        def cells(location: str, counts: dict[str, int]) -> list[dict[str, Any]]:
            return [
                {"count": counts[attr], "url": self._filtered(location, params)}
                for attr, _, params in OVERVIEW_COLUMNS
            ]

        columns = [attr for attr, _, _ in OVERVIEW_COLUMNS]
        rows = [
            {
                "code": w.code,
                "name": w.name,
                "cells": cells(w.code, {attr: getattr(w, attr) for attr in columns}),
            }
            for w in workloads
        ]
        totals = cells("", {attr: sum(getattr(w, attr) for w in workloads) for attr in columns})
        context = {
            **self.admin_site.each_context(request),
            "title": "Delivery fulfilment per location",
            "opts": self.opts,
            "headings": [heading for _, heading, _ in OVERVIEW_COLUMNS],
            "rows": rows,
            "totals": totals,
            "chart": _workload_chart(workloads, self._filtered),
            "late_hours": settings.FULFILMENT_LATE_HOURS,
        }
        return TemplateResponse(request, "admin/orders/shipment/overview.html", context)

    def report_short_view(self, request, shipment_id: int):
        """The location cannot find these lines: each moves whole to another location that can
        cover it, or is cancelled and refunded (``services.report_short``), one by one."""
        if not self.has_fulfil_permission(request):
            raise PermissionDenied
        shipment = get_object_or_404(
            Shipment.objects.select_related("order", "location"), pk=shipment_id
        )
        lines = {line.pk: line for line in selectors.short_reportable_lines(shipment)}
        form = ReportShortForm(request.POST or None, lines=list(lines.values()))
        if request.method == "POST" and form.is_valid():
            for pk in form.cleaned_data["lines"]:
                self._report_short(request, shipment, lines[pk], form.cleaned_data["note"])
            return redirect("admin:orders_shipment_change", shipment.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Report a line short: {_shipment_label(shipment)}",
            "opts": self.opts,
            "shipment": shipment,
            "form": form,
            "can_report": bool(lines),
        }
        return TemplateResponse(request, "admin/orders/shipment/report_short.html", context)

    def _report_short(self, request, shipment: Shipment, line: ShipmentLine, note: str) -> None:
        sku, here = line.order_line.sku.code, shipment.location.code
        try:
            moved = services.report_short(
                shipment=shipment, line_id=line.pk, actor=request.user, note=note
            )
        except DomainError as refusal:
            self.message_user(request, f"{sku}: {refusal.message}", messages.ERROR)
            return
        if moved is None:
            self.message_user(
                request,
                f"{sku}: reported short at {here}; no location can ship it: cancelled and "
                "refunded to the customer.",
                messages.WARNING,
            )
            return
        there = moved.shipment.location
        self.message_user(
            request,
            f"{sku}: reported short at {here}; moved to {there.name} ({there.code}).",
            messages.SUCCESS,
        )


class ParcelLineInline(ReadOnlyTabularInline):
    model = ParcelLine
    verbose_name = "content"
    fields = readonly_fields = ("sku", "quantity")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("shipment_line__order_line__sku")

    @admin.display(description="SKU")
    def sku(self, item: ParcelLine) -> str:
        return item.shipment_line.order_line.sku.code


class CarrierEventInline(ReadOnlyTabularInline):
    model = CarrierEvent
    verbose_name = "tracking event"
    fields = readonly_fields = ("occurred_at", "kind", "event_id", "received_at")


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Parcels as they left, found by tracking number; delivered by hand here, or by the
    carrier's webhook."""

    list_display = [
        "__str__",
        "order_number",
        "location",
        "status",
        "tracking",
        "shipped_at",
        "delivered_at",
    ]
    list_filter = ["status", ParcelLocationFilter, ParcelCarrierFilter, "shipped_at"]
    list_select_related = ["shipment__order", "shipment__location"]
    search_fields = ["=tracking_number", "=shipment__order__number"]
    search_help_text = "Tracking number or order number."
    show_full_result_count = False
    ordering = ["-pk"]
    fields = readonly_fields = (
        "public_id",
        "shipment_link",
        "status",
        "tracking",
        "actor",
        "packed_at",
        "shipped_at",
        "delivered_at",
    )
    inlines = [ParcelLineInline, CarrierEventInline]
    actions = ["deliver"]

    def has_fulfil_permission(self, request) -> bool:
        return request.user.has_perm("orders.change_shipment")

    @admin.display(description="Order", ordering="shipment__order__number")
    def order_number(self, parcel: Parcel) -> str:
        return parcel.shipment.order.number

    @admin.display(description="Location")
    def location(self, parcel: Parcel) -> str:
        return parcel.shipment.location.code

    @admin.display(description="Carrier and tracking")
    def tracking(self, parcel: Parcel) -> str:
        return _tracking(parcel)

    @admin.display(description="Shipment")
    def shipment_link(self, parcel: Parcel) -> str:
        return _admin_link(parcel.shipment, _shipment_label(parcel.shipment))

    @admin.action(description="Mark selected parcels delivered", permissions=["fulfil"])
    def deliver(self, request, queryset):
        _deliver_parcels(self, request, list(queryset.order_by("pk")))


@admin.register(CarrierEvent)
class CarrierEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What carriers posted to the tracking webhook, each event once."""

    list_display = ["occurred_at", "carrier", "tracking_number", "kind", "parcel_link"]
    list_filter = ["kind", "received_at"]
    list_select_related = ["parcel"]
    search_fields = ["=tracking_number", "=event_id"]
    search_help_text = "Tracking number or the carrier's event id."
    show_full_result_count = False
    fields = readonly_fields = (
        "carrier",
        "event_id",
        "tracking_number",
        "kind",
        "occurred_at",
        "received_at",
        "parcel_link",
    )

    @admin.display(description="Parcel")
    def parcel_link(self, event: CarrierEvent) -> str:
        return _admin_link(event.parcel, str(event.parcel)) if event.parcel else "—"


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

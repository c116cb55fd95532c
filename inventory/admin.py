"""The inventory back-office in the Django admin: locations, the catalogue with its pictures,
stock levels, the ledger, reservations, transfers, cycle counts (with a CSV upload),
low-stock alerts and integration tokens.

Stock changes only through ``inventory.services``: whatever would write on hand, reserved or
the ledger directly is read-only here, and the actions call the services.
"""

from collections import defaultdict
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, QuerySet
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from inventory import images, integrations, selectors, services
from inventory.forms import CycleCountUploadForm, ProductImageForm
from inventory.models import (
    Category,
    CycleCount,
    CycleCountLine,
    IntegrationToken,
    Location,
    LowStockAlert,
    Product,
    ProductImage,
    Reservation,
    Sku,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)
from omni.core.admin_support import ReadOnlyAdminMixin, ReadOnlyTabularInline, run_for_each
from omni.core.errors import DomainError

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# --- Shared pieces ---------------------------------------------------------------------------


def category_tree() -> list[tuple[Category, int]]:
    """Every category with its depth, parents before their children (one query)."""
    children: dict[int | None, list[Category]] = defaultdict(list)
    for category in Category.objects.order_by("name"):
        children[category.parent_id].append(category)
    ordered: list[tuple[Category, int]] = []
    seen: set[int] = set()

    def walk(parent_id: int | None, depth: int) -> None:
        for category in children[parent_id]:
            if category.pk not in seen:
                seen.add(category.pk)
                ordered.append((category, depth))
                walk(category.pk, depth + 1)

    walk(None, 0)
    return ordered


def category_and_descendants(category_id: int) -> set[int]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, parent_id in Category.objects.values_list("pk", "parent_id"):
        children[parent_id].append(pk)
    found, todo = set(), [category_id]
    while todo:
        pk = todo.pop()
        if pk not in found:
            found.add(pk)
            todo.extend(children[pk])
    return found


class CategoryFilter(admin.SimpleListFilter):
    """Filter by a category of the tree, its subcategories included (Men takes in Men > Jackets)."""

    title = "category"
    parameter_name = "category"
    category_path = "category"

    def lookups(self, request, model_admin):
        return [
            (str(category.pk), "— " * depth + category.name) for category, depth in category_tree()
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            category_id = int(value)
        except ValueError:
            return queryset.none()
        return queryset.filter(
            **{f"{self.category_path}__in": category_and_descendants(category_id)}
        )


class SkuCategoryFilter(CategoryFilter):
    category_path = "product__category"


class StockLevelCategoryFilter(CategoryFilter):
    category_path = "sku__product__category"


# --- Locations and catalogue -----------------------------------------------------------------


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


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "parent"]
    list_select_related = ["parent"]
    search_fields = ["code", "name", "parent__name"]
    autocomplete_fields = ["parent"]


class ProductImageFormSet(BaseInlineFormSet):
    def delete_existing(self, obj, commit=True):
        if commit:
            images.delete_product_image(obj)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    form = ProductImageForm
    formset = ProductImageFormSet
    extra = 1
    fields = ["preview", "image", "alt_text", "position"]
    readonly_fields = ["preview"]

    @admin.display(description="Thumbnail")
    def preview(self, product_image: ProductImage) -> str:
        if not product_image.thumbnail:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" style="max-width: 120px; max-height: 120px">',
            product_image.thumbnail.url,
            product_image.alt_text,
        )


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ["code", "barcode", "attributes", "price", "cost_price", "currency", "is_active"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "brand", "category", "is_active", "created_at"]
    list_filter = ["is_active", CategoryFilter]
    list_select_related = ["category"]
    search_fields = ["code", "name", "brand", "skus__code", "skus__barcode"]
    autocomplete_fields = ["category"]
    inlines = [ProductImageInline, SkuInline]


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["code", "product", "price", "cost_price", "currency", "is_active"]
    list_filter = ["is_active", "currency", SkuCategoryFilter]
    list_select_related = ["product"]
    search_fields = ["code", "barcode", "product__name"]
    autocomplete_fields = ["product"]


# --- Stock levels ----------------------------------------------------------------------------


class _AvailableUnits(TypedDict):
    available_units: int


def with_available(
    levels: QuerySet[StockLevel],
) -> "QuerySet[WithAnnotations[StockLevel, _AvailableUnits]]":
    """Annotate what online channels may sell, by the one rule the storefront reads use
    (``selectors.sellable_units``: lapsed cart holds left out), in SQL."""
    return levels.annotate(available_units=selectors.sellable_units())


class BelowReorderPointFilter(admin.SimpleListFilter):
    title = "reorder point"
    parameter_name = "below_reorder_point"

    def lookups(self, request, model_admin):
        return [("yes", "Below reorder point"), ("no", "At or above reorder point")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return with_available(queryset).filter(available_units__lt=F("reorder_point"))
        if self.value() == "no":
            return with_available(queryset).filter(available_units__gte=F("reorder_point"))
        return queryset


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = [
        "sku",
        "product",
        "location",
        "on_hand",
        "reserved",
        "safety_stock",
        "available",
        "reorder_point",
        "updated_at",
    ]
    list_editable = ["safety_stock", "reorder_point"]
    list_filter = ["location", StockLevelCategoryFilter, BelowReorderPointFilter]
    list_select_related = ["sku__product", "location"]
    search_fields = ["sku__code", "sku__barcode", "sku__product__name"]
    autocomplete_fields = ["sku", "location"]
    fields = [
        "sku",
        "location",
        "on_hand",
        "reserved",
        "available",
        "safety_stock",
        "reorder_point",
        "updated_at",
    ]
    show_full_result_count = False

    def get_queryset(self, request):
        return with_available(super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        readonly = ["on_hand", "reserved", "available", "updated_at"]
        return readonly if obj is None else ["sku", "location", *readonly]

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in ("safety_stock", "reorder_point"):
            kwargs["min_value"] = 0
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            # On hand and reserved move under row locks in the services; saving the whole row
            # would write back the values read when this page was loaded.
            obj.save(update_fields=["safety_stock", "reorder_point", "updated_at"])
        else:
            obj.save()

    @admin.display(description="Product", ordering="sku__product__name")
    def product(self, level: StockLevel) -> str:
        return level.sku.product.name

    @admin.display(description="Available", ordering="available_units")
    def available(self, level: "WithAnnotations[StockLevel, _AvailableUnits]") -> int:
        return level.available_units


# --- The ledger and reservations -------------------------------------------------------------


# The mixin's super() is the ModelAdmin it is mixed into; mypy is told so, Python is not (a
# ModelAdmin base would put ModelAdmin before ReadOnlyAdminMixin in the subclasses' MRO).
if TYPE_CHECKING:
    _LevelRowAdmin = admin.ModelAdmin[Any]
else:
    _LevelRowAdmin = object


class LevelColumnsMixin(_LevelRowAdmin):
    """SKU and location columns for rows that belong to a stock level (ledger, reservations)."""

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("level__sku", "level__location")

    @admin.display(description="SKU", ordering="level__sku__code")
    def sku(self, row) -> str:
        return row.level.sku.code

    @admin.display(description="Location", ordering="level__location__name")
    def location(self, row) -> Location:
        return row.level.location


@admin.register(StockMovement)
class StockMovementAdmin(LevelColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "sku",
        "location",
        "kind",
        "quantity",
        "reference",
        "reason",
        "source",
        "actor",
    ]
    list_filter = ["kind", "level__location", "created_at"]
    list_select_related = ["level__sku", "level__location", "actor"]
    search_fields = ["level__sku__code", "reference"]
    show_full_result_count = False
    fields = readonly_fields = (
        "created_at",
        "sku",
        "location",
        "kind",
        "quantity",
        "reason",
        "reference",
        "source",
        "actor",
        "idempotency_key",
    )


@admin.register(Reservation)
class ReservationAdmin(LevelColumnsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "sku",
        "location",
        "kind",
        "status",
        "quantity",
        "expires_at",
        "created_at",
        "closed_at",
    ]
    list_filter = ["status", "kind", "level__location"]
    list_select_related = ["level__sku", "level__location"]
    search_fields = ["reference", "level__sku__code"]
    show_full_result_count = False
    fields = readonly_fields = (
        "public_id",
        "reference",
        "sku",
        "location",
        "kind",
        "status",
        "quantity",
        "expires_at",
        "created_at",
        "closed_at",
    )


# --- Transfers -------------------------------------------------------------------------------


class TransferLineInline(ReadOnlyTabularInline):
    model = TransferLine
    fields = ["sku", "quantity", "received_quantity"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")


def _transfer_label(transfer: Transfer) -> str:
    return (
        f"Transfer {str(transfer.public_id)[:8]} "
        f"({transfer.source.code} → {transfer.destination.code})"
    )


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Transfers are requested through the services; here they are followed and moved on."""

    list_display = [
        "short_id",
        "source",
        "destination",
        "status",
        "created_at",
        "shipped_at",
        "received_at",
        "requested_by",
    ]
    list_filter = ["status", "source", "destination"]
    list_select_related = ["source", "destination", "requested_by"]
    search_fields = ["lines__sku__code", "note"]
    fields = readonly_fields = (
        "public_id",
        "status",
        "source",
        "destination",
        "requested_by",
        "note",
        "created_at",
        "shipped_at",
        "received_at",
    )
    inlines = [TransferLineInline]
    actions = ["ship", "receive", "cancel"]

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_transfer")

    @admin.display(description="Transfer")
    def short_id(self, transfer: Transfer) -> str:
        return str(transfer.public_id)[:8]

    @admin.action(description="Ship selected transfers", permissions=["move"])
    def ship(self, request, queryset):
        self._move(request, queryset, "shipped", services.ship_transfer, actor=request.user)

    @admin.action(
        description="Receive selected transfers (everything shipped)", permissions=["move"]
    )
    def receive(self, request, queryset):
        self._move(request, queryset, "received", services.receive_transfer, actor=request.user)

    @admin.action(description="Cancel selected transfers", permissions=["move"])
    def cancel(self, request, queryset):
        self._move(request, queryset, "cancelled", services.cancel_transfer)

    def _move(self, request, queryset, done: str, service, **kwargs):
        run_for_each(
            self,
            request,
            queryset.select_related("source", "destination").order_by("pk"),
            service,
            argument="transfer",
            label=_transfer_label,
            done=done,
            noun="transfer",
            **kwargs,
        )


# --- Cycle counts ----------------------------------------------------------------------------


class CycleCountLineInline(ReadOnlyTabularInline):
    model = CycleCountLine
    fields = ["sku", "expected", "counted", "difference"]
    readonly_fields = ["difference"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sku")

    @admin.display(description="Difference")
    def difference(self, line: CycleCountLine) -> str:
        return f"{line.difference:+d}"


class _LineTotal(TypedDict):
    line_total: int  # counted in CycleCountAdmin.get_queryset


@admin.register(CycleCount)
class CycleCountAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Counts are recorded by clerks or by uploading a CSV file here (``upload/``)."""

    list_display = ["created_at", "location", "source", "line_count", "counted_by", "note"]
    list_filter = ["source", "location", "created_at"]
    list_select_related = ["location", "counted_by"]
    search_fields = ["note", "lines__sku__code"]
    fields = readonly_fields = (
        "public_id",
        "location",
        "source",
        "counted_by",
        "note",
        "created_at",
    )
    inlines = [CycleCountLineInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(line_total=Count("lines"))

    @admin.display(description="Lines", ordering="line_total")
    def line_count(self, count: "WithAnnotations[CycleCount, _LineTotal]") -> int:
        return count.line_total

    def has_upload_permission(self, request) -> bool:
        return request.user.has_perm("inventory.add_cyclecount")

    def get_urls(self):
        upload = path(
            "upload/",
            self.admin_site.admin_view(self.upload_view),
            name="inventory_cyclecount_upload",
        )
        return [upload, *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_upload": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request):
        """Record a counted CSV file at a location; a file with any bad row records nothing."""
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = CycleCountUploadForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                count = services.record_count_file(
                    location=form.cleaned_data["location"],
                    stream=form.cleaned_data["file"],
                    actor=request.user,
                    note=form.cleaned_data["note"],
                )
            except services.CountFileInvalid as invalid:
                problems = invalid.errors
            except DomainError as refusal:
                problems = [refusal.message]
            else:
                self.log_addition(request, count, "Uploaded a CSV count.")
                lines = list(count.lines.all())
                corrections = sum(1 for line in lines if line.difference)
                self.message_user(
                    request,
                    f"Count recorded at {count.location}: {len(lines)} SKUs counted, "
                    f"{corrections} corrected in the ledger.",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:inventory_cyclecount_change", args=[count.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a cycle count",
            "opts": self.opts,
            "form": form,
            "problems": problems,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/inventory/cyclecount/upload.html", context)


# --- Low-stock alerts ------------------------------------------------------------------------


class AlertStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at=None)
        if self.value() == "resolved":
            return queryset.exclude(resolved_at=None)
        return queryset


@admin.register(LowStockAlert)
class LowStockAlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "sku",
        "location",
        "available",
        "reorder_point",
        "raised_at",
        "is_open",
        "resolved_at",
    ]
    list_filter = [AlertStatusFilter, "level__location", "raised_at"]
    list_select_related = ["level__sku", "level__location"]
    search_fields = ["level__sku__code"]
    fields = readonly_fields = (
        "sku",
        "location",
        "available",
        "reorder_point",
        "raised_at",
        "resolved_at",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("level__sku", "level__location")

    @admin.display(description="SKU", ordering="level__sku__code")
    def sku(self, alert: LowStockAlert) -> str:
        return alert.level.sku.code

    @admin.display(description="Location", ordering="level__location__name")
    def location(self, alert: LowStockAlert) -> Location:
        return alert.level.location

    @admin.display(description="Open", boolean=True)
    def is_open(self, alert: LowStockAlert) -> bool:
        return alert.resolved_at is None


class NewIntegrationTokenForm(forms.ModelForm):
    days = forms.IntegerField(
        min_value=1,
        max_value=integrations.MAX_DAYS,
        help_text="The token stops working after this many days.",
    )

    class Meta:
        model = IntegrationToken
        fields = ["name", "user", "locations"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.INTEGRATION_TOKEN_DAYS


@admin.register(IntegrationToken)
class IntegrationTokenAdmin(admin.ModelAdmin):
    """Tokens are made by the service (the value is shown once, in a message) and revoked,
    never deleted, so the record of who could write stock stays. Hashes are never shown."""

    list_display = [
        "name",
        "prefix",
        "user",
        "location_codes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "expires_at"]
    list_select_related = ["user"]
    search_fields = ["name", "=prefix", "user__username"]
    autocomplete_fields = ["user", "locations"]
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("locations")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = NewIntegrationTokenForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user", "days", "locations"]
        return [
            "name",
            "user",
            "prefix",
            "locations",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead

    @admin.display(description="Locations")
    def location_codes(self, token: IntegrationToken) -> str:
        return ", ".join(location.code for location in token.locations.all()) or "all"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        token, raw = integrations.issue_integration_token(
            user=form.cleaned_data["user"],
            name=form.cleaned_data["name"],
            days=form.cleaned_data["days"],
            locations=form.cleaned_data["locations"],
        )
        obj.pk = token.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            f"The token, shown this once (only its hash is kept): {raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for token in queryset:
            integrations.revoke_integration_token(token=token)
        self.message_user(request, "Revoked.")

"""Admin for marketers: segments (rules edited as checked JSON with a live count, refresh,
members and changes, static uploads, advertising audiences), their refresh history, RFM
scores, audience exports; offers, coupons, code batches and their redemptions;
and the Customers list's "in segment" filter. Campaigns have their own module,
``campaign_admin``, imported here so that it is registered."""

import csv
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.cache import never_cache

from campaigns import (
    campaign_admin,  # noqa: F401  (registers the campaign admin)
    rules,
    selectors,
    services,
)
from campaigns.api.views import SegmentCountView
from campaigns.models import (
    AudienceExport,
    CodeBatch,
    Coupon,
    CustomerRfm,
    Offer,
    ProductAffinity,
    Redemption,
    RefusedCode,
    Segment,
    SegmentChange,
    SegmentRefresh,
)
from customers.models import Customer
from omni.core.admin_support import ReadOnlyAdminMixin, RecomputedRowsAdmin, run_for_each
from omni.core.errors import DomainError


def rules_help() -> SafeString:
    """Every condition type with its operators and extra keys, grouped, with an example."""
    sections = []
    for group, conditions in rules.describe_conditions():
        rows = format_html_join(
            "",
            "<li><code>{}</code>: {}. Operators: {}.{}</li>",
            (
                (
                    c.field,
                    c.label,
                    ", ".join(f"{op} ({what})" for op, what in c.operators.items()),
                    format_html(
                        " Keys: {}.",
                        ", ".join(f"{name}: {p.help}" for name, p in c.params.items()),
                    )
                    if c.params
                    else "",
                )
                for c in conditions
            ),
        )
        sections.append(format_html("<li><strong>{}</strong><ul>{}</ul></li>", group, rows))
    example = (
        '{"and": [{"field": "recency_days", "operator": "lte", "value": 90},\n'
        '         {"field": "bought_category", "operator": "in", "value": ["running"]},\n'
        '         {"not": {"field": "in_segment", "operator": "in", "value": ["Staff"]}}]}'
    )
    return format_html(
        'A tree of groups <code>{{"and": [...]}}</code>, <code>{{"or": [...]}}</code>, '
        '<code>{{"not": {{...}}}}</code> and conditions <code>{{"field", "operator", '
        '"value"}}</code> (plus the keys a field takes, e.g. <code>days</code>): at most {} '
        "conditions, groups {} deep. Example:<pre>{}</pre>"
        "<details><summary>Fields and operators</summary><ul>{}</ul></details>",
        rules.MAX_CONDITIONS,
        rules.MAX_DEPTH,
        example,
        mark_safe("".join(sections)),
    )


class SegmentAdminForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "description", "kind", "rules", "auto_refresh"]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["rules"]
        field.help_text = rules_help()
        # The live count (static/campaigns/segment_rules.js) posts the rules as they are typed.
        field.widget = forms.Textarea(
            attrs={
                "rows": 14,
                "cols": 90,
                "class": "segment-rules",
                "data-count-url": reverse("admin:campaigns_segment_count"),
                "data-segment": self.instance.pk or "",
                "spellcheck": "false",
            }
        )

    def clean_rules(self) -> Any:
        return self.cleaned_data.get("rules") or {}


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentAdminForm
    list_display = ["name", "kind", "conditions", "member_count", "refreshed_at", "auto_refresh"]
    list_filter = ["kind", "auto_refresh"]
    search_fields = ["name", "description"]
    readonly_fields = ["members", "refreshed_at", "latest_refreshes", "latest_changes"]
    fieldsets = [
        (None, {"fields": ["name", "description", "kind", "auto_refresh"]}),
        ("Rules (dynamic segments)", {"fields": ["rules"]}),
        (
            "Members",
            {"fields": ["members", "refreshed_at", "latest_refreshes", "latest_changes"]},
        ),
    ]
    actions = ["refresh_selected", "export_target_list", "export_exclusion_list"]

    class Media:
        js = ["campaigns/segment_rules.js"]

    @admin.display(description="conditions")
    def conditions(self, segment: Segment) -> str:
        if not segment.is_dynamic:
            return "uploaded list"
        return str(rules.count_conditions(segment.rules) or "-")

    @admin.display(description="members")
    def members(self, segment: Segment) -> str:
        if segment.pk is None:
            return "-"
        customers = reverse("admin:customers_customer_changelist") + f"?in_segment={segment.pk}"
        parts = [format_html('<a href="{}">{} customers</a>', customers, segment.member_count)]
        if not segment.is_dynamic:
            upload = reverse("admin:campaigns_segment_upload", args=[segment.pk])
            parts.append(format_html('<a href="{}">Upload a CSV list…</a>', upload))
        return format_html_join(" · ", "{}", ((part,) for part in parts))

    @admin.display(description="latest refreshes")
    def latest_refreshes(self, segment: Segment) -> str:
        if segment.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>+{}</td><td>-{}</td><td>{}</td><td>{} ms</td></tr>",
            (
                (r.started_at, r.get_trigger_display(), r.joined, r.left, r.members, r.milliseconds)
                for r in segment.refreshes.order_by("-started_at", "-pk")[:10]
            ),
        )
        every = reverse("admin:campaigns_segmentrefresh_changelist") + f"?segment={segment.pk}"
        return format_html(
            "<table><thead><tr><th>when</th><th>by</th><th>joined</th><th>left</th>"
            '<th>members</th><th>took</th></tr></thead><tbody>{}</tbody></table><a href="{}">'
            "Every refresh</a>",
            rows or mark_safe('<tr><td colspan="6">Never refreshed.</td></tr>'),
            every,
        )

    @admin.display(description="latest changes")
    def latest_changes(self, segment: Segment) -> str:
        if segment.pk is None:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (change.changed_at, change.customer, change.get_kind_display())
                for change in selectors.recent_changes(segment)
            ),
        )
        every = reverse("admin:campaigns_segmentchange_changelist") + f"?segment={segment.pk}"
        return format_html(
            '<table><tbody>{}</tbody></table><a href="{}">Everyone who joined or left</a>',
            rows or mark_safe("<tr><td>Nobody yet.</td></tr>"),
            every,
        )

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """A segment other segments' rules name cannot be deleted: the admin lists them as
        protected, like rows a foreign key protects."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for segment in objs:
            for name in rules.segments_referring_to(segment.name, excluding=segment.pk):
                protected.append(f"Segment: {name} (its rules name {segment.name})")
        return deleted, counts, perms_needed, protected

    # --- URLs: the live count, the CSV upload

    def get_urls(self):
        own = [
            # JSON answers, also when refused (not the admin's redirect to its log-in page):
            # DRF checks the session, CSRF, staff status and permission itself.
            path("count/", never_cache(SegmentCountView.as_view()), name="campaigns_segment_count"),
            path(
                "<int:pk>/upload/",
                self.admin_site.admin_view(self.upload_view),
                name="campaigns_segment_upload",
            ),
        ]
        return [*own, *super().get_urls()]

    def upload_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Replace (or add to) a static segment's members from a CSV file; a file with any bad
        line changes nothing and every bad line is listed."""
        segment = get_object_or_404(Segment, pk=pk, kind=Segment.Kind.STATIC)
        if not self.has_change_permission(request, segment):
            raise PermissionDenied
        form = MemberUploadForm(request.POST or None, request.FILES or None)
        problems: list[str] = []
        if request.method == "POST" and form.is_valid():
            try:
                refresh = services.import_static_members(
                    segment=segment,
                    stream=form.cleaned_data["file"],
                    actor=request.user,  # type: ignore[arg-type]  # admin_view: a staff user
                    replace=form.cleaned_data["mode"] == "replace",
                )
            except services.MemberFileInvalid as invalid:
                problems = invalid.errors
            except DomainError as refusal:
                problems = [refusal.message]
            else:
                self.log_change(request, segment, "Uploaded a CSV list of members.")
                self.message_user(
                    request,
                    f"{segment}: {refresh.members} members ({refresh.joined} joined, "
                    f"{refresh.left} left).",
                    messages.SUCCESS,
                )
                return redirect(reverse("admin:campaigns_segment_change", args=[segment.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Upload the members of {segment}",
            "opts": self.opts,
            "segment": segment,
            "form": form,
            "problems": problems,
            "max_rows": settings.SEGMENT_UPLOAD_MAX_ROWS,
        }
        return TemplateResponse(request, "admin/campaigns/segment/upload.html", context)

    # --- Actions

    @admin.action(description="Refresh the selected segments now", permissions=["change"])
    def refresh_selected(self, request: HttpRequest, queryset: QuerySet[Segment]) -> None:
        run_for_each(
            self,
            request,
            queryset,
            services.refresh_segment,
            argument="segment",
            label=str,
            done="refreshed",
            noun="segment",
            trigger=SegmentRefresh.Trigger.MANUAL,
            actor=request.user,
        )

    def has_export_audience_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(services.EXPORT_AUDIENCE)

    @admin.action(
        description="Export as an advertising target list (hashed, consented only)",
        permissions=["export_audience"],
    )
    def export_target_list(
        self, request: HttpRequest, queryset: QuerySet[Segment]
    ) -> HttpResponseBase | None:
        return self._export(request, queryset, AudienceExport.Use.TARGET)

    @admin.action(
        description="Export as an advertising exclusion list (hashed, consented only)",
        permissions=["export_audience"],
    )
    def export_exclusion_list(
        self, request: HttpRequest, queryset: QuerySet[Segment]
    ) -> HttpResponseBase | None:
        return self._export(request, queryset, AudienceExport.Use.EXCLUSION)

    def _export(
        self, request: HttpRequest, queryset: QuerySet[Segment], use: str
    ) -> HttpResponseBase | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one segment to export.", messages.ERROR)
            return None
        try:
            exported = services.export_audience(
                segment=queryset.get(),
                use=use,
                actor=request.user,  # type: ignore[arg-type]  # admin: a staff user
            )
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return None
        response = StreamingHttpResponse(exported.lines, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{exported.filename}"'
        return response


class MemberUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="One e-mail address, phone number or 16-digit loyalty card number per line "
        "(a first line naming the column is skipped).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,text/plain"}),
    )
    mode = forms.ChoiceField(
        choices=[("replace", "Replace the members"), ("add", "Add to the members")],
        initial="replace",
        widget=forms.RadioSelect,
    )


@admin.register(SegmentRefresh)
class SegmentRefreshAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "started_at",
        "segment",
        "trigger",
        "actor",
        "joined",
        "left",
        "members",
        "milliseconds",
    ]
    list_filter = ["trigger", "segment"]
    list_select_related = ["segment", "actor"]
    date_hierarchy = "started_at"


@admin.register(SegmentChange)
class SegmentChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["changed_at", "segment", "customer", "kind"]
    list_filter = ["kind", "segment"]
    list_select_related = ["segment", "customer"]
    search_fields = ["=customer__public_id", "customer__email"]
    search_help_text = "A customer's e-mail or public id."
    date_hierarchy = "changed_at"
    show_full_result_count = False


@admin.register(CustomerRfm)
class CustomerRfmAdmin(RecomputedRowsAdmin):
    list_display = [
        "customer",
        "cell",
        "r_score",
        "f_score",
        "m_score",
        "recency_days",
        "frequency",
        "monetary",
        "computed_at",
    ]
    list_filter = ["cell", "r_score", "f_score", "m_score"]
    list_select_related = ["customer"]
    search_fields = ["=customer__public_id", "customer__email"]
    show_full_result_count = False
    recompute_label = "Recompute the scores now"

    def recompute(self) -> str:
        """Every customer's scores now (beat does it nightly)."""
        return f"RFM scores recomputed for {services.refresh_rfm_scores()} customers."


@admin.register(ProductAffinity)
class ProductAffinityAdmin(RecomputedRowsAdmin):
    """What is bought together, as storefronts and the clerk are served it: search a product
    to see its list, best first."""

    list_display = ["product", "related", "together", "score", "computed_at"]
    list_select_related = ["product", "related"]
    search_fields = ["=product__code", "product__name"]
    show_full_result_count = False
    recompute_label = "Recompute what is bought together now"

    def recompute(self) -> str:
        """Every product's list now (beat does it nightly)."""
        return f"{services.refresh_affinities()} pairs of products bought together kept."


@admin.register(AudienceExport)
class AudienceExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who exported which segment to advertising platforms, when, and how many (written by the
    export)."""

    list_display = [
        "exported_at",
        "segment",
        "use",
        "actor",
        "row_count",
        "email_count",
        "phone_count",
        "left_out",
    ]
    list_filter = ["use", "segment"]
    list_select_related = ["segment", "actor"]
    date_hierarchy = "exported_at"


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


# --- The Customers list, filtered by segment ------------------------------------------------


class InSegmentFilter(admin.SimpleListFilter):
    """Customers in a segment (as of its last refresh), on the Customers list."""

    title = "segment"
    parameter_name = "in_segment"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Segment.objects.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(segment_memberships__segment_id=int(value))


def add_segment_filter_to_customer_admin() -> None:
    """``customers`` knows nothing of segments (it sits below campaigns): the filter is added
    from here to the Customer admin that ``customers.admin`` registered, which Django loaded
    first (``customers`` comes before ``campaigns`` in INSTALLED_APPS)."""
    if not admin.site.is_registered(Customer):
        raise ImproperlyConfigured("campaigns must come after customers in INSTALLED_APPS.")
    customer_admin = type(admin.site.get_model_admin(Customer))
    if InSegmentFilter not in customer_admin.list_filter:
        customer_admin.list_filter = [*customer_admin.list_filter, InSegmentFilter]


add_segment_filter_to_customer_admin()

# The customer lifetime value's fits and values (issue 14) register themselves.
# The attribution roll-up and its report register themselves (campaigns.reporting), and so do
# the Reports (every report listed; cohorts, conversion, campaign ROI), the survey answers and
# the satisfaction report.
from campaigns.reporting import (  # noqa: E402, F401
    attribution_admin,
    reports_admin,
    satisfaction_admin,
)
from campaigns.reporting.clv import admin as clv_admin  # noqa: E402, F401

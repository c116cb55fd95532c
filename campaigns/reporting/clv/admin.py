"""The CLV results in the admin, read-only: the fits (parameters, calibration report with a
CSV export, values by channel mix) and the customer values with filters. Registered from
``campaigns.admin``; the rules live in ``values`` and ``selectors``."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from campaigns.models import ClvFit, CustomerValue
from campaigns.reporting.clv import selectors
from campaigns.reporting.clv.values import compute_customer_values
from omni.core.admin_support import ReadOnlyAdminMixin, RecomputedRowsAdmin


def _table(rows: list[list[Any]]) -> SafeString:
    head, *body = rows
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in head)),
        format_html_join(
            "",
            "<tr>{}</tr>",
            ((format_html_join("", "<td>{}</td>", ((v,) for v in row)),) for row in body),
        ),
    )


FIT_FIELDS: tuple[str, ...] = (
    "fitted_at",
    "observed_until",
    "customers",
    "repeat_customers",
    "horizon_days",
    "annual_discount_rate",
    "seconds",
    "parameters",
    "by_channel_mix",
    "holdout_days",
    "calibration_table",
    "calibration_parameters",
    "calibration_note",
)


@admin.register(ClvFit)
class ClvFitAdmin(RecomputedRowsAdmin):
    list_display = [
        "fitted_at",
        "observed_until",
        "customers",
        "repeat_customers",
        "horizon_days",
        "annual_discount_rate",
        "holdout_days",
        "seconds",
    ]
    date_hierarchy = "fitted_at"
    fields = FIT_FIELDS
    readonly_fields = FIT_FIELDS

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/calibration.csv",
                self.admin_site.admin_view(self.calibration_csv),
                name="campaigns_clvfit_calibration_csv",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="parameters")
    def parameters(self, fit: ClvFit) -> SafeString:
        return format_html(
            "BG/NBD (days): {}<br>Gamma-Gamma: {}",
            _shown(fit.bgnbd),
            _shown(fit.gamma_gamma),
        )

    @admin.display(description="calibration fit (BG/NBD)")
    def calibration_parameters(self, fit: ClvFit) -> str:
        return _shown(fit.calibration_bgnbd) or "-"

    @admin.display(description="calibration report (mean purchases in the holdout)")
    def calibration_table(self, fit: ClvFit) -> SafeString | str:
        if not fit.calibration:
            return "-"
        csv_url = reverse("admin:campaigns_clvfit_calibration_csv", args=[fit.pk])
        return format_html(
            '{}<p><a href="{}">Download as CSV</a></p>',
            _table(selectors.calibration_rows(fit)),
            csv_url,
        )

    @admin.display(description="value by channel mix")
    def by_channel_mix(self, fit: ClvFit) -> SafeString:
        rows: list[list[Any]] = [
            [
                "",
                "customers",
                "revenue",
                "mean revenue",
                "margin (customers with a known one)",
                "mean predicted CLV",
                "mean P(alive)",
            ]
        ]
        rows += [
            [
                row["label"],
                row["customers"],
                row["total_revenue"],
                f"{row['mean_revenue']:.2f}",
                f"{row['total_margin'] or 0} ({row['with_margin']})",
                f"{row['mean_clv']:.2f}",
                f"{row['mean_p_alive']:.3f}",
            ]
            for row in selectors.value_by_channel_mix(fit)
        ]
        return _table(rows)

    def calibration_csv(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        fit = get_object_or_404(ClvFit, pk=pk)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"clv-calibration-{fit.fitted_at:%Y%m%d-%H%M}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        csv.writer(response).writerows(selectors.calibration_rows(fit))
        return response

    recompute_label = "Fit and compute the values now"

    def recompute(self) -> str:
        """Fit and write every value now (beat does it nightly). A refusal (too little
        history, a failed fit) is shown as a message, the last fit kept."""
        fit = compute_customer_values()
        return f"Customer values computed for {fit.customers} buyers."


class PAliveFilter(admin.SimpleListFilter):
    title = "P(alive)"
    parameter_name = "p_alive"
    BANDS = {
        "active": ("likely active (0.7 or more)", {"p_alive__gte": 0.7}),
        "at_risk": ("at risk (0.3 to 0.7)", {"p_alive__gte": 0.3, "p_alive__lt": 0.7}),
        "gone": ("likely gone (below 0.3)", {"p_alive__lt": 0.3}),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        band = self.BANDS.get(self.value() or "")
        return queryset.filter(**band[1]) if band else queryset


class BuyerFilter(admin.SimpleListFilter):
    title = "bought"
    parameter_name = "bought"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("once", "once"), ("repeat", "again on a later day")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "once":
            return queryset.filter(repeat_purchases=0)
        if self.value() == "repeat":
            return queryset.filter(repeat_purchases__gt=0)
        return queryset


@admin.register(CustomerValue)
class CustomerValueAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "customer",
        "channel_mix",
        "orders",
        "revenue",
        "margin",
        "last_purchase_on",
        "p_alive",
        "expected_purchases_90d",
        "expected_spend",
        "predicted_clv",
    ]
    list_filter = ["channel_mix", PAliveFilter, BuyerFilter]
    list_select_related = ["customer"]
    search_fields = ["=customer__public_id", "customer__email"]
    search_help_text = "A customer's e-mail or public id."
    ordering = ["-predicted_clv"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[CustomerValue]:
        return selectors.customer_values()


def _shown(params: dict[str, float]) -> str:
    return ", ".join(f"{name} = {value:.4g}" for name, value in params.items())

"""The attribution roll-up in the admin: its rows (read-only), and the report that sets the
seven models side by side per channel for a date range, filtered by channel and store, with a
chart drawn on the server as SVG and a CSV download of the same table."""

import csv
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from campaigns.models import AttributionCredit
from campaigns.reporting import attribution
from omni.core.admin_support import ReadOnlyReportAdmin, csv_query, report_filters

Model = AttributionCredit.Model
MODEL_COLOURS = {
    Model.FIRST_TOUCH: "#79aec8",
    Model.LAST_TOUCH: "#417690",
    Model.LAST_NON_DIRECT: "#205067",
    Model.LINEAR: "#e0a040",
    Model.TIME_DECAY: "#b06c1c",
    Model.POSITION_BASED: "#7c9a3c",
    Model.MARKOV: "#ba2121",
}
CHART_LABEL_WIDTH, CHART_BAR_WIDTH, CHART_BAR_HEIGHT, CHART_GAP = 190, 460, 7, 10


class ReportFilters(forms.Form):
    start = forms.DateField(label="From", help_text="First day (orders placed), YYYY-MM-DD.")
    end = forms.DateField(label="To", help_text="Last day, included.")
    channel = forms.ChoiceField(
        required=False, choices=[("", "All channels"), *AttributionCredit.Channel.choices]
    )
    store = forms.ChoiceField(required=False, label="Store", choices=[])

    def __init__(self, *args: Any, stores: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", "All stores"), *((code, code) for code in stores)]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(
                f"The date range is empty: {start} is after {end}. Give the first day, then "
                "the last."
            )
        return cleaned


@dataclass
class Bar:
    x: str
    y: str
    width: str
    colour: str
    title: str


def comparison_chart(comparison: attribution.Comparison) -> dict[str, Any]:
    """Per channel, one bar per model: the orders it credits the channel with, on one scale."""
    models = list(Model)
    most = max([c.orders[m.value] for c in comparison.channels for m in models] + [Decimal(1)])
    group = len(models) * CHART_BAR_HEIGHT + CHART_GAP
    rows = []
    for n, credit in enumerate(comparison.channels):
        top = n * group + CHART_GAP // 2
        bars = [
            Bar(
                x=str(CHART_LABEL_WIDTH),
                y=str(top + k * CHART_BAR_HEIGHT),
                width=f"{float(credit.orders[m.value] / most) * CHART_BAR_WIDTH:.1f}",
                colour=MODEL_COLOURS[m],
                title=f"{credit.label}, {m.label}: {credit.orders[m.value]:.2f} orders, "
                f"{credit.revenue[m.value]:.2f} revenue",
            )
            for k, m in enumerate(models)
        ]
        rows.append({"label": credit.label, "text_y": str(top + group // 2), "bars": bars})
    return {
        "rows": rows,
        "label_x": str(CHART_LABEL_WIDTH - 8),
        "width": str(CHART_LABEL_WIDTH + CHART_BAR_WIDTH + 20),
        "height": str(max(len(rows), 1) * group),
        "legend": [(MODEL_COLOURS[m], m.label) for m in models],
    }


def comparison_csv(comparison: attribution.Comparison) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    name = f"attribution-{comparison.start}-{comparison.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "channel",
            *(f"{m.value}_orders" for m in Model),
            *(f"{m.value}_revenue" for m in Model),
        ]
    )
    for credit in comparison.channels:
        writer.writerow(
            [
                credit.channel,
                *(credit.orders[m.value] for m in Model),
                *(credit.revenue[m.value] for m in Model),
            ]
        )
    return response


@admin.register(AttributionCredit)
class AttributionCreditAdmin(ReadOnlyReportAdmin):
    """Rows written by ``compute_attribution`` (nightly, or the management command)."""

    report_url_name = "campaigns_attributioncredit_report"

    list_display = [
        "day",
        "model",
        "channel",
        "campaign_code",
        "store_code",
        "orders_share",
        "revenue_share",
        "computed_at",
    ]
    list_filter = ["model", "channel"]
    search_fields = ["campaign_code", "store_code"]
    date_hierarchy = "day"
    show_full_result_count = False

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """The models side by side per channel; ``?format=csv`` downloads the table."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        yesterday = timezone.localdate() - timedelta(days=1)
        data = report_filters(request, start=yesterday - timedelta(days=29), end=yesterday)
        form = ReportFilters(data, stores=attribution.credited_stores())
        comparison = None
        if form.is_valid():
            comparison = attribution.compare_models(
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                channel=form.cleaned_data["channel"],
                store_code=form.cleaned_data["store"],
            )
            if request.GET.get("format") == "csv":
                return comparison_csv(comparison)
        context = {
            **self.admin_site.each_context(request),
            "title": "Channel attribution: the models side by side",
            "opts": self.opts,
            "form": form,
            "comparison": comparison,
            "models": list(Model),
            "rows": _rows(comparison) if comparison else [],
            "chart": comparison_chart(comparison) if comparison else None,
            "csv_query": csv_query(request),
        }
        return TemplateResponse(request, "admin/campaigns/attributioncredit/report.html", context)


def _rows(comparison: attribution.Comparison) -> list[dict[str, Any]]:
    models = [m.value for m in Model]
    rows: list[dict[str, Any]] = [
        {
            "label": credit.label,
            "cells": [(credit.orders[m], credit.revenue[m]) for m in models],
        }
        for credit in comparison.channels
    ]
    rows.append(
        {
            "label": "All channels",
            "total": True,
            "cells": [(comparison.orders[m], comparison.revenue[m]) for m in models],
        }
    )
    return rows

"""The admin's "Reports": one page listing every marketing report (attribution, CLV, cohorts,
conversion, campaign ROI) for whoever may read it, and the pages of the acquisition cohorts,
conversion and campaign ROI reports — filters, a chart drawn on the server as SVG, the table,
a CSV download of it. Reading them takes "Can view report" (``campaigns.view_report``).
Each page calls its report's function; bad input is a message on the page, never a 500."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from campaigns.models import Report
from campaigns.reporting import charts, conversion, retention, roi
from campaigns.reporting.sales_channels import SalesChannel
from inventory.models import Location
from omni.core.admin_support import csv_query, report_filters
from omni.core.errors import InvalidInput

VIEW_REPORT = "campaigns.view_report"


@dataclass(frozen=True)
class Entry:
    title: str
    description: str
    url_name: str
    permission: str


REPORTS = [
    Entry(
        "Channel attribution",
        "Which channels, campaigns and stores led to the orders: seven models side by side.",
        "admin:campaigns_attributioncredit_report",
        "campaigns.view_attributioncredit",
    ),
    Entry(
        "Customer lifetime value",
        "Each buyer's revenue to date (net of refunds), online / store / omnichannel, and "
        "predicted value.",
        "admin:campaigns_customervalue_changelist",
        "campaigns.view_customervalue",
    ),
    Entry(
        "CLV fits and calibration",
        "The BG/NBD and Gamma-Gamma fits, predicted against actual purchases in the holdout.",
        "admin:campaigns_clvfit_changelist",
        "campaigns.view_clvfit",
    ),
    Entry(
        "Acquisition cohorts and retention",
        "Customers by the month and channel of their first order: who ordered again, month "
        "by month; repeat-purchase and omnichannel rates.",
        "admin:campaigns_report_cohorts",
        VIEW_REPORT,
    ),
    Entry(
        "Conversion per channel and across channels",
        "Visitors who looked at a product on a channel and bought, on that channel or another, "
        "within N days.",
        "admin:campaigns_report_conversion",
        VIEW_REPORT,
    ),
    Entry(
        "Campaign ROI",
        "What each campaign cost, the revenue it counts, what it earned beyond its holdout.",
        "admin:campaigns_report_roi",
        VIEW_REPORT,
    ),
    Entry(
        "Customer satisfaction (NPS and CSAT)",
        "The survey answers after pick-ups, deliveries and till sales, per channel, store and "
        "campaign.",
        "admin:campaigns_surveyanswer_report",
        "campaigns.view_surveyanswer",
    ),
]


# --- Filters ----------------------------------------------------------------------------------


class RangeFilters(forms.Form):
    start = forms.DateField(label="From", help_text="First day, YYYY-MM-DD.")
    end = forms.DateField(label="To", help_text="Last day, included.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            raise forms.ValidationError(
                f"The date range is empty: {start} is after {end}. Give the first day, then "
                "the last."
            )
        return cleaned


def _stores() -> list[tuple[str, str]]:
    return [
        (code, f"{code} {name}")
        for code, name in Location.objects.filter(kind=Location.Kind.STORE)
        .order_by("code")
        .values_list("code", "name")
    ]


class ChannelAndStoreFilters(RangeFilters):
    channel = forms.ChoiceField(
        required=False, choices=[("", "All channels"), *SalesChannel.choices]
    )
    store = forms.ChoiceField(required=False, choices=[])

    def __init__(self, *args: Any, stores: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", "All stores"), *stores]


class CohortFilters(ChannelAndStoreFilters):
    start = forms.DateField(
        label="From", help_text="Cohorts from this day's month (first orders), YYYY-MM-DD."
    )
    end = forms.DateField(label="To", help_text="To this day's month, included.")
    channel = forms.ChoiceField(
        required=False,
        label="First order on",
        choices=[("", "All channels"), *SalesChannel.choices],
    )
    store = forms.ChoiceField(required=False, label="First order at", choices=[])


class ConversionFilters(ChannelAndStoreFilters):
    start = forms.DateField(label="Looks from", help_text="First day, YYYY-MM-DD.")
    window_days = forms.IntegerField(
        label="Bought within (days)",
        min_value=1,
        max_value=conversion.MAX_WINDOW_DAYS,
        help_text="After a product view or add to cart.",
    )
    channel = forms.ChoiceField(
        required=False, label="Browsed on", choices=[("", "All channels"), *SalesChannel.choices]
    )
    store = forms.ChoiceField(required=False, label="Bought at", choices=[])


# --- CSV --------------------------------------------------------------------------------------


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def cohorts_csv(found: retention.CohortReport) -> HttpResponse:
    months = range(1, retention.RETENTION_MONTHS + 1)
    return _csv(
        f"cohorts-{found.start}-{found.end}.csv",
        [
            "cohort_month",
            "first_channel",
            "customers",
            *(f"month_{k}" for k in months),
            "repeat_customers",
            "repeat_rate",
            "repeat_within_90_days",
            "repeat_within_90_days_rate",
            "omnichannel",
            "omnichannel_rate",
        ],
        [
            [
                c.month.strftime("%Y-%m"),
                c.channel,
                c.customers,
                *(_rate(r) for r in c.retention),
                c.repeat_customers,
                _rate(c.repeat_rate),
                c.repeat_within_90,
                _rate(c.repeat_within_90_rate),
                c.omnichannel,
                _rate(c.omnichannel_rate),
            ]
            for c in found.cohorts
        ],
    )


def conversion_csv(found: conversion.ConversionReport) -> HttpResponse:
    return _csv(
        f"conversion-{found.start}-{found.end}.csv",
        [
            "browsed_on",
            "visitors",
            "known_visitors",
            *(f"bought_on_{c}" for c in found.bought_on),
            "bought_anywhere",
            *(f"rate_{c}" for c in found.bought_on),
            "rate_anywhere",
        ],
        [
            [
                row.channel,
                row.visitors,
                row.known,
                *(row.bought.get(c, 0) for c in found.bought_on),
                row.bought.get(conversion.ANY, 0),
                *(_rate(row.rate(c)) for c in found.bought_on),
                _rate(row.rate(conversion.ANY)),
            ]
            for row in found.rows
        ],
    )


def roi_csv(found: roi.RoiReport) -> HttpResponse:
    def interval(row: roi.CampaignRoi) -> list[str]:
        bounds = row.incremental_interval
        return [_money(bounds[0]), _money(bounds[1])] if bounds else ["", ""]

    return _csv(
        f"campaign-roi-{found.start}-{found.end}.csv",
        [
            "campaign",
            "started_at",
            "messages_sent",
            "cost",
            "recipients",
            "holdout",
            "conversions",
            "attributed_revenue",
            "incremental_revenue",
            "incremental_low",
            "incremental_high",
            "roi",
            "roas",
            "cost_per_conversion",
        ],
        [
            [
                row.campaign.name,
                row.campaign.started_at.isoformat() if row.campaign.started_at else "",
                row.messages_sent,
                _money(row.cost),
                row.treated.recipients,
                row.holdout.recipients,
                row.conversions,
                _money(row.attributed_revenue),
                _money(row.incremental_revenue),
                *interval(row),
                _rate(row.roi),
                _rate(row.roas),
                _money(row.cost_per_conversion),
            ]
            for row in found.campaigns
        ],
    )


# --- Charts -----------------------------------------------------------------------------------


def cohorts_chart(found: retention.CohortReport) -> charts.LineChart:
    """One retention curve per cohort (month +0 is everyone), coloured by its channel."""
    colours = dict(zip(SalesChannel.values, charts.PALETTE, strict=False))
    series = [
        (
            f"{c.month:%b %Y}, {c.channel_label}",
            colours.get(c.channel, charts.PALETTE[-1]),
            [1.0 if c.customers else None, *c.retention],
        )
        for c in found.cohorts
    ]
    labels = ["0", *(f"+{k}" for k in range(1, retention.RETENTION_MONTHS + 1))]
    return charts.line_chart(series, labels)


def roi_chart(found: roi.RoiReport) -> charts.BarChart:
    rows: list[tuple[str, float | None, str]] = []
    for row in found.campaigns:
        if row.roi is not None:
            rows.append((row.campaign.name, row.roi, f"{row.campaign.name}: ROI {row.roi:.0%}"))
        else:
            why = "no holdout" if not row.has_holdout else "no cost"
            rows.append((row.campaign.name, None, why))
    return charts.bar_chart(rows)


def matrix(found: conversion.ConversionReport) -> list[dict[str, Any]]:
    """The conversion matrix as heat-table rows: browse channel x order channel."""
    return [
        {
            "label": row.label,
            "visitors": row.visitors,
            "known": row.known,
            "cells": [
                {
                    "buyers": row.bought.get(c, 0),
                    "rate": row.rate(c),
                    "known_rate": row.known_rate(c),
                    "background": charts.heat(row.rate(c)),
                    "colour": charts.ink(row.rate(c)),
                    "same": c == row.channel,
                }
                for c in found.bought_on
            ],
            "anywhere": row.bought.get(conversion.ANY, 0),
            "anywhere_rate": row.rate(conversion.ANY),
        }
        for row in found.rows
    ]


# --- The admin --------------------------------------------------------------------------------


def _month_start(day: date, months_back: int) -> date:
    index = retention.month_index(day) - months_back
    return retention.month_of(index)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """No rows: the list is the index of every report; each report has its own page."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        def view(function: Callable[[HttpRequest], HttpResponse], name: str) -> URLPattern:
            return path(
                f"{name}/",
                self.admin_site.admin_view(function),
                name=f"campaigns_report_{name}",
            )

        return [
            view(self.cohorts_view, "cohorts"),
            view(self.conversion_view, "conversion"),
            view(self.roi_view, "roi"),
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name="campaigns_report_changelist",
            ),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Every report this user may read, in one list."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        entries = [
            {"title": e.title, "description": e.description, "url": reverse(e.url_name)}
            for e in REPORTS
            if request.user.has_perm(e.permission)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Reports",
            "opts": self.opts,
            "entries": entries,
        }
        return TemplateResponse(request, "admin/campaigns/report/index.html", context)

    def _page(
        self,
        request: HttpRequest,
        *,
        form: forms.Form,
        build: Callable[[dict[str, Any]], Any],
        as_csv: Callable[[Any], HttpResponse],
        template: str,
        title: str,
        extra: Callable[[Any], dict[str, Any]],
    ) -> HttpResponse:
        """Build the report from valid filters; a refusal is shown on the form."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        found = None
        if form.is_valid():
            try:
                found = build(form.cleaned_data)
            except InvalidInput as refused:
                form.add_error(None, refused.message)
            else:
                if request.GET.get("format") == "csv":
                    return as_csv(found)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "form": form,
            "report": found,
            "csv_query": csv_query(request),
            **(extra(found) if found is not None else {}),
        }
        return TemplateResponse(request, f"admin/campaigns/report/{template}.html", context)

    def cohorts_view(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        data = report_filters(request, start=_month_start(today, 11), end=today)
        return self._page(
            request,
            form=CohortFilters(data, stores=_stores()),
            build=lambda f: retention.cohorts(
                start=f["start"], end=f["end"], channel=f["channel"], store_code=f["store"]
            ),
            as_csv=cohorts_csv,
            template="cohorts",
            title="Acquisition cohorts and retention",
            extra=lambda found: {
                "chart": cohorts_chart(found),
                "months": [f"+{k}" for k in range(1, retention.RETENTION_MONTHS + 1)],
            },
        )

    def conversion_view(self, request: HttpRequest) -> HttpResponse:
        yesterday = timezone.localdate() - timedelta(days=1)
        data = report_filters(request, start=yesterday - timedelta(days=29), end=yesterday)
        data.setdefault("window_days", str(settings.CONVERSION_WINDOW_DAYS))
        return self._page(
            request,
            form=ConversionFilters(data, stores=_stores()),
            build=lambda f: conversion.conversion(
                start=f["start"],
                end=f["end"],
                window_days=f["window_days"],
                channel=f["channel"],
                store_code=f["store"],
            ),
            as_csv=conversion_csv,
            template="conversion",
            title="Conversion per channel and across channels",
            extra=lambda found: {
                "matrix": matrix(found),
                "columns": [SalesChannel(c).label for c in found.bought_on],
            },
        )

    def roi_view(self, request: HttpRequest) -> HttpResponse:
        today = timezone.localdate()
        data = report_filters(request, start=today - timedelta(days=89), end=today)
        return self._page(
            request,
            form=RangeFilters(data),
            build=lambda f: roi.campaign_roi(start=f["start"], end=f["end"]),
            as_csv=roi_csv,
            template="roi",
            title="Campaign ROI",
            extra=lambda found: {"chart": roi_chart(found)},
        )

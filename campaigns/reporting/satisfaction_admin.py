"""Survey answers in the admin (read-only), and the satisfaction report: NPS and CSAT per order
channel, store and campaign for a date range, filtered by channel and store, with a chart drawn
on the server as SVG and a CSV download of the same figures. The figures are computed in
``satisfaction``; this module only shows them."""

import csv
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from campaigns.models import SurveyAnswer
from campaigns.reporting import satisfaction
from omni.core.admin_support import ReadOnlyReportAdmin, csv_query, report_filters
from omni.core.channels import Channel

# The chart: a label column, NPS bars either side of zero, CSAT bars from zero.
LABEL_WIDTH, NPS_WIDTH, CSAT_WIDTH, PANEL_GAP, ROW_HEIGHT, HEADER = 220, 260, 200, 60, 22, 34
PROMOTING, DETRACTING, SATISFIED = "#417690", "#ba2121", "#7c9a3c"
CSV_COLUMNS = [
    "breakdown",
    "key",
    "label",
    "nps_answers",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "csat_answers",
    "satisfied",
    "csat_percent",
    "csat_mean",
]


class SatisfactionFilters(forms.Form):
    start = forms.DateField(label="From", help_text="First day (answers given), YYYY-MM-DD.")
    end = forms.DateField(label="To", help_text="Last day, included.")
    channel = forms.ChoiceField(
        required=False, label="Order channel", choices=[("", "All channels"), *Channel.choices]
    )
    store = forms.ChoiceField(required=False, label="Store", choices=[])

    def __init__(self, *args: Any, stores: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        store = self.fields["store"]
        assert isinstance(store, forms.ChoiceField)
        store.choices = [("", "All stores"), *((code, f"{name} ({code})") for code, name in stores)]

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
class ChartRow:
    label: str
    label_y: str
    bar_y: str
    nps_x: str
    nps_width: str
    nps_colour: str
    nps_text: str
    csat_width: str
    csat_text: str
    title: str


NONE = "\u2013"  # an en dash: no answer on this scale


def _number(value: Decimal | None) -> str:
    return NONE if value is None else f"{value:+.1f}" if value else "0.0"


def breakdown_chart(breakdown: satisfaction.Breakdown) -> dict[str, Any]:
    """One row per group: its NPS as a bar from zero (right for positive, left for negative,
    on a -100..+100 scale) and its CSAT as the share satisfied (0..100 %)."""
    half = NPS_WIDTH / 2
    zero = LABEL_WIDTH + half
    csat_x = LABEL_WIDTH + NPS_WIDTH + PANEL_GAP
    rows = []
    for n, group in enumerate(breakdown.groups):
        top = HEADER + n * ROW_HEIGHT
        nps = float(group.nps or 0)
        width = abs(nps) / 100 * half
        rows.append(
            ChartRow(
                label=group.label,
                label_y=str(top + 15),
                bar_y=str(top + 5),
                nps_x=f"{zero - width if nps < 0 else zero:.1f}",
                nps_width=f"{width:.1f}",
                nps_colour=DETRACTING if nps < 0 else PROMOTING,
                nps_text=_number(group.nps),
                csat_width=f"{float(group.csat or 0) / 100 * CSAT_WIDTH:.1f}",
                csat_text=NONE if group.csat is None else f"{group.csat:.1f} %",
                title=f"{group.label}: NPS {_number(group.nps)} ({group.nps_answers} answers), "
                f"CSAT {NONE if group.csat is None else group.csat} % "
                f"({group.csat_answers} answers)",
            )
        )
    return {
        "rows": rows,
        "width": str(csat_x + CSAT_WIDTH + 60),
        "height": str(HEADER + max(len(rows), 1) * ROW_HEIGHT + 4),
        "label_x": str(LABEL_WIDTH - 8),
        "zero_x": f"{zero:.1f}",
        "nps_text_x": str(LABEL_WIDTH + NPS_WIDTH + 4),
        "csat_x": str(csat_x),
        "csat_end_x": str(csat_x + CSAT_WIDTH),
        "csat_text_x": str(csat_x + CSAT_WIDTH + 6),
        "axis_bottom": str(HEADER + max(len(rows), 1) * ROW_HEIGHT),
        "colours": {"promoting": PROMOTING, "detracting": DETRACTING, "satisfied": SATISFIED},
    }


def _csv_row(dimension: str, group: satisfaction.Satisfaction) -> list[Any]:
    return [
        dimension,
        group.key,
        group.label,
        group.nps_answers,
        group.promoters,
        group.passives,
        group.detractors,
        "" if group.nps is None else group.nps,
        group.csat_answers,
        group.satisfied,
        "" if group.csat is None else group.csat,
        "" if group.csat_mean is None else group.csat_mean,
    ]


def report_csv(report: satisfaction.SatisfactionReport) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    name = f"satisfaction-{report.start}-{report.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    writer.writerow(_csv_row("all", report.total))
    for breakdown in report.breakdowns:
        for group in breakdown.groups:
            writer.writerow(_csv_row(breakdown.dimension, group))
    return response


@admin.register(SurveyAnswer)
class SurveyAnswerAdmin(ReadOnlyReportAdmin):
    """Answers recorded by the survey page and the app (``customers.services.answer_survey``)."""

    report_url_name = "campaigns_surveyanswer_report"

    list_display = [
        "occurred_at",
        "scale",
        "score",
        "channel",
        "store_code",
        "campaign_code",
        "customer",
        "comment",
    ]
    list_filter = ["channel"]
    search_fields = ["store_code", "campaign_code", "customer__email"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    list_select_related = ["customer"]
    fields = [
        "occurred_at",
        "customer",
        "channel",
        "store_code",
        "campaign_code",
        "properties",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SurveyAnswer]:
        return super().get_queryset(request).select_related("customer")

    @admin.display(description="Scale")
    def scale(self, answer: SurveyAnswer) -> str:
        return str(answer.properties.get("scale", "")).upper()

    @admin.display(description="Score")
    def score(self, answer: SurveyAnswer) -> Any:
        return answer.properties.get("score")

    @admin.display(description="Comment")
    def comment(self, answer: SurveyAnswer) -> str:
        text = str(answer.properties.get("comment", ""))
        return text if len(text) <= 80 else f"{text[:79]}…"

    def report_view(self, request: HttpRequest) -> HttpResponse:
        """NPS and CSAT per channel, store and campaign; ``?format=csv`` downloads them."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        data = report_filters(request, start=today - timedelta(days=29), end=today)
        form = SatisfactionFilters(data, stores=satisfaction.report_stores())
        report = None
        if form.is_valid():
            report = satisfaction.satisfaction_report(
                start=form.cleaned_data["start"],
                end=form.cleaned_data["end"],
                channel=form.cleaned_data["channel"],
                store_code=form.cleaned_data["store"],
            )
            if request.GET.get("format") == "csv":
                return report_csv(report)
        charts = (
            [(b, breakdown_chart(b)) for b in report.breakdowns]
            if report and not report.empty
            else []
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Customer satisfaction: NPS and CSAT",
            "opts": self.opts,
            "form": form,
            "report": report,
            "breakdowns": charts,
            "csv_query": csv_query(request),
        }
        return TemplateResponse(request, "admin/campaigns/surveyanswer/report.html", context)

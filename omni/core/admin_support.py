"""Admin pieces every app shares: read-only views of rows that only services write, and
actions that run a service on each selected row."""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse

from omni.core.errors import DomainError


class ReadOnlyAdminMixin:
    """Visible to whoever may view the model, changed by nobody: services write these rows
    (ledgers are append-only in the database as well)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """A read-only list with a report page beside it: ``report/`` (URL name
    ``report_url_name``) served by ``report_view``, linked from the list as ``report``."""

    report_url_name = ""

    def get_urls(self) -> list[URLPattern]:
        report = path(
            "report/", self.admin_site.admin_view(self.report_view), name=self.report_url_name
        )
        return [report, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        report = reverse(f"admin:{self.report_url_name}")
        return super().changelist_view(request, {**(extra_context or {}), "report": report})

    def report_view(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError


def report_filters(request: HttpRequest, *, start: date, end: date) -> QueryDict:
    """A report page's filters as asked, the date range defaulting to ``start`` to ``end``."""
    data = request.GET.copy()
    data.setdefault("start", str(start))
    data.setdefault("end", str(end))
    return data


def csv_query(request: HttpRequest) -> str:
    """The report page's own query string, asking for its table as CSV."""
    query = request.GET.copy()
    query["format"] = "csv"
    return query.urlencode()


# Generic over the inline model and its parent; each app's inline names them.
class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False
    show_change_link = False


def run_for_each(
    modeladmin: "admin.ModelAdmin[Any]",
    request: HttpRequest,
    objects: Iterable[Any],
    service: Callable[..., object],
    *,
    argument: str,
    label: Callable[[Any], str],
    done: str,
    noun: str,
    **kwargs: Any,
) -> int:
    """Call ``service(<argument>=obj, **kwargs)`` for each object on its own, so one refusal
    does not hold back the others; refusals are shown as errors naming the object, never a 500.
    Returns how many went through."""
    moved = 0
    for obj in objects:
        try:
            service(**{argument: obj}, **kwargs)
        except DomainError as refusal:
            modeladmin.message_user(request, f"{label(obj)}: {refusal.message}", messages.ERROR)
        else:
            moved += 1
    if moved:
        plural = noun if moved == 1 else f"{noun}s"
        modeladmin.message_user(request, f"{moved} {plural} {done}.", messages.SUCCESS)
    return moved


class RecomputedRowsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows a beat task recomputes together, read-only, with a "recompute now" button on the
    list (POST only, for anyone who may view it). ``recompute`` does it and returns the message
    to show; a refusal (a ``DomainError``) is shown as an error and changes nothing."""

    change_list_template = "admin/recompute_change_list.html"
    recompute_label = "Recompute now"

    def recompute(self) -> str:
        raise NotImplementedError

    def _url_name(self, view: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{view}"

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.recompute_view)
        return [path("recompute/", view, name=self._url_name("recompute")), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "recompute_url": reverse(f"admin:{self._url_name('recompute')}"),
            "recompute_label": self.recompute_label,
        }
        return super().changelist_view(request, extra_context)

    def recompute_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not self.has_view_permission(request):
            raise PermissionDenied
        try:
            self.message_user(request, self.recompute())
        except DomainError as refused:
            self.message_user(request, refused.message, messages.ERROR)
        return redirect(reverse(f"admin:{self._url_name('changelist')}"))

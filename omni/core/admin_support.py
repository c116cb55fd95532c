"""Admin pieces every app shares: read-only views of rows that only services write, and
actions that run a service on each selected row."""

from collections.abc import Callable, Iterable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Model
from django.http import HttpRequest

from omni.core.errors import DomainError


class ReadOnlyAdminMixin:
    """Visible to whoever may view the model, changed by nobody: services write these rows
    (ledgers are append-only in the database as well)."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


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

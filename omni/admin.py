"""Admin for the project's own tables: which store each clerk works for."""

from django.contrib import admin

from omni.models import StoreAssignment


@admin.register(StoreAssignment)
class StoreAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "store", "assigned_at"]
    list_filter = ["store"]
    list_select_related = ["user", "store"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "store__code"]
    autocomplete_fields = ["user", "store"]
    readonly_fields = ["assigned_at"]


# The support agents' conversations (registered there: it composes several apps).
from omni import support_admin  # noqa: E402, F401

from django.contrib import admin

from customers.models import Customer, Identity


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "value", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "first_seen_channel", "created_at"]
    list_filter = ["first_seen_channel"]
    search_fields = ["first_name", "last_name", "email", "phone", "identities__value"]
    readonly_fields = ["public_id", "created_at", "updated_at"]
    inlines = [IdentityInline]

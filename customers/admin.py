"""Admin for marketers and service staff: find a customer by any identity, see identities,
consents with their history, touchpoints, service conversations (notes included) and
sign-ins; merge, export, erase and revoke sign-ins. Token hashes are never shown."""

import contextlib
import json
import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Count
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from customers import selectors, services
from customers.models import (
    Consent,
    Conversation,
    Customer,
    CustomerExport,
    CustomerMerge,
    CustomerToken,
    ErasureRecord,
    FrequencyCap,
    Identity,
    Notification,
    StorefrontKey,
    SuppressedAddress,
    Touchpoint,
)
from customers.normalise import normalise_email, normalise_phone
from customers.notifications.respect import suppression_address
from omni.core.admin_support import ReadOnlyAdminMixin, ReadOnlyTabularInline
from omni.core.errors import DomainError


class IdentityInline(admin.TabularInline):
    model = Identity
    extra = 0
    fields = ["kind", "value", "created_at"]
    readonly_fields = ["kind", "value", "created_at"]

    def has_add_permission(self, request, obj=None):
        # New identities go through resolution (which merges); see the profile's e-mail/phone.
        return False


class ConsentHistoryInline(ReadOnlyTabularInline):
    model = Consent
    verbose_name_plural = "consent history (latest first; the latest row per channel is current)"
    fields = readonly_fields = (
        "channel",
        "purpose",
        "granted",
        "source_channel",
        "recorded_at",
        "ip_address",
        "user_agent",
        "recorded_by",
    )
    ordering = ["-recorded_at", "-id"]


class ServiceHistoryInline(ReadOnlyTabularInline):
    """The customer's service conversations (notes recorded here are solved ones of their
    own); each opens on the support page, with its messages."""

    model = Conversation
    verbose_name_plural = "service history (conversations)"
    fields = readonly_fields = (
        "opened",
        "channel",
        "subject",
        "status",
        "owner",
        "last_message",
    )
    ordering = ["-updated_at", "-id"]

    def get_queryset(self, request):
        return selectors.conversations_of_all(super().get_queryset(request))

    @admin.display(description="opened")
    def opened(self, conversation: Conversation) -> str:
        url = reverse("admin:customers_conversation_change", args=[conversation.pk])
        when = timezone.localtime(conversation.created_at).strftime("%Y-%m-%d %H:%M")
        return format_html('<a href="{}">{}</a>', url, when)

    @admin.display(description="last message")
    def last_message(self, conversation: Conversation) -> str:
        return Truncator(getattr(conversation, "last_message", "") or "").chars(120)


class ServiceNoteForm(forms.ModelForm):
    """A note of a call, a visit or a complaint: a solved conversation holding it."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    class Meta:
        model = Conversation
        fields = ["channel", "subject"]
        labels = {"channel": "via", "subject": "topic"}


class NewServiceNoteInline(admin.StackedInline):
    model = Conversation
    form = ServiceNoteForm
    verbose_name = "new service note"
    verbose_name_plural = "add a service note"
    extra = 1
    fields = ["channel", "subject", "text"]

    def get_queryset(self, request):
        return super().get_queryset(request).none()

    def has_change_permission(self, request, obj=None):
        return True


class MergeInline(ReadOnlyTabularInline):
    model = CustomerMerge
    verbose_name_plural = "profiles merged into this one"
    fields = readonly_fields = ("merged_at", "merged_public_id", "cause", "actor", "moved")


class SignInInline(ReadOnlyTabularInline):
    model = CustomerToken
    verbose_name_plural = "sign-ins (live tokens; revoke with the list's action)"
    fields = readonly_fields = ("channel", "created_at", "last_used_at", "expires_at")
    ordering = ["-last_used_at"]


class CustomerAdminForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = [
            "first_name",
            "last_name",
            "email",
            "phone",
            "birthday",
            "preferred_store_code",
            "time_zone",
        ]

    def clean_email(self):
        email = self.cleaned_data.get("email")
        return normalise_email(email) if email else ""

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        if not phone:
            return ""
        try:
            return normalise_phone(phone)
        except DomainError as error:
            raise ValidationError(error.message) from None

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        for name, kind in (("email", Identity.Kind.EMAIL), ("phone", Identity.Kind.PHONE)):
            value = cleaned.get(name)
            if not value:
                continue
            owner = Identity.objects.filter(kind=kind, value=value).exclude(
                customer_id=self.instance.pk
            )
            if owner.exists():
                self.add_error(
                    name, "This identifies another customer: merge the two profiles instead."
                )
        return cleaned


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["__str__", "email", "phone", "first_seen_channel", "created_at", "erased"]
    list_filter = ["first_seen_channel", ("erased_at", admin.EmptyFieldListFilter)]
    search_fields = ["first_name", "last_name", "email", "phone", "=public_id"]
    search_help_text = (
        "Name, e-mail, phone (any format), loyalty card, device or anonymous id, external id."
    )
    readonly_fields = [
        "public_id",
        "first_seen_channel",
        "erased_at",
        "created_at",
        "updated_at",
        "recent_touchpoints",
    ]
    fieldsets = [
        (None, {"fields": ["public_id", ("first_name", "last_name"), ("email", "phone")]}),
        (
            "Profile",
            {"fields": ["birthday", "preferred_store_code", "time_zone", "first_seen_channel"]},
        ),
        ("Record", {"fields": ["created_at", "updated_at", "erased_at"]}),
        ("Touchpoints (latest 50)", {"fields": ["recent_touchpoints"]}),
    ]
    inlines = [
        IdentityInline,
        ConsentHistoryInline,
        NewServiceNoteInline,
        ServiceHistoryInline,
        MergeInline,
        SignInInline,
    ]
    actions = ["merge_selected", "export_selected", "erase_selected", "revoke_tokens_selected"]
    show_full_result_count = False

    @admin.display(boolean=True, description="erased")
    def erased(self, customer: Customer) -> bool:
        return customer.erased_at is not None

    @admin.display(description="touchpoints")
    def recent_touchpoints(self, customer: Customer) -> str:
        if customer.pk is None:
            return "-"
        touchpoints = selectors.recent_touchpoints(customer)
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(t.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    t.get_kind_display(),
                    t.get_channel_display(),
                    t.sku_code or t.product_code or t.url,
                    t.store_code or t.campaign_code or t.utm_campaign,
                )
                for t in touchpoints
            ),
        )
        if not rows:
            return "No touchpoints."
        return format_html(
            "<table><thead><tr><th>when</th><th>what</th><th>channel</th><th>product or page"
            "</th><th>store or campaign</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            by_identity = selectors.customers_matching_any_identity(term).values("pk")
            results = results | queryset.filter(pk__in=by_identity)
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        if change:
            changes = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.PROFILE_FIELDS
            }
            services.update_profile(customer=obj, changes=changes)
        else:
            super().save_model(request, obj, form, change)
            contact = {
                name: getattr(obj, name) for name in ("email", "phone") if getattr(obj, name)
            }
            services.update_profile(customer=obj, changes=contact)

    def save_formset(self, request, form, formset, change):
        if formset.model is not Conversation:
            return super().save_formset(request, form, formset, change)
        # Notes are written by the service (with their author) and never edited afterwards.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for note_form in formset.forms:
            data = note_form.cleaned_data
            if data and not data.get("DELETE") and data.get("text"):
                note = services.add_service_note(
                    customer=form.instance,
                    author=request.user,
                    via=data["channel"],
                    topic=data["subject"],
                    text=data["text"],
                )
                formset.new_objects.append(note.conversation)

    @admin.action(description="Merge the two selected customers…", permissions=["change"])
    def merge_selected(self, request, queryset):
        customers = list(
            queryset.annotate(identity_count=Count("identities", distinct=True)).order_by(
                "created_at", "pk"
            )
        )
        if len(customers) != 2:
            self.message_user(request, "Select exactly two customers to merge.", messages.ERROR)
            return None
        survivor, merged = customers
        if request.POST.get("confirm") == "yes":
            try:
                record = services.merge_customers(
                    customer=survivor,
                    other=merged,
                    cause=f"merged in the admin by {request.user}",
                    actor=request.user,
                )
            except DomainError as error:
                self.message_user(request, error.message, messages.ERROR)
                return None
            moved = ", ".join(f"{n} {label}" for label, n in record.moved.items()) or "no rows"
            self.message_user(request, f"Merged into {survivor} (moved {moved}).")
            return None
        return TemplateResponse(
            request,
            "admin/customers/customer/merge_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Merge two customers",
                "opts": self.model._meta,
                "survivor": survivor,
                "merged": merged,
                "customers": customers,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def has_export_permission(self, request) -> bool:
        return request.user.has_perm("customers.export_customers")

    @admin.action(description="Export the selected customers' data (JSON)", permissions=["export"])
    def export_selected(self, request, queryset):
        try:
            _, documents = services.export_customers(
                customers=queryset, actor=request.user, query=_how_chosen(request)
            )
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
            return None
        body = json.dumps(
            documents[0] if len(documents) == 1 else documents, cls=DjangoJSONEncoder, indent=2
        )
        name = (
            f"customer-{documents[0]['customer']['public_id']}"
            if len(documents) == 1
            else ("customers")
        )
        response = HttpResponse(body, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{name}.json"'
        return response

    @admin.action(
        description="Erase the selected customers' personal data…", permissions=["delete"]
    )
    def erase_selected(self, request, queryset):
        customers = list(queryset.filter(erased_at=None))
        if request.POST.get("confirm") == "yes":
            for customer in customers:
                services.erase_customer(
                    customer=customer, requested_via="admin", actor=request.user
                )
            self.message_user(request, f"Erased the personal data of {len(customers)} customers.")
            return None
        return TemplateResponse(
            request,
            "admin/customers/customer/erase_confirmation.html",
            {
                **self.admin_site.each_context(request),
                "title": "Erase personal data",
                "opts": self.model._meta,
                "customers": customers,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(
        description="Sign the selected customers out everywhere (revoke their tokens)",
        permissions=["change"],
    )
    def revoke_tokens_selected(self, request, queryset):
        revoked = sum(services.revoke_customer_tokens(customer=customer) for customer in queryset)
        self.message_user(request, f"Revoked {revoked} tokens.")


def _how_chosen(request) -> str:
    """The changelist's search and filters, and whether every match or only the ticked rows
    were exported: enough to tell afterwards what someone meant to take."""
    filters = request.GET.urlencode()
    scope = (
        "every customer matching"
        if request.POST.get("select_across") == "1"
        else "ticked rows, listed with"
    )
    return f"{scope} ?{filters}" if filters else f"{scope} no search or filter"


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["customer", "channel", "purpose", "granted", "source_channel", "recorded_at"]
    list_filter = ["channel", "purpose", "granted", "source_channel"]
    list_select_related = ["customer"]
    search_fields = ["=customer__public_id", "customer__email"]
    show_full_result_count = False


@admin.register(Touchpoint)
class TouchpointAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "channel", "customer", "sku_code", "store_code"]
    list_filter = ["kind", "channel"]
    list_select_related = ["customer"]
    search_fields = ["=anonymous_id", "=customer__public_id", "=sku_code", "=campaign_code"]
    # A billion rows: counting them on every page would take longer than the page.
    show_full_result_count = False


@admin.register(CustomerMerge)
class CustomerMergeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["merged_at", "survivor", "merged_public_id", "cause", "actor"]
    list_select_related = ["survivor", "actor"]
    search_fields = ["=merged_public_id", "=survivor__public_id"]


@admin.register(CustomerExport)
class CustomerExportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who exported which customers' data, and how they chose them (written by the export)."""

    list_display = ["exported_at", "actor", "row_count", "query"]
    list_filter = ["exported_at"]
    list_select_related = ["actor"]
    search_fields = ["actor__username", "query"]
    fields = readonly_fields = ("exported_at", "actor", "row_count", "query", "customer_public_ids")
    date_hierarchy = "exported_at"
    search_help_text = "A staff member's user name, a search or filter, or a customer's public id."

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            public_id = uuid.UUID(search_term.strip())
        except ValueError:
            return results, may_have_duplicates
        exports_of = queryset.filter(customer_public_ids__contains=[str(public_id)])
        return results | exports_of, may_have_duplicates


@admin.register(ErasureRecord)
class ErasureRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["erased_at", "customer_public_id", "requested_via", "actor"]
    search_fields = ["=customer_public_id"]


@admin.register(StorefrontKey)
class StorefrontKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "channel", "prefix", "created_at", "revoked_at"]
    list_filter = ["channel"]
    fields = ["name", "channel", "prefix", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "revoked_at"]
    actions = ["revoke_selected"]

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so the record of the key stays

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["name"])
            return
        key, raw = services.issue_storefront_key(name=obj.name, channel=obj.channel)
        obj.pk = key.pk
        obj.refresh_from_db()
        self.message_user(
            request,
            f"The API key, shown this once (only its hash is kept): {raw}",
            messages.WARNING,
        )

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke_selected(self, request, queryset):
        for key in queryset:
            services.revoke_storefront_key(key=key)
        self.message_user(request, "Revoked.")


@admin.register(CustomerToken)
class CustomerTokenAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Customers' live sign-ins. Revoking deletes the token: the device must sign in again."""

    list_display = ["customer", "channel", "created_at", "last_used_at", "expires_at"]
    list_filter = ["channel"]
    list_select_related = ["customer"]
    search_fields = ["=customer__public_id", "customer__email"]
    fields = readonly_fields = ("customer", "channel", "created_at", "last_used_at", "expires_at")
    actions = ["revoke_selected"]
    show_full_result_count = False

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("customers.delete_customertoken")

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_selected(self, request, queryset):
        revoked = 0
        for token in queryset:
            services.sign_out(token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} tokens.")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The outbox: what was sent to whom, what waits and until when, and what was held back
    and why (read-only).

    What a message said is never shown, nor searched: bodies carry pick-up codes (a clerk who
    read one could hand the order to anyone) and personal details, so staff see the topic and
    which data the message was made of, not the words or the values.
    """

    list_display = [
        "created_at",
        "topic",
        "source",
        "customer",
        "channel",
        "kind",
        "status",
        "suppression_reason",
        "send_after",
        "attempts",
        "sent_at",
    ]
    list_filter = ["status", "suppression_reason", "channel", "kind", "topic"]
    list_select_related = ["customer"]
    # Never the subject, body or context: searching them would reveal them one guess at a time.
    search_fields = [
        "customer__email",
        "=customer__public_id",
        "=idempotency_key",
        "=source",
        "=provider_id",
    ]
    search_help_text = (
        "Customer e-mail or public id, the notification's idempotency key, its source "
        "(e.g. campaign:<uuid>) or the provider's id."
    )
    fields = [
        "customer",
        ("channel", "kind", "purpose"),
        ("topic", "source"),
        ("status", "suppression_reason", "send_after"),
        "respect",
        ("attempts", "provider_id"),
        "last_error",
        "recipient",
        "content",
        "idempotency_key",
        ("created_at", "sent_at"),
        ("opened_at", "clicked_at"),
    ]
    readonly_fields = [
        name for item in fields for name in ((item,) if isinstance(item, str) else item)
    ]
    show_full_result_count = False

    @admin.display(description="content")
    def content(self, notification: Notification) -> str:
        made_of = ", ".join(sorted(notification.context)) or "no data"
        return (
            "Subject and message not shown: they can hold pick-up codes and personal data. "
            f"Made of: {made_of} (values hidden)."
        )


@admin.register(FrequencyCap)
class FrequencyCapAdmin(admin.ModelAdmin):
    """How many marketing messages a customer may get per period, per channel or on all
    channels together; every cap holds at once, for every campaign and app."""

    list_display = ["__str__", "channel", "max_messages", "period_days"]
    list_editable = ["max_messages", "period_days"]
    list_display_links = ["__str__"]


class SuppressedAddressForm(forms.ModelForm):
    class Meta:
        model = SuppressedAddress
        fields = ["address", "reason", "note"]

    def clean_address(self) -> str:
        try:
            return suppression_address(self.cleaned_data["address"])
        except DomainError:
            raise ValidationError("Enter an e-mail address or a phone number.") from None


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Addresses no marketing message goes to (e-mails lower-cased, phones in E.164), added by
    staff or by a provider's hard bounce. Removing one lets marketing reach it again (consent
    still applies)."""

    form = SuppressedAddressForm
    list_display = ["address", "reason", "note", "created_at"]
    list_filter = ["reason"]
    search_fields = ["address"]
    search_help_text = "The address as stored: e-mail in lower case, phone as +33612345678."
    readonly_fields = ["created_at"]

    def get_search_results(self, request, queryset, search_term):
        # Found however it is typed: "06 12 34 56 78" finds +33612345678.
        with contextlib.suppress(DomainError):
            search_term = suppression_address(search_term)
        return super().get_search_results(request, queryset, search_term)

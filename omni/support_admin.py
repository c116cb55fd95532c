"""The support agents' admin: service conversations of every channel in one queue (filters by
status, owner and channel; search by the customer's e-mail, phone or any identity), and a
conversation's page with its messages, the orders it is about, and the customer's picture the
clerk has (orders with their status, points, live cart). Replying needs the
``customers.reply_conversation`` permission; taking, solving, notes and order links need
``customers.change_conversation``.

At the edge because the picture composes orders and loyalty with the customers app's rows."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Conversation
from omni.clerk.selectors import customer_picture
from omni.core.errors import DomainError
from orders import selectors as order_selectors
from orders import services as order_services

REPLY_PERMISSION = "customers.reply_conversation"


class ReplyForm(forms.Form):
    body = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 5}))


class NoteForm(forms.Form):
    body = forms.CharField(label="Internal note", widget=forms.Textarea(attrs={"rows": 3}))


class LinkOrdersForm(forms.Form):
    numbers = forms.CharField(
        label="Order numbers", help_text="The customer's orders it is about, comma-separated."
    )

    def numbers_list(self) -> list[str]:
        return [n for n in self.cleaned_data["numbers"].replace(" ", ",").split(",") if n]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    change_form_template = "admin/support/conversation_change_form.html"
    list_display = [
        "subject",
        "customer",
        "status",
        "owner",
        "channel",
        "updated_at",
        "last_message_short",
    ]
    list_filter = ["status", ("owner", admin.RelatedOnlyFieldListFilter), "channel"]
    list_select_related = ["customer", "owner"]
    search_fields = ["subject", "customer__email", "customer__phone", "=public_id"]
    search_help_text = "Subject, or the customer's e-mail, phone (any format) or loyalty card."
    readonly_fields = (
        "public_id",
        "customer_link",
        "subject",
        "status",
        "owner",
        "channel",
        "thread_id",
        "created_at",
        "updated_at",
        "solved_at",
        "csat_rating",
        "csat_comment",
        "csat_at",
    )
    fields = readonly_fields
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> Any:
        conversations = super().get_queryset(request).select_related("customer")
        return customer_selectors.conversations_of_all(conversations)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # they start with the customer's message or a staff note

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the history stays (erasure removes it with the customer's data)

    @admin.display(description="customer")
    def customer_link(self, conversation: Conversation) -> str:
        url = reverse("admin:customers_customer_change", args=[conversation.customer_id])
        return format_html('<a href="{}">{}</a>', url, conversation.customer)

    @admin.display(description="last message")
    def last_message_short(self, conversation: Conversation) -> str:
        return Truncator(getattr(conversation, "last_message", "") or "").chars(80)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            found = customer_selectors.customers_matching_any_identity(term).values("pk")
            results = results | queryset.filter(customer__in=found)
        return results, may_have_duplicates

    # --- The conversation's page ------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        conversation = self.get_object(request, object_id)
        # The page is read-only: every change is one of the forms above it.
        extra: dict[str, Any] = {
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        if conversation is not None:
            extra.update(self._support_context(request, conversation))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _support_context(self, request: HttpRequest, conversation: Conversation) -> dict[str, Any]:
        detailed = customer_selectors.conversation_with_messages(conversation.public_id)
        customer = conversation.customer
        picture = (
            customer_picture(customer, now=timezone.now()) if customer.erased_at is None else None
        )
        return {
            "conversation": detailed,
            "support_picture": picture,
            "linked_orders": list(order_selectors.orders_of_conversation(conversation)),
            "reply_channel": customer_services.reply_channel(conversation),
            "can_reply": request.user.has_perm(REPLY_PERMISSION),
            "can_change": self.has_change_permission(request, conversation),
            "reply_form": ReplyForm(),
            "note_form": NoteForm(),
            "link_form": LinkOrdersForm(),
        }

    def get_urls(self) -> list[Any]:
        steps = {
            "reply": self.reply_view,
            "note": self.note_view,
            "take": self.take_view,
            "solve": self.solve_view,
            "link-orders": self.link_orders_view,
        }
        own = [
            path(
                f"<path:object_id>/{step}/",
                self.admin_site.admin_view(require_POST(view)),
                name=f"customers_conversation_{step.replace('-', '_')}",
            )
            for step, view in steps.items()
        ]
        return own + super().get_urls()

    def _conversation(self, request: HttpRequest, object_id: str, *, permission: str = "") -> Any:
        conversation = get_object_or_404(Conversation, pk=object_id)
        allowed = (
            request.user.has_perm(permission)
            if permission
            else self.has_change_permission(request, conversation)
        )
        if not allowed:
            raise PermissionDenied
        return conversation

    def _back(self, conversation: Conversation) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse("admin:customers_conversation_change", args=[conversation.pk])
        )

    def _run(self, request: HttpRequest, conversation: Conversation, step: Any, done: str):
        try:
            step()
        except DomainError as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, done, messages.SUCCESS)
        return self._back(conversation)

    def reply_view(self, request, object_id: str) -> HttpResponse:
        conversation = self._conversation(request, object_id, permission=REPLY_PERMISSION)
        form = ReplyForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Write the reply.", messages.ERROR)
            return self._back(conversation)
        return self._run(
            request,
            conversation,
            lambda: customer_services.reply_to_conversation(
                conversation=conversation, author=request.user, body=form.cleaned_data["body"]
            ),
            "Reply sent: the conversation waits for the customer.",
        )

    def note_view(self, request, object_id: str) -> HttpResponse:
        conversation = self._conversation(request, object_id)
        form = NoteForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Write the note.", messages.ERROR)
            return self._back(conversation)
        return self._run(
            request,
            conversation,
            lambda: customer_services.add_note(
                conversation=conversation, author=request.user, body=form.cleaned_data["body"]
            ),
            "Note added (the customer does not see it).",
        )

    def take_view(self, request, object_id: str) -> HttpResponse:
        conversation = self._conversation(request, object_id)
        return self._run(
            request,
            conversation,
            lambda: customer_services.assign_conversation(
                conversation=conversation, owner=request.user
            ),
            "The conversation is yours.",
        )

    def solve_view(self, request, object_id: str) -> HttpResponse:
        conversation = self._conversation(request, object_id)
        ask = request.POST.get("ask_rating") == "on"
        return self._run(
            request,
            conversation,
            lambda: customer_services.solve_conversation(
                conversation=conversation, actor=request.user, ask_rating=ask
            ),
            "Solved." + (" The customer is asked to rate our help." if ask else ""),
        )

    def link_orders_view(self, request, object_id: str) -> HttpResponse:
        conversation = self._conversation(request, object_id)
        form = LinkOrdersForm(request.POST)
        if not form.is_valid():
            self.message_user(request, "Give the order numbers.", messages.ERROR)
            return self._back(conversation)
        return self._run(
            request,
            conversation,
            lambda: order_services.link_conversation_orders(
                conversation=conversation, numbers=form.numbers_list()
            ),
            "Orders linked.",
        )

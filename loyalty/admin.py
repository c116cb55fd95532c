from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from loyalty import services
from loyalty.forms import AdjustmentForm, StoredValueAdjustmentForm, StoredValueBlockForm
from loyalty.models import (
    Account,
    Card,
    EarnRule,
    PointsAdjustmentRequest,
    PointsEntry,
    Programme,
    StoredValueCard,
    StoredValueEntry,
    StoredValueProgramme,
    Tier,
)
from omni.core.admin_support import ReadOnlyAdminMixin, ReadOnlyTabularInline, run_for_each
from omni.core.errors import DomainError


class TierInline(admin.TabularInline):
    model = Tier
    extra = 0


class EarnRuleInline(admin.StackedInline):
    model = EarnRule
    extra = 0
    fieldsets = [
        (None, {"fields": [("name", "kind", "is_active"), ("starts_at", "ends_at")]}),
        (
            "What it applies to and gives",
            {
                "fields": [
                    ("channel", "category", "action", "campaign_code"),
                    ("multiplier", "bonus_points"),
                ]
            },
        ),
    ]


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "points_per_currency_unit",
        "pending_days",
        "expiry_days",
        "adjustment_approval_threshold",
    ]
    inlines = [TierInline, EarnRuleInline]


def _staff_member(request: HttpRequest) -> User:
    """Who is signed in to the admin (the admin site lets only staff users in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


class CardInline(admin.TabularInline):
    model = Card
    extra = 0
    fields = ("number", "status", "issued_at", "blocked_at", "blocked_reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["customer", "tier", "available", "pending", "joined_at"]
    list_filter = ["tier", "programme"]
    list_select_related = ["customer", "tier"]
    search_fields = ["customer__email", "customer__phone", "customer__last_name", "cards__number"]
    readonly_fields = (
        "customer",
        "programme",
        "tier",
        "tier_anniversary",
        "available",
        "pending",
        "joined_at",
        "ledger",
    )
    fields = readonly_fields
    inlines = [CardInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # accounts open on first use (enrol), with a card

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False

    @admin.display(description="Ledger")
    def ledger(self, account: Account) -> str:
        entries = (
            reverse("admin:loyalty_pointsentry_changelist") + f"?account__id__exact={account.pk}"
        )
        adjust = reverse("admin:loyalty_account_adjust", args=[account.pk])
        return format_html(
            '<a href="{}">All points entries</a> · <a href="{}">Adjust points…</a>',
            entries,
            adjust,
        )

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<int:account_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="loyalty_account_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, account_id: int) -> HttpResponse:
        """A manual adjustment, always with a reason, through the same service as every debit."""
        if not request.user.has_perm("loyalty.add_pointsentry"):
            messages.error(request, "You may not adjust points.")
            return redirect("admin:loyalty_account_change", account_id)
        account = get_object_or_404(
            Account.objects.select_related("customer", "programme"), pk=account_id
        )
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            points = form.cleaned_data["points"]
            try:
                outcome = services.request_points_adjustment(
                    account=account,
                    points=points,
                    reason=form.cleaned_data["reason"],
                    requested_by=_staff_member(request),
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if isinstance(outcome, PointsAdjustmentRequest):
                    messages.warning(
                        request,
                        f"{points:+d} points is more than "
                        f"{account.programme.adjustment_approval_threshold} points: the "
                        "adjustment waits for another person's approval (Loyalty → Points "
                        "adjustment requests) and the balance is unchanged until then.",
                    )
                else:
                    messages.success(request, f"{points:+d} points recorded.")
                return redirect("admin:loyalty_account_change", account.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust points of {account.customer}",
            "account": account,
            "approval_threshold": account.programme.adjustment_approval_threshold,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/loyalty/adjust_points.html", context)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "available", "pending", "source", "reference"]
    list_filter = ["kind", "source", "channel", "created_at"]
    list_select_related = ["account__customer"]
    search_fields = ["reference", "account__customer__email", "idempotency_key"]
    date_hierarchy = "created_at"


@admin.register(Card)
class CardAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["number", "account", "status", "issued_at", "blocked_at"]
    list_filter = ["status"]
    list_select_related = ["account__customer"]
    search_fields = ["number", "account__customer__email"]
    actions = ["block_and_replace"]

    def has_change_permission(self, request: HttpRequest, obj: Card | None = None) -> bool:
        return request.user.has_perm("loyalty.change_card") and obj is None

    @admin.action(description="Block as lost and issue a new card", permissions=["change"])
    def block_and_replace(self, request: HttpRequest, queryset: QuerySet[Card]) -> None:
        for card in queryset.filter(status=Card.Status.ACTIVE).select_related("account"):
            new = services.replace_card(
                account=card.account,
                reason=f"Reported lost to {request.user}",
                actor=_staff_member(request),
            )
            messages.success(request, f"Card {card.number} blocked; new card {new.number}.")


@admin.register(PointsAdjustmentRequest)
class PointsAdjustmentRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Large manual adjustments waiting for a second person (asked for on an account's
    "Adjust points…" page); approving posts them to the ledger once."""

    list_display = (
        "requested_at",
        "account",
        "points",
        "reason",
        "requested_by",
        "status",
        "decided_by",
        "decided_at",
    )
    list_filter = ["status", "requested_at"]
    list_select_related = ["account__customer", "requested_by", "decided_by"]
    search_fields = ["account__customer__email", "reason", "requested_by__username"]
    fields = (*list_display, "entry")
    readonly_fields = fields
    actions = ["approve_selected", "reject_selected"]

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(services.APPROVE_ADJUSTMENTS)

    @admin.action(description="Approve and post the selected adjustments", permissions=["approve"])
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[PointsAdjustmentRequest]
    ) -> None:
        self._decide(request, queryset, services.approve_points_adjustment, "approved and posted")

    @admin.action(description="Reject the selected adjustments", permissions=["approve"])
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[PointsAdjustmentRequest]
    ) -> None:
        self._decide(request, queryset, services.reject_points_adjustment, "rejected")

    def _decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[PointsAdjustmentRequest],
        decision: Callable[..., object],
        done: str,
    ) -> None:
        """Each selected pending request on its own (one refusal stops no other)."""
        run_for_each(
            self,
            request,
            queryset.filter(status=PointsAdjustmentRequest.Status.PENDING),
            decision,
            argument="adjustment",
            approver=_staff_member(request),
            label=str,
            done=done,
            noun="adjustment",
        )


# --- Stored-value cards -------------------------------------------------------------------------


@admin.register(StoredValueProgramme)
class StoredValueProgrammeAdmin(admin.ModelAdmin):
    """Top-up limits, maximum balance, expiry and inactivity months: as the law of the
    retailer's country requires (the nightly run expires balances by these rules)."""

    list_display = [
        "name",
        "currency",
        "min_top_up",
        "max_top_up",
        "max_balance",
        "expiry_months",
        "inactivity_months",
    ]


class StoredValueEntryInline(ReadOnlyTabularInline):
    model = StoredValueEntry
    fields = ("created_at", "kind", "amount", "balance_after", "source", "reference", "reason")
    readonly_fields = fields
    ordering = ["-created_at", "-pk"]
    show_change_link = False


@admin.register(StoredValueCard)
class StoredValueCardAdmin(admin.ModelAdmin):
    list_display = ["number", "kind", "customer", "status", "balance", "currency", "issued_at"]
    list_filter = ["status", "kind", "programme"]
    list_select_related = ["customer"]
    search_fields = ["=number", "customer__email", "recipient_email"]
    readonly_fields = (
        "number",
        "public_id",
        "kind",
        "programme",
        "currency",
        "status",
        "customer",
        "balance",
        "issued_at",
        "last_used_at",
        "expires_at",
        "blocked_at",
        "blocked_reason",
        "replaced_by",
        "recipient_email",
        "card_actions",
    )
    fields = readonly_fields
    inlines = [StoredValueEntryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # cards are issued by the services (wallet, gift card sold or bought)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.display(description="Actions")
    def card_actions(self, card: StoredValueCard) -> str:
        adjust = reverse("admin:loyalty_storedvaluecard_adjust", args=[card.pk])
        block = reverse("admin:loyalty_storedvaluecard_block", args=[card.pk])
        return format_html(
            '<a href="{}">Adjust balance…</a> · <a href="{}">Block or replace…</a>', adjust, block
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:card_id>/adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="loyalty_storedvaluecard_adjust",
            ),
            path(
                "<int:card_id>/block/",
                self.admin_site.admin_view(self.block_view),
                name="loyalty_storedvaluecard_block",
            ),
            *super().get_urls(),
        ]

    def adjust_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        """A correction with a reason, by whoever holds ``loyalty.adjust_stored_value``."""
        if not request.user.has_perm(services.ADJUST_STORED_VALUE):
            messages.error(request, "You may not adjust stored-value balances.")
            return redirect("admin:loyalty_storedvaluecard_change", card_id)
        card = get_object_or_404(StoredValueCard, pk=card_id)
        form = StoredValueAdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                entry = services.adjust_stored_value(
                    card=card,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    actor=_staff_member(request),
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request, f"{entry.amount:+} {entry.currency} recorded: {entry.balance_after}."
                )
                return redirect("admin:loyalty_storedvaluecard_change", card.pk)
        return self._card_form(request, card, form, "Adjust the balance", "Record adjustment")

    def block_view(self, request: HttpRequest, card_id: int) -> HttpResponse:
        """Block a card, or replace a lost one keeping its balance (one transaction)."""
        if not request.user.has_perm(services.BLOCK_STORED_VALUE):
            messages.error(request, "You may not block or replace stored-value cards.")
            return redirect("admin:loyalty_storedvaluecard_change", card_id)
        card = get_object_or_404(StoredValueCard, pk=card_id)
        form = StoredValueBlockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason, staff = form.cleaned_data["reason"], _staff_member(request)
            try:
                if form.cleaned_data["action"] == "replace":
                    new = services.replace_stored_value_card(card=card, reason=reason, actor=staff)
                    messages.success(
                        request, f"Card replaced: the new card {new.number} holds {new.balance}."
                    )
                    return redirect("admin:loyalty_storedvaluecard_change", new.pk)
                services.block_stored_value_card(card=card, reason=reason, actor=staff)
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Card blocked; its balance stays on it.")
                return redirect("admin:loyalty_storedvaluecard_change", card.pk)
        return self._card_form(request, card, form, "Block or replace the card", "Confirm")

    def _card_form(
        self, request: HttpRequest, card: StoredValueCard, form: object, title: str, submit: str
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {card}",
            "card": card,
            "form": form,
            "submit": submit,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/loyalty/stored_value_card_form.html", context)


@admin.register(StoredValueEntry)
class StoredValueEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "card", "kind", "amount", "balance_after", "source", "reference"]
    list_filter = ["kind", "source", "channel", "created_at"]
    list_select_related = ["card"]
    search_fields = ["=card__number", "reference", "card__customer__email"]
    date_hierarchy = "created_at"

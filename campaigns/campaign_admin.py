"""Admin for campaigns (registered by importing this module from ``campaigns.admin``): the
campaign with its variants inline (content per channel, the SMS length and parts shown),
actions that move it through its life, a preview as a chosen customer would get it, and a
test send to the marketer's own e-mail. Every rule is the services'; a running, paused or
completed campaign is shown read-only."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from campaigns import selectors, services
from campaigns.models import Campaign, CampaignRecipient, CampaignVariant, JourneyStep
from omni.core.admin_support import run_for_each

RUN_CAMPAIGN = "campaigns.run_campaign"


class ChannelOrderField(forms.CharField):
    """The channel preference typed as "push, email, sms" (first reachable wins)."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return ", ".join(value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip().lower() for part in text.split(",") if part.strip()]


def _trigger_choices() -> list[tuple[str, str]]:
    return [("", "-"), *((name, t.label) for name, t in services.TRIGGERS.items())]


class CampaignForm(forms.ModelForm):
    channels = ChannelOrderField(
        required=False,
        help_text="In order of preference, e.g. <code>push, email, sms</code>: each customer "
        "gets the first they consented to and can be reached on.",
    )
    trigger = forms.ChoiceField(choices=_trigger_choices, required=False)

    def clean_trigger_params(self) -> Any:
        return self.cleaned_data.get("trigger_params") or {}

    class Meta:
        model = Campaign
        fields = [
            "name",
            "segment",
            "channels",
            "offer",
            "coupon",
            "code_batch",
            "kind",
            "send_at",
            "local_time",
            "holdout_percent",
            "conversion_window_days",
            "test_percent",
            "winner_after_hours",
            "winner_metric",
            "cost",
            "trigger",
            "trigger_params",
            "exit_on_purchase",
            "ends_at",
        ]


def _personalisation_help() -> str:
    rows = format_html_join(
        "", "<li><code>{{{{ {} }}}}</code>: {}</li>", services.VARIABLES.items()
    )
    return format_html(
        "Personalise with <ul>{}</ul>Filters: <code>upper</code>, <code>lower</code>, "
        '<code>capfirst</code>, <code>default:"…"</code>. Nothing else (no tags).',
        rows,
    )


class EditableUntilLocked(admin.options.InlineModelAdmin):
    """An inline of what a campaign says or does: read-only once it runs, ran or was
    cancelled."""

    def _editable(self, obj: Campaign | None) -> bool:
        return obj is None or not (obj.is_locked or obj.status == Campaign.Status.CANCELLED)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


class VariantInline(EditableUntilLocked, admin.StackedInline):
    model = CampaignVariant
    extra = 0
    min_num = 1
    readonly_fields = ["sms_length"]
    fieldsets = [
        (None, {"fields": ["code", "weight"], "description": _personalisation_help()}),
        ("E-mail", {"fields": ["email_subject", "email_html", "email_text"]}),
        ("SMS", {"fields": ["sms_text", "sms_length"]}),
        ("Push", {"fields": ["push_title", "push_body", "push_link"]}),
        ("In store", {"fields": ["counter_message"]}),
    ]

    @admin.display(description="SMS length")
    def sms_length(self, variant: CampaignVariant) -> str:
        """As written (personalised values change it: the preview shows each customer's)."""
        return str(services.sms_length(variant.sms_text)) if variant.sms_text else "-"


def _triggers_help() -> str:
    rows = format_html_join(
        "",
        "<li><code>{}</code>: {}. Parameters: {}. Message values: {}.</li>",
        (
            (
                name,
                t.label,
                ", ".join(f"{k} ({p.help}, default {p.default})" for k, p in t.params.items())
                or "none",
                ", ".join(f"{{{{ {k} }}}}" for k in t.variables) or "none",
            )
            for name, t in services.TRIGGERS.items()
        ),
    )
    return format_html(
        "A journey (kind <em>triggered</em>) enrols each customer once per occasion of its "
        "trigger, then runs its steps in order.<ul>{}</ul>",
        rows,
    )


class StepFormSet(forms.BaseInlineFormSet):
    """The steps, checked against the variants written beside them: a message step must have
    content to send in every channel of the journey."""

    variant_formset: forms.BaseInlineFormSet | None = None

    def clean(self) -> None:
        super().clean()
        if self.variant_formset is None or any(self.errors):
            return
        written = {
            data["code"]: data
            for data in (
                getattr(form, "cleaned_data", None) or {} for form in self.variant_formset.forms
            )
            if data.get("code") and not data.get("DELETE")
        }
        channels = [c for c in self.data.get("channels", "").replace(" ", "").split(",") if c]
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or data.get("kind") != JourneyStep.Kind.MESSAGE:
                continue
            code = data.get("variant_code") or ""
            sent = [written[code]] if code in written else [] if code else list(written.values())
            empty = [
                name
                for variant in sent
                for channel in channels
                for name in CampaignVariant.CHANNEL_FIELDS.get(channel, ())
                if not (variant.get(name) or "").strip()
            ]
            if not sent or empty:
                form.add_error(
                    "variant_code",
                    f"This message step has no content: write variant {code or 'A'}"
                    + (f" ({', '.join(sorted(set(empty)))})." if empty else "."),
                )


class JourneyStepForm(forms.ModelForm):
    class Meta:
        model = JourneyStep
        fields = ["position", "kind", "wait_hours", "rules", "variant_code"]

    def clean_rules(self) -> Any:
        return self.cleaned_data.get("rules") or {}


class JourneyStepInline(EditableUntilLocked, admin.TabularInline):
    model = JourneyStep
    form = JourneyStepForm
    formset = StepFormSet
    extra = 0
    fields = ["position", "kind", "wait_hours", "rules", "variant_code"]


# The funnel chart: one group of bars per channel, one bar per step, on one scale.
FUNNEL_STEPS = ("messages", "sent", "opened", "clicked", "converted")
FUNNEL_COLOURS = ("#79aec8", "#417690", "#5b80b2", "#e09f3e", "#3a7d44")
BAR, GAP, LABEL_WIDTH, BAR_WIDTH = 12, 4, 90, 420


def funnel_chart(channels: list[selectors.ChannelDelivery]) -> dict[str, Any]:
    """Bars as SVG coordinates (the template draws them)."""
    top = max((c.messages for c in channels), default=0) or 1
    group = len(FUNNEL_STEPS) * (BAR + GAP) + 2 * GAP
    rows = []
    for index, counts in enumerate(channels):
        y = index * group
        bars = [
            {
                "x": LABEL_WIDTH,
                "y": y + step * (BAR + GAP),
                "width": round(getattr(counts, name) / top * BAR_WIDTH, 1),
                "colour": FUNNEL_COLOURS[step],
                "title": f"{counts.channel}, {name}: {getattr(counts, name)}",
            }
            for step, name in enumerate(FUNNEL_STEPS)
        ]
        rows.append({"label": counts.channel, "text_y": y + group // 2, "bars": bars})
    return {
        "width": LABEL_WIDTH + BAR_WIDTH + 10,
        "height": max(len(channels) * group, 1),
        "label_x": LABEL_WIDTH - 6,
        "rows": rows,
        "legend": list(zip(FUNNEL_COLOURS, FUNNEL_STEPS, strict=True)),
    }


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    inlines = [VariantInline, JourneyStepInline]
    list_display = ["name", "status", "kind", "segment", "send_at", "progress"]
    list_filter = ["status", "kind"]
    list_select_related = ["segment"]
    search_fields = ["name"]
    readonly_fields = [
        "preview_link",
        "public_id",
        "status",
        "progress",
        "by_variant",
        "delivery",
        "results",
        "started_at",
        "finished_at",
        "winner_line",
        "funnel",
    ]
    actions = ["schedule", "start", "pause", "resume", "cancel"]

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        """The steps of a journey: on its page, or on the add page asked for a journey
        (``?kind=triggered``)."""
        kind = request.POST.get("kind") or request.GET.get("kind")
        if (obj is not None and obj.is_journey) or (obj is None and kind == "triggered"):
            return [VariantInline, JourneyStepInline]
        return [VariantInline]

    def _create_formsets(self, request: HttpRequest, obj: Any, change: bool) -> Any:
        # Django's own builder of the inline formsets (private, stable since 1.x): the steps'
        # formset is handed the variants' so it can tell a message step without content.
        formsets, inline_instances = super()._create_formsets(  # type: ignore[misc]
            request, obj, change
        )
        variants = next((f for f in formsets if f.model is CampaignVariant), None)
        for formset in formsets:
            if isinstance(formset, StepFormSet):
                formset.variant_formset = variants
        return formsets, inline_instances

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        journey = [
            "trigger",
            "trigger_params",
            "exit_on_purchase",
            "ends_at",
            *(["funnel"] if obj is not None and obj.is_journey else []),
        ]
        return [
            (None, {"fields": ["name", "segment", "channels", "preview_link"]}),
            ("Offer", {"fields": ["offer", "coupon", "code_batch"]}),
            ("When", {"fields": ["kind", "send_at", "local_time"]}),
            ("Journey", {"fields": journey, "description": _triggers_help()}),
            ("Measure", {"fields": ["holdout_percent", "conversion_window_days", "cost"]}),
            (
                "Send the winner",
                {
                    "fields": [
                        "test_percent",
                        "winner_after_hours",
                        "winner_metric",
                        "winner_line",
                    ],
                    "description": "Optional: test the variants on a share of the audience "
                    "first, then send the best to the rest.",
                },
            ),
            (
                "Progress",
                {
                    "fields": [
                        "public_id",
                        "status",
                        "progress",
                        "by_variant",
                        "delivery",
                        "results",
                        "started_at",
                        "finished_at",
                    ]
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and (obj.is_locked or obj.status == Campaign.Status.CANCELLED):
            # Locked: what it says and to whom stays as it ran (the model refuses it too);
            # its cost is often known only afterwards, so it stays editable.
            locked = [name for name in CampaignForm.Meta.fields if name != "cost"]
            return [*locked, *self.readonly_fields]
        return self.readonly_fields

    @admin.display(description="progress")
    def progress(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "-"
        return (
            f"{campaign.recipient_count} reached: {campaign.queued_count} queued, "
            f"{campaign.suppressed_count} suppressed, {campaign.unreachable_count} not "
            f"reachable, {campaign.holdout_count} held out"
        )

    @admin.display(description="winner")
    def winner_line(self, campaign: Campaign) -> str:
        if not campaign.tests_first:
            return "-"
        if campaign.winner is not None:
            return f"Variant {campaign.winner.code}, sent to the rest"
        if campaign.winner_due_at is not None:
            return f"Chosen at {timezone.localtime(campaign.winner_due_at):%Y-%m-%d %H:%M}"
        return "Chosen once the test share is sent"

    @admin.display(description="recipients per variant")
    def by_variant(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "-"
        rows = (
            CampaignRecipient.objects.filter(campaign=campaign)
            .values("variant__code", "channel", "reason")
            .annotate(n=Count("pk"))
            .order_by("variant__code", "channel", "reason")
        )
        return format_html(
            "<table><thead><tr><th>variant</th><th>channel</th><th>not sent because</th>"
            "<th>recipients</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        r["variant__code"] or "holdout",
                        r["channel"] or "-",
                        r["reason"] or "-",
                        r["n"],
                    )
                    for r in rows
                ),
            ),
        )

    @admin.display(description="delivery")
    def delivery(self, campaign: Campaign) -> str:
        """Per channel, what became of the messages in the outbox, who bought after them and
        for how much, as a table and a funnel chart; the codes used per channel."""
        if campaign.pk is None or campaign.status == Campaign.Status.DRAFT:
            return "-"
        funnel = selectors.campaign_delivery(campaign)

        def reasons(counts: dict[str, int]) -> str:
            return ", ".join(f"{reason}: {n}" for reason, n in sorted(counts.items())) or "-"

        return render_to_string(
            "admin/campaigns/campaign/delivery.html",
            {
                "channels": [(c, reasons(c.suppressed)) for c in funnel.channels],
                "chart": funnel_chart(funnel.channels),
                "not_sent": reasons(funnel.not_sent),
                "uses": ", ".join(
                    f"{channel}: {n} uses, {discount} off"
                    for channel, (n, discount) in funnel.redemptions.items()
                ),
            },
        )

    @admin.display(description="enrollment funnel")
    def funnel(self, campaign: Campaign) -> str:
        """Per step: who got there, who waits there, who left before it and why, what was
        sent; and the journey's totals."""
        if campaign.pk is None or not campaign.is_journey:
            return "-"
        funnel = selectors.journey_funnel(campaign)

        def counts(by: dict[str, int]) -> str:
            return ", ".join(f"{key}: {n}" for key, n in sorted(by.items())) or "-"

        return format_html(
            "<p>Entered {}, in the journey {}, completed {}, exited {} ({}).</p>"
            "<table><thead><tr><th>step</th><th></th><th>reached</th><th>waiting</th>"
            "<th>exited before it</th><th>sent</th><th>not sent</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            funnel.entered,
            funnel.active,
            funnel.completed,
            sum(funnel.exited.values()),
            counts(funnel.exited),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td>{}</td></tr>",
                (
                    (
                        step.position,
                        step.label,
                        step.reached,
                        step.waiting,
                        counts(step.exited),
                        step.sent,
                        counts(step.not_sent),
                    )
                    for step in funnel.steps
                ),
            ),
        )

    @admin.display(description="results")
    def results(self, campaign: Campaign) -> str:
        """Conversions from orders in the window (intent to treat, against the holdout); a
        journey's per enrollment, from its first message."""
        if campaign.pk is None or campaign.status == Campaign.Status.DRAFT:
            return "-"

        def uplift(row: services.GroupResult) -> str:
            if row.uplift is None:
                return "-"
            ci = (
                f" (95 % CI {row.uplift.low:+.2%} to {row.uplift.high:+.2%})"
                if row.uplift.low is not None and row.uplift.high is not None
                else " (too few conversions for an interval)"
            )
            verdict = ", significant" if row.uplift.significant else ""
            return f"{row.uplift.absolute:+.2%}{ci}{verdict}"

        return format_html(
            "<table><thead><tr><th>group</th><th>recipients</th><th>converted</th>"
            "<th>rate</th><th>revenue per recipient</th><th>uplift vs holdout</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.label,
                        row.recipients,
                        row.conversions,
                        f"{row.conversion_rate:.2%}",
                        row.revenue_per_recipient,
                        uplift(row),
                    )
                    for row in (
                        selectors.journey_results(campaign)
                        if campaign.is_journey
                        else selectors.campaign_results(campaign)
                    )
                ),
            ),
        )

    @admin.display(description="preview")
    def preview_link(self, campaign: Campaign) -> str:
        if campaign.pk is None:
            return "Save the campaign first."
        url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
        return format_html(
            '<a href="{}">Preview it as a customer would get it, and send yourself a test</a>',
            url,
        )

    # --- Actions: each calls a service, refusals shown per campaign

    def has_run_campaign_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(RUN_CAMPAIGN)

    def _run(
        self, request: HttpRequest, queryset: QuerySet[Campaign], service: Any, done: str
    ) -> None:
        run_for_each(
            self,
            request,
            queryset,
            service,
            argument="campaign",
            label=str,
            done=done,
            noun="campaign",
        )

    @admin.action(description="Schedule the selected campaigns", permissions=["run_campaign"])
    def schedule(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run(request, queryset, services.schedule_campaign, "scheduled")

    @admin.action(description="Start sending now", permissions=["run_campaign"])
    def start(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run(request, queryset, services.start_campaign, "started")

    @admin.action(description="Pause", permissions=["run_campaign"])
    def pause(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run(request, queryset, services.pause_campaign, "paused")

    @admin.action(description="Resume", permissions=["run_campaign"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run(request, queryset, services.resume_campaign, "resumed")

    @admin.action(description="Cancel", permissions=["run_campaign"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self._run(request, queryset, services.cancel_campaign, "cancelled")

    # --- Preview and test send

    def get_urls(self) -> list[Any]:
        own = [
            path(
                "<int:pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="campaigns_campaign_preview",
            ),
        ]
        return [*own, *super().get_urls()]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The campaign rendered for a customer (public id or e-mail) in every channel; a
        POST with ``test_send`` e-mails the variant chosen to the marketer."""
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        form = PreviewForm(request.POST or request.GET or None)
        preview = None
        if form.is_bound and form.is_valid():
            customer = selectors.customer_for_preview(form.cleaned_data["customer"])
            if customer is None:
                form.add_error("customer", "No customer has this public id or e-mail.")
            else:
                preview = selectors.preview_campaign(campaign, customer)
                if request.method == "POST" and "test_send" in request.POST:
                    return self._test_send(request, campaign, preview, form)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Preview of {campaign}",
            "opts": self.opts,
            "campaign": campaign,
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/campaigns/campaign/preview.html", context)

    def _test_send(
        self,
        request: HttpRequest,
        campaign: Campaign,
        preview: selectors.CampaignPreview,
        form: "PreviewForm",
    ) -> HttpResponse:
        """The e-mail of the chosen variant, as this customer would get it, to the marketer.
        Sent with Django's ``send_mail`` directly: the outbox (``customers.notifications``)
        only sends to customers, under their consent, and records it as their message; a test
        to a staff member is neither."""
        address = getattr(request.user, "email", "")
        back = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
        back += f"?customer={form.cleaned_data['customer']}"
        if not address:
            self.message_user(request, "Your account has no e-mail address.", messages.ERROR)
            return redirect(back)
        code = form.cleaned_data.get("variant") or preview.variants[0].code
        variant = next((v for v in preview.variants if v.code == code), preview.variants[0])
        email = next(
            (m for m in variant.messages if m.channel == "email"),
            None,
        )
        if email is None:
            self.message_user(request, "The campaign sends no e-mail.", messages.ERROR)
            return redirect(back)
        send_mail(
            subject=f"[Test] {email.subject}",
            message=email.body,
            from_email=None,
            recipient_list=[address],
            html_message=email.html or None,
        )
        self.message_user(request, f"Test e-mail of variant {variant.code} sent to {address}.")
        return redirect(back)


class PreviewForm(forms.Form):
    customer = forms.CharField(label="Customer", help_text="Their public id or e-mail.")
    variant = forms.CharField(
        required=False, help_text="For the test send (the first variant when empty)."
    )

"""Forms of the clerk pages: they read what the clerk typed; the services decide."""

import uuid

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from omni.clerk.selectors import ShipmentWork
from orders.models import Order, ShipmentLine
from orders.services import ReturnedItem, Tracking


class ClerkLoginForm(AdminAuthenticationForm):
    """Django's staff log-in: only active staff accounts get in."""


class HandOverForm(forms.Form):
    code = forms.CharField(
        label="Pick-up code",
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "placeholder": "6 digits"}
        ),
    )


class ReturnForm(forms.Form):
    """One quantity and one restock-or-damaged choice per line that can still come back, and a
    one-time token: submitting the same form twice takes the return once."""

    RESTOCK_CHOICES = [("restock", "Back to stock"), ("damaged", "Damaged")]

    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4()
        self.rows = []
        for line in order.lines.all():
            left = line.quantity - line.returned_quantity
            if left <= 0:
                continue
            quantity, condition = f"quantity_{line.pk}", f"condition_{line.pk}"
            self.fields[quantity] = forms.IntegerField(
                label=f"{line.sku.code} quantity",
                min_value=0,
                initial=0,
                widget=forms.NumberInput(
                    attrs={"max": left, "class": "qty", "aria-label": f"{line.sku.code} quantity"}
                ),
            )
            self.fields[condition] = forms.ChoiceField(
                label=f"{line.sku.code} condition",
                choices=self.RESTOCK_CHOICES,
                initial="restock",
                widget=forms.Select(attrs={"aria-label": f"{line.sku.code} condition"}),
            )
            self.rows.append((line, left, self[quantity], self[condition]))

    def items(self) -> list[ReturnedItem]:
        """What comes back (lines left at 0 stay out); the service checks the quantities."""
        return [
            ReturnedItem(
                order_line_id=line.pk,
                quantity=self.cleaned_data[quantity.name],
                restock=self.cleaned_data[condition.name] == "restock",
            )
            for line, _, quantity, condition in self.rows
            if self.cleaned_data[quantity.name]
        ]

    def idempotency_key(self, order: Order) -> str:
        return f"clerk-return:{order.number}:{self.cleaned_data['token']}"


class SaleLineForm(forms.Form):
    """An item for the sale: its SKU code, or its barcode as a scanner types it."""

    sku = forms.CharField(
        label="SKU code or barcode",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    quantity = forms.IntegerField(
        label="Quantity", initial=1, widget=forms.NumberInput(attrs={"class": "qty", "min": 1})
    )


class WishListItemForm(forms.Form):
    """An item the customer wants to save at the counter: a product code (any size or
    colour), a SKU code, or the barcode on the label."""

    code = forms.CharField(
        label="Product or SKU code, or barcode",
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class CouponForm(forms.Form):
    code = forms.CharField(
        label="Coupon code",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


class CompleteSaleForm(forms.Form):
    """Points to redeem (a known customer only, whose loyalty card the clerk scans: proof that
    the customer is there) and a one-time token: submitting the same form twice makes one sale."""

    token = forms.UUIDField(widget=forms.HiddenInput)
    redeem_points = forms.IntegerField(
        label="Points to redeem",
        min_value=0,
        required=False,
        widget=forms.NumberInput(attrs={"class": "qty", "min": 0}),
    )
    card = forms.CharField(
        label="Scan the customer's card to redeem points",
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    stored_value_card = forms.CharField(
        label="Gift or wallet card to pay with",
        max_length=32,
        required=False,
        help_text="Scan or type it: it pays first, up to its balance; the till takes the rest.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4()

    def idempotency_key(self) -> str:
        return f"clerk-sale:{self.cleaned_data['token']}"

    def points(self) -> int:
        return self.cleaned_data["redeem_points"] or 0

    def card_number(self) -> str:
        return self.cleaned_data["card"]


# --- Ship from store: each form checks what was sent is well formed and names lines of this
# shipment; the shipping services decide whether the step can be done.


class LineChoices(forms.TypedMultipleChoiceField):
    """Lines of one shipment, by id (any status: the service says why one cannot be used)."""

    def __init__(self, lines: list[ShipmentLine], **kwargs):
        choices = [(line.pk, line.order_line.sku.code) for line in lines]
        super().__init__(choices=choices, coerce=int, **kwargs)


class PickForm(forms.Form):
    """The lines the clerk ticked on the pick list as found on the shelf."""

    def __init__(self, *args, work: ShipmentWork, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"] = LineChoices(
            [row.line for row in work.rows],
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": "Tick the lines you picked."},
        )

    def line_ids(self) -> list[int]:
        return self.cleaned_data["lines"]


class ShortForm(forms.Form):
    """A line the store cannot find, and what the clerk saw."""

    note = forms.CharField(
        label="Note (what you found)",
        max_length=255,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "e.g. only a damaged one on the shelf"}),
    )

    def __init__(self, *args, work: ShipmentWork, **kwargs):
        super().__init__(*args, **kwargs)
        # Offered: the lines that can still be reported. Accepted: any line of the shipment,
        # so that a report sent twice gets the service's reason, not "not a valid choice".
        rows = work.rows if self.is_bound else work.movable
        self.fields["line"] = forms.TypedChoiceField(
            coerce=int,
            label="Line",
            choices=[
                (row.line.pk, f"{row.line.quantity} x {row.line.order_line.sku.code}")
                for row in rows
            ],
        )


class PackForm(forms.Form):
    """How many of each picked line's units go into the new parcel (by default all those not
    packed yet), and a one-time token: the same form sent twice packs one parcel."""

    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, work: ShipmentWork, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4()
        self.rows = []
        for row in work.to_pack:
            code = row.line.order_line.sku.code
            name = f"units_{row.line.pk}"
            self.fields[name] = forms.IntegerField(
                label=f"{code} units",
                min_value=0,
                max_value=row.to_pack,
                initial=row.to_pack,
                widget=forms.NumberInput(attrs={"class": "qty", "aria-label": f"{code} units"}),
            )
            self.rows.append((row, self[name]))

    def clean(self):
        cleaned = super().clean()
        if self.rows and not self.errors and not self.contents():
            raise forms.ValidationError("Say how many units go into this parcel.")
        return cleaned

    def contents(self) -> dict[int, int]:
        """{shipment line id: units} for the lines with units to pack."""
        return {
            row.line.pk: self.cleaned_data[field.name]
            for row, field in self.rows
            if self.cleaned_data.get(field.name)
        }


class ShipParcelForm(forms.Form):
    """What a packed parcel leaves with: the carrier, its tracking number and the link the
    customer follows."""

    carrier = forms.CharField(
        label="Carrier",
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Colissimo"}),
    )
    tracking_number = forms.CharField(
        label="Tracking number",
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    tracking_url = forms.URLField(
        label="Tracking link",
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://..."}),
    )

    def tracking(self) -> Tracking:
        data = self.cleaned_data
        return Tracking(data["carrier"], data["tracking_number"], data["tracking_url"])


class TakeOverForm(forms.Form):
    """The lines of another location's shipment that the clerk's store ships instead (the
    page sends those it offered; any line of the shipment is accepted, so that a form sent
    twice gets the service's reason)."""

    def __init__(self, *args, work: ShipmentWork, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"] = LineChoices([row.line for row in work.rows])

    def line_ids(self) -> list[int]:
        return self.cleaned_data["lines"]


class StoredValueLookupForm(forms.Form):
    card = forms.CharField(
        label="Gift or wallet card",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "inputmode": "numeric", "autofocus": True}
        ),
    )


class _OneTimeForm(forms.Form):
    """A one-time token: submitting the same form twice loads the card once."""

    token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["token"] = uuid.uuid4()

    def idempotency_key(self) -> str:
        return str(self.cleaned_data["token"])


class StoredValueTopUpForm(_OneTimeForm):
    """Money taken at the till and put on the scanned card."""

    card = forms.CharField(max_length=32, widget=forms.HiddenInput)
    amount = forms.DecimalField(label="Top up by", max_digits=12, decimal_places=2, min_value=0)


class GiftCardSaleForm(_OneTimeForm):
    """A gift card sold here: paid at the till, loaded at once, optionally e-mailed."""

    amount = forms.DecimalField(label="Value", max_digits=12, decimal_places=2, min_value=0)
    recipient_email = forms.EmailField(label="Send it to (e-mail, optional)", required=False)
    message = forms.CharField(label="Message", max_length=500, required=False)


class StoreNoteForm(forms.Form):
    """What the customer asked or said at the counter: a note on one of their open
    conversations, or (none chosen) a new conversation with this subject."""

    conversation = forms.UUIDField(required=False, widget=forms.HiddenInput)
    subject = forms.CharField(label="Subject", max_length=200, required=False)
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        cleaned = super().clean() or {}
        if not cleaned.get("conversation") and not (cleaned.get("subject") or "").strip():
            self.add_error("subject", "Say what it is about.")
        return cleaned


class ConversationReplyForm(forms.Form):
    body = forms.CharField(label="Reply", widget=forms.Textarea(attrs={"rows": 2}))

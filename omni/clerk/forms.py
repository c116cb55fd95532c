"""Forms of the clerk pages: they read what the clerk typed; the services decide."""

import uuid

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from orders.models import Order
from orders.services import ReturnedItem


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

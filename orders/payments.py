"""The payments boundary: a provider authorises, captures, voids and refunds by reference.
No card data ever reaches Omni; the storefront hands over the provider's token.

``PAYMENT_PROVIDER`` names the class to use. ``DemoProvider`` (demo and tests) accepts every
payment except a token of "decline", which lets tests and the demo show a refusal.
"""

import secrets
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from omni.core.errors import PaymentDeclined


class PaymentProvider(Protocol):
    name: str

    def authorize(self, *, amount: Decimal, currency: str, token: str, reference: str) -> str:
        """Hold ``amount`` on the customer's means of payment; returns the provider's id."""

    def capture(self, *, payment_reference: str, amount: Decimal) -> None: ...

    def void(self, *, payment_reference: str) -> None: ...

    def refund(self, *, payment_reference: str, amount: Decimal) -> None: ...


class DemoProvider:
    name = "demo"

    def authorize(self, *, amount: Decimal, currency: str, token: str, reference: str) -> str:
        if token == "decline":
            raise PaymentDeclined("The payment was declined by the bank.")
        return f"demo_{secrets.token_hex(8)}"

    def capture(self, *, payment_reference: str, amount: Decimal) -> None:
        return None

    def void(self, *, payment_reference: str) -> None:
        return None

    def refund(self, *, payment_reference: str, amount: Decimal) -> None:
        return None


def payment_provider() -> PaymentProvider:
    return import_string(settings.PAYMENT_PROVIDER)()

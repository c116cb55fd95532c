"""How identity values are written before they are stored or looked up, so that
"06 12 34 56 78" and "+33612345678" find the same customer."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from customers.models import Identity
from omni.core.errors import InvalidInput

MAX_IDENTITY_LENGTH = 255


def normalise_email(value: str, *, field: str = "email") -> str:
    email = (value or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            f"{value!r} is not an e-mail address.", details={field: ["Enter a valid e-mail."]}
        ) from None
    return email


def normalise_phone(value: str, *, field: str = "phone") -> str:
    """E.164 (``+33612345678``); numbers without a country code are read in
    ``settings.DEFAULT_PHONE_REGION``."""
    try:
        number = phonenumbers.parse(value or "", settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            f"{value!r} is not a valid phone number.",
            details={field: ["Enter a valid phone number, e.g. +33 6 12 34 56 78."]},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_identity(kind: str, value: str) -> str:
    """The stored form of an identity value; raises ``InvalidInput`` naming the kind."""
    if kind == Identity.Kind.EMAIL:
        return normalise_email(value, field=kind)
    if kind == Identity.Kind.PHONE:
        return normalise_phone(value, field=kind)
    if kind not in Identity.Kind.values:
        raise InvalidInput(
            f"Unknown identity kind {kind!r}.",
            details={"kind": [f"Expected one of {', '.join(Identity.Kind.values)}."]},
        )
    cleaned = (value or "").strip()
    if kind == Identity.Kind.LOYALTY_CARD:
        cleaned = cleaned.replace(" ", "").replace("-", "").upper()
    if not cleaned or len(cleaned) > MAX_IDENTITY_LENGTH:
        raise InvalidInput(
            f"A {kind} identity needs a value of 1 to {MAX_IDENTITY_LENGTH} characters.",
            details={kind: ["Enter a value."]},
        )
    if kind == Identity.Kind.EXTERNAL and ":" not in cleaned.strip(":"):
        raise InvalidInput(
            "An external id names its system, e.g. 'shopify:12345'.",
            details={kind: ["Write it as system:id."]},
        )
    return cleaned

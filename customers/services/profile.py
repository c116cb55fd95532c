"""Changes to a customer's profile, whose e-mail and phone are also identities."""

from collections.abc import Mapping
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from customers.models import Customer, Identity, validate_time_zone
from customers.normalise import normalise_email, normalise_phone
from customers.services.resolution import _identity_filter
from omni.core.errors import Conflict, InvalidInput

PROFILE_FIELDS = {
    "first_name",
    "last_name",
    "email",
    "phone",
    "birthday",
    "preferred_store_code",
    "time_zone",
}


@transaction.atomic
def update_profile(*, customer: Customer, changes: Mapping[str, Any]) -> Customer:
    """Change profile fields. A new e-mail or phone also becomes an identity of the customer;
    one that already identifies someone else is refused (linking two people is a merge, which
    staff decide, not a form)."""
    unknown = set(changes) - PROFILE_FIELDS
    if unknown:
        raise InvalidInput(
            "Unknown profile fields.", details={name: ["Unknown field."] for name in unknown}
        )
    values = dict(changes)
    if values.get("email"):
        values["email"] = normalise_email(values["email"])
    if values.get("phone"):
        values["phone"] = normalise_phone(values["phone"])
    if values.get("time_zone"):
        try:
            validate_time_zone(values["time_zone"])
        except ValidationError as error:
            raise InvalidInput(error.messages[0], details={"time_zone": error.messages}) from None
    birthday = values.get("birthday")
    if birthday is not None and not isinstance(birthday, date):
        raise InvalidInput("Birthday must be a date.", details={"birthday": ["Expected a date."]})
    new_identities = [
        (kind, values[name])
        for name, kind in (("email", Identity.Kind.EMAIL), ("phone", Identity.Kind.PHONE))
        if values.get(name)
    ]
    taken = (
        Identity.objects.filter(_identity_filter(new_identities))
        .exclude(customer=customer)
        .values_list("kind", flat=True)
        if new_identities
        else []
    )
    if taken:
        raise Conflict(
            "This belongs to another customer.",
            details={kind: ["Already identifies another customer."] for kind in taken},
        )
    for name, value in values.items():
        setattr(customer, name, "" if value is None and name != "birthday" else value)
    customer.full_clean(exclude=["password", "email"])
    customer.save()
    known = set(
        customer.identities.filter(_identity_filter(new_identities)).values_list("kind", "value")
    )
    Identity.objects.bulk_create(
        [
            Identity(customer=customer, kind=k, value=v)
            for k, v in new_identities
            if (k, v) not in known
        ]
    )
    return customer

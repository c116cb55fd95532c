"""A clerk form that is sent twice (a double click, a page sent again) acts once, for steps
whose service cannot tell a repeat from a new request (packing two units into a parcel twice
would make two parcels).

The form carries a one-time token. The step runs in a transaction that first claims the token
as an ``IdempotencyRecord`` of the clerk (the API's table of first answers, here with the
clerk page's path): a second claim of the same token, even at the same moment, waits on the
unique constraint until the first commits, then is refused with ``Conflict``, which the page
shows as a message. A refused step rolls its claim back, so the form can be sent again.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction

from omni.core.errors import Conflict
from omni.models import IdempotencyRecord


@contextmanager
def sent_once(
    *, user: AbstractBaseUser | AnonymousUser, path: str, token: uuid.UUID, already: str
) -> Iterator[None]:
    """Run the block once per ``token``; a second time raises ``Conflict(already)``."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                IdempotencyRecord.objects.create(
                    caller=f"user:{user.pk}",
                    method="POST",
                    path=path,
                    key=f"clerk-form:{token}",
                    request_hash="",
                    status_code=200,
                    response_body={},
                )
        except IntegrityError:
            raise Conflict(already, details={"token": str(token)}) from None
        yield

"""Rate limits of the API, per client address, per storefront key, per signed-in customer and
per e-mail address, so that no single header a caller chooses resets them.

A view names its ``throttle_scope`` and lists the kinds it is limited by::

    class SignInView(StorefrontView):
        throttle_scope = "sign_in"
        throttle_classes = [AddressThrottle, StorefrontKeyThrottle, EmailThrottle]

The rate of each (scope, kind) is ``settings.API_RATE_LIMITS["<scope>.<kind>"]``, e.g.
``"sign_in.email": "10/hour"``; a pair without a rate is not limited. Over the limit the API
answers ``429`` (``throttled``) with ``Retry-After``. The address is ``client_ip`` (proxies are
trusted only as configured); the key limit is the storefront's budget as a whole (its key is
public, so it bounds everyone using that app); the customer limit follows a signed-in
customer from address to address; the e-mail limit slows guessing one account's password
from many addresses. Counters live in the default cache, which production must share between
processes (``CACHE_URL``; settings refuse to start without it when ``DEBUG`` is off).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from omni.core.api.auth import StorefrontClient
from omni.core.api.client_ip import client_ip

if TYPE_CHECKING:  # DRF's views import the authentication classes named in settings
    from rest_framework.request import Request
    from rest_framework.views import APIView


class OmniThrottle(SimpleRateThrottle):
    """One kind of limit; subclasses say whose requests count together (``ident``)."""

    kind = ""
    cache_format = "throttle:%(scope)s:%(kind)s:%(ident)s"

    def __init__(self) -> None:
        # The rate is read per request (in ``allow_request``), once the view's scope is known.
        pass

    def allow_request(self, request: Request, view: APIView) -> bool:
        self.scope = getattr(view, "throttle_scope", None)
        self.rate = settings.API_RATE_LIMITS.get(f"{self.scope}.{self.kind}")
        if self.scope is None or self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return bool(super().allow_request(request, view))

    def get_ident(self, request: Request) -> str:
        return client_ip(request)

    def ident(self, request: Request) -> str | None:
        """Whose requests count together, or None when this kind does not apply."""
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        ident = self.ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": self.scope, "kind": self.kind, "ident": ident}


class AddressThrottle(OmniThrottle):
    kind = "address"

    def ident(self, request: Request) -> str | None:
        return self.get_ident(request) or None


class StorefrontKeyThrottle(OmniThrottle):
    kind = "key"

    def ident(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        return str(user.key.pk) if isinstance(user, StorefrontClient) else None


class CustomerThrottle(OmniThrottle):
    kind = "customer"

    def ident(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        if isinstance(user, StorefrontClient) and user.customer is not None:
            return str(user.customer.pk)
        return None


class GuestThrottle(OmniThrottle):
    """Calls with no signed-in customer (guest carts), per address: guests have nothing
    else that identifies them, and a new guest cart costs nothing."""

    kind = "guest"

    def ident(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        if isinstance(user, StorefrontClient) and user.customer is not None:
            return None
        return self.get_ident(request) or None


class EmailThrottle(OmniThrottle):
    """Calls naming the same e-mail address (sign-in, sign-up), from anywhere."""

    kind = "email"

    def ident(self, request: Request) -> str | None:
        data = getattr(request, "data", None)
        email = data.get("email") if isinstance(data, dict) else None
        if not isinstance(email, str) or not email.strip():
            return None
        # Hashed: the cache needs no address in clear, and keys stay short and safe.
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()


class StaffThrottle(OmniThrottle):
    """Calls of a signed-in staff member (back-office endpoints such as the segment admin's
    live count, which runs a query over every customer), from wherever they are."""

    kind = "staff"

    def ident(self, request: Request) -> str | None:
        user = getattr(request, "user", None)
        if getattr(user, "is_staff", False) and user is not None:
            return str(user.pk)
        return None


STOREFRONT_WRITE_THROTTLES = [AddressThrottle, StorefrontKeyThrottle, CustomerThrottle]

"""The address a request really came from, for rate limits and lockouts.

``X-Forwarded-For`` is written by whoever sends the request, so it is trusted only as far as
the proxies we run: with ``TRUSTED_PROXY_COUNT = n`` the n-th address from the right is the
one our outermost proxy saw (each proxy appends the address it received the request from).
With 0, the default, the header is ignored and the socket's address is used.
"""

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac


def client_ip(request: HttpRequest) -> str:
    remote = str(request.META.get("REMOTE_ADDR", ""))
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if count <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if len(forwarded) < count:
        # Fewer hops than proxies we run: the request did not come through them all.
        return remote
    return forwarded[-count]


def client_fingerprint(request: HttpRequest) -> str:
    """The client's address as a keyed hash: enough to count what one client does (guest
    carts), without keeping the address itself."""
    return salted_hmac("omni.client", client_ip(request)).hexdigest()

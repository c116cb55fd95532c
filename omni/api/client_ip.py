"""The client's address as this deployment can trust it: behind N proxies of our own, the N-th
X-Forwarded-For entry from the right (the one our outermost proxy saw); with none, REMOTE_ADDR.
Entries further left are whatever the client chose to send, so they are never believed."""

from django.conf import settings


def client_ip(request) -> str:
    remote_addr = request.META.get("REMOTE_ADDR", "")
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if not count:
        return remote_addr
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    parts = [part.strip() for part in forwarded.split(",") if part.strip()]
    if len(parts) < count:
        return remote_addr
    return parts[-count]

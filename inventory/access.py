"""Who may use the staff API: staff (session) and integrations (``Authorization: Token``)
holding the Django permissions a view names, integrations only at the locations their token
allows.

Public (not under ``inventory.api``) because every app's staff endpoints share it: the stock,
transfer and count calls here, the fulfilment calls of ``orders``. The tokens themselves are
issued and revoked in ``inventory.integrations``."""

from collections.abc import Collection

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.permissions import BasePermission

from inventory import integrations, selectors
from inventory.models import IntegrationToken, Location


class IntegrationTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <token>``: the integration acts as the token's user.

    Unknown, revoked or expired tokens, and tokens of an inactive user, are a 401 (never a
    silent anonymous call). Same header as DRF's former tokens, so integrations keep theirs.
    """

    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send 'Authorization: Token <token>'.")
        try:
            raw = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Unknown integration token.") from None
        token = selectors.integration_token_for(raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Unknown integration token.")
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed("This integration token was revoked.")
        now = timezone.now()
        if token.is_expired(now):
            raise exceptions.AuthenticationFailed(
                f"This integration token expired on {token.expires_at:%Y-%m-%d}; "
                "ask for a new one.",
                code="not_authenticated",
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("The user of this integration token is inactive.")
        integrations.record_integration_token_use(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


# Staff in a browser use their session; POS, WMS and other integrations send
# "Authorization: Token <token>" (see ``create_integration_token``). Token first, so that an
# anonymous call is told how to authenticate (401 with WWW-Authenticate) rather than refused.
STAFF_AUTHENTICATION = [IntegrationTokenAuthentication, SessionAuthentication]


class HasModelPermission(BasePermission):
    """The caller is signed in and holds the Django permission the view names for this call.

    Views set ``required_permissions``, keyed by viewset action or by HTTP method, e.g.
    ``{"POST": "inventory.add_stockmovement"}``. A call the view names no permission for is
    refused, so a new action is closed until someone decides who may use it.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        required = view.required_permissions
        permission = required.get(getattr(view, "action", None)) or required.get(request.method)
        return permission is not None and user.has_perm(permission)


def refuse_outside_token_locations(
    request, location_ids: Collection[int], *, any_of: bool = False
) -> None:
    """A call made with an integration token limited to locations must touch only those:
    every one of ``location_ids`` (or, with ``any_of``, at least one: a transfer is requested
    by either end). Otherwise a 403 naming both. Views call it once the request's locations
    are known, i.e. after validation. Sessions and unlimited tokens pass."""
    token = request.auth
    if not isinstance(token, IntegrationToken):
        return
    allowed = token.allowed_location_ids()
    named = set(location_ids)
    if allowed is None or (named & allowed if any_of else named <= allowed):
        return
    codes = dict(Location.objects.filter(pk__in=allowed | named).values_list("pk", "code"))
    may = ", ".join(sorted(codes[pk] for pk in allowed))
    touched = ", ".join(sorted(codes[pk] for pk in named - allowed))
    raise exceptions.PermissionDenied(
        f"This integration token may act only at {may}; this call touches {touched}."
    )


class IntegrationTokenScheme(OpenApiAuthenticationExtension):
    target_class = IntegrationTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(
            header_name="HTTP_AUTHORIZATION", token_prefix=self.target.keyword
        )

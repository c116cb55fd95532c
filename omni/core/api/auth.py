"""Who is calling the storefront API: a storefront app (web, iOS, Android, store) by its API
key, and optionally a signed-in customer by a bearer token. Staff use session log-in.

    X-Api-Key: sk_web_…               the storefront app (required for storefront endpoints)
    Authorization: Bearer ct_…        the signed-in customer (for "my …" endpoints)

Keys are created with ``manage.py create_storefront_key``; tokens by sign-up and sign-in.
Only hashes of both are stored (``customers.models``). A token unused for
``CUSTOMER_TOKEN_IDLE_DAYS``, or older than ``CUSTOMER_TOKEN_MAX_DAYS``, has expired: 401
``not_authenticated``, sign in again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:  # DRF's views import the authentication classes named in settings
    from rest_framework.request import Request
    from rest_framework.views import APIView

API_KEY_HEADER = "X-Api-Key"


@dataclass(frozen=True)
class StorefrontClient:
    """``request.user`` of a storefront call: the app's channel and, if signed in, the
    customer. Not a Django user; it is never staff."""

    key: Any
    customer: Any = None
    token: Any = None

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None

    @property
    def channel(self) -> str:
        return str(self.key.channel)


@dataclass(frozen=True)
class CredentialStore:
    """Where keys and tokens are looked up: the kernel knows no app, so the app that keeps
    them (``customers``) registers its functions when it is ready."""

    key_for: Callable[[str], Any]  # raw API key -> its key row, or None
    token_for: Callable[[str], Any]  # raw bearer token -> its token row, or None
    record_token_use: Callable[..., None]  # (token=, now=) -> records a use


_credential_store: CredentialStore | None = None


def register_credential_store(store: CredentialStore) -> None:
    global _credential_store
    _credential_store = store


def credential_store() -> CredentialStore:
    if _credential_store is None:
        raise ImproperlyConfigured("No credential store: is the customers app installed?")
    return _credential_store


class StorefrontAuthentication(BaseAuthentication):
    """No ``X-Api-Key`` header: not this scheme (a staff session may still apply).
    A key or token that is wrong, revoked or erased: 401, never a silent anonymous call."""

    def authenticate(self, request: Request) -> tuple[StorefrontClient, Any] | None:
        raw_key = request.headers.get(API_KEY_HEADER, "").strip()
        if not raw_key:
            return None
        store = credential_store()
        key = store.key_for(raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        token = None
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == b"bearer":
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed("Send 'Authorization: Bearer <token>'.")
            token = store.token_for(parts[1].decode("latin-1"))
            if token is None:
                raise exceptions.AuthenticationFailed("Unknown or signed-out customer token.")
            now = timezone.now()
            if token.is_expired(now):
                raise exceptions.AuthenticationFailed(
                    "The customer token has expired; sign in again.", code="not_authenticated"
                )
            store.record_token_use(token=token, now=now)
        client = StorefrontClient(key=key, customer=token.customer if token else None, token=token)
        return client, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class IsStorefront(BasePermission):
    """Called by a storefront app with a valid API key."""

    message = "Send the storefront's API key in the X-Api-Key header."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return isinstance(request.user, StorefrontClient)


class IsSignedInCustomer(IsStorefront):
    """Called by a storefront app on behalf of a signed-in customer."""

    message = "Sign in: send the customer's token as 'Authorization: Bearer <token>'."

    def has_permission(self, request: Request, view: APIView) -> bool:
        user = request.user
        return isinstance(user, StorefrontClient) and user.customer is not None


class StorefrontAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = StorefrontAuthentication
    name = ["storefrontKey", "customerToken"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {"type": "apiKey", "in": "header", "name": API_KEY_HEADER},
            {"type": "http", "scheme": "bearer", "description": "Customer token from sign-in."},
        ]

"""``Idempotency-Key`` for state-changing API calls: a retry gets the first answer again and
changes nothing twice.

Put ``@idempotent`` on a view's handler method, right above ``def`` (it also documents the
header in the OpenAPI schema)::

    class SignUpView(StorefrontView):
        @extend_schema(summary="Open a customer account", ...)
        @idempotent
        def post(self, request): ...

Keys belong to a caller, one method and one path. The caller is a staff user, or a storefront
app (its API key) with the person it calls for: the signed-in customer (bearer token), else the
guest whose cart token (``X-Cart-Token``) came with the call (only its SHA-256 is stored), else
the app's anonymous visitors together. What a client sees:

- No header: the call runs exactly as without this decorator.
- First call with a key: it runs, and its answer (status, JSON body, the headers the view set)
  is kept for ``IDEMPOTENCY_KEY_TTL_HOURS``. 2xx and 4xx answers are kept, except 401/403
  (credentials), 409 and 429 (the state or the rate may have changed: a retry runs again).
  A 5xx keeps nothing, so a retry after a crash runs again.
- The same key and body again: the kept answer, with ``Idempotent-Replayed: true``; nothing
  runs. The same key with another body or query string: 422 ``idempotency_key_reused``.
- The same key while the first attempt still runs: the retry waits for it (up to
  ``IN_PROGRESS_WAIT``) and then replays its answer, or runs if the first kept nothing.
  Still running after the wait: 409 ``idempotency_key_in_progress``; retry a little later.

Secrets are never kept. An answer whose JSON body holds a non-empty ``token`` or
``guest_token`` field (``SECRET_FIELDS``, at any depth: a new bearer token from sign-up, a new
guest cart's token) is not kept, so its retry runs again (those calls are safe to repeat: a
repeated sign-up signs in, a repeated first cart call starts another cart). One exception
keeps guests' cart calls replayable: a secret equal to the caller's own ``X-Cart-Token`` is
stored as a placeholder and put back, on replay, from the retry's own header (the same token,
since the key is scoped to its hash). So no kept answer can hand one person's secret to another,
and the table holds no secret to steal.

How: the record is inserted first, then the call runs, then its answer is saved, all in one
transaction. The unique constraint on (caller, key, method, path) makes PostgreSQL hold a
concurrent insert of the same key until the first transaction ends, so other requests never
see a half-done record, and a crash rolls the record back with the call's own changes.
Calls with no identified caller (an anonymous ``AllowAny`` view) run without the mechanism:
there is no one to scope the key to. Erasing a customer drops the kept answers to their calls
and any kept answer that mentions one of their identities (``forget_customer``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.http.request import RawPostDataException
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from omni.core.api.auth import StorefrontClient
from omni.core.api.parsers import loads_bounded
from omni.core.errors import DomainError, IdempotencyKeyReused
from omni.core.models import IdempotencyRecord

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# A DRF handler method: (view, request, *args, **kwargs) -> Response.
Handler = Callable[..., Response]

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
VALID_KEY = re.compile(r"[\x20-\x7e]{1,100}")
# How long a retry waits for a first attempt that is still running before it gets a 409.
IN_PROGRESS_WAIT = timedelta(seconds=10)
# Answers that depend on the moment (credentials, current state, rate) are not kept.
UNKEPT_STATUSES = frozenset({401, 403, 409, 429})
# Set again on every answer (by the renderer or DRF), or personal to one response.
UNKEPT_HEADERS = frozenset({"content-type", "content-length", "vary", "allow", "set-cookie"})
# The guest cart token the orders API reads: a guest's keys are scoped to its hash.
CART_TOKEN_HEADER = "X-Cart-Token"
# Fields that carry a bearer token or a guest cart token: an answer holding one is not kept.
SECRET_FIELDS = frozenset({"token", "guest_token"})
# Kept in place of the caller's own cart token; a replay puts the retry's header back.
OWN_CART_TOKEN = "<the caller's X-Cart-Token>"
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE when lock_timeout runs out
PURGE_BATCH_SIZE = 10_000

IDEMPOTENCY_HEADER = OpenApiParameter(
    name=KEY_HEADER,
    location=OpenApiParameter.HEADER,
    type=str,
    required=False,
    description=(
        "Any 1 to 100 printable ASCII characters, new for each operation (a UUID is fine). "
        "A retry with the same key and body returns the first answer with "
        "`Idempotent-Replayed: true` and changes nothing again. The same key with another "
        "body: 422 `idempotency_key_reused`. While the first attempt still runs: 409 "
        "`idempotency_key_in_progress`. Keys are kept for 24 hours; 5xx, 409 and 429 answers "
        "and answers holding a new `token` or `guest_token` are not kept, so retrying those "
        "runs the call again."
    ),
)


class IdempotencyKeyInProgress(DomainError):
    """The first call with this key has not finished; retrying later gets its answer."""

    code = "idempotency_key_in_progress"
    http_status = 409


@dataclass(frozen=True)
class _Call:
    caller: str
    key: str
    method: str
    path: str
    request_hash: str
    # The guest's cart token sent with the call ("" for anyone else); never stored.
    cart_token: str = ""

    @property
    def identity(self) -> dict[str, str]:
        return {"caller": self.caller, "key": self.key, "method": self.method, "path": self.path}


def idempotent(handler: Handler) -> Handler:
    """Make a DRF handler method (``post``, ``patch``, ``create`` ...) honour ``Idempotency-Key``.

    On a ViewSet ``@action``, put ``@idempotent`` above ``@action`` (which replaces what is
    below it) or add ``IDEMPOTENCY_HEADER`` to the action's ``extend_schema`` parameters.
    """

    @functools.wraps(handler)
    def run_once(view: APIView, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = _key_of(request)
        caller = _caller_of(request)
        if key is None or caller is None:
            return handler(view, request, *args, **kwargs)
        call = _Call(
            caller,
            key,
            str(request.method),
            request.path,
            _request_hash(request),
            cart_token=_guest_cart_token(request),
        )
        with transaction.atomic():
            record = _claim(call)
            if record.status_code is not None:
                return _replay(record, call)
            response = _answer(handler, view, request, *args, **kwargs)
            body = _storable_body(response, call)
            if body is NOT_KEPT:
                record.delete()
            else:
                _keep(record, response, body)
        return response

    if hasattr(run_once, "kwargs"):  # functools.wraps shared the dict; extend_schema writes it
        run_once.kwargs = dict(run_once.kwargs)
    return extend_schema(parameters=[IDEMPOTENCY_HEADER])(run_once)


_KEY_ERRORS = {
    "422": "`idempotency_key_reused`: this Idempotency-Key came before with another body; "
    "send a new key for a new request. Nothing was changed.",
    "409": "`idempotency_key_in_progress`: the first call with this Idempotency-Key is still "
    "running; retry later to get its answer.",
}


def document_idempotency_errors(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every call that takes ``Idempotency-Key`` may
    answer 422 and 409 for it; list them wherever the view's own schema did not."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            parameters = operation.get("parameters", []) if isinstance(operation, dict) else []
            if not any(p.get("name") == KEY_HEADER and p.get("in") == "header" for p in parameters):
                continue
            responses = operation.setdefault("responses", {})
            for status_code, description in _KEY_ERRORS.items():
                responses.setdefault(
                    status_code,
                    {
                        "description": description,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    },
                )
    return result


def purge_expired_idempotency_records(*, now: datetime | None = None) -> int:
    """Delete the records older than ``IDEMPOTENCY_KEY_TTL_HOURS``, in batches so that a big
    backlog never makes one long transaction. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - _time_to_live()
    expired = IdempotencyRecord.objects.filter(created_at__lt=cutoff)
    deleted = 0
    while batch := list(expired.values_list("pk", flat=True)[:PURGE_BATCH_SIZE]):
        deleted += IdempotencyRecord.objects.filter(pk__in=batch).delete()[0]
    return deleted


# --- The request ----------------------------------------------------------------------------


def _key_of(request: Request) -> str | None:
    raw: str | None = request.headers.get(KEY_HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not VALID_KEY.fullmatch(key):
        raise ValidationError(
            {KEY_HEADER: ["Send 1 to 100 printable ASCII characters, e.g. a UUID."]}
        )
    return key


def _caller_of(request: Request) -> str | None:
    """Whom the key belongs to: a staff user, a signed-in customer, a guest by the hash of
    its cart token, or a storefront app's anonymous visitors (who can only be replayed
    answers that hold no secret, see ``_storable_body``)."""
    user = request.user
    if isinstance(user, StorefrontClient):
        app = f"storefront:{user.key.pk}"
        if user.customer is not None:
            return f"{app}:customer:{user.customer.pk}"
        cart_token = _guest_cart_token(request)
        if cart_token:
            return f"{app}:cart:{hashlib.sha256(cart_token.encode()).hexdigest()}"
        return f"{app}:anonymous"
    if user is not None and user.is_authenticated and user.pk is not None:
        return f"user:{user.pk}"
    return None


def _guest_cart_token(request: Request) -> str:
    """The cart token a guest sent; a signed-in customer's calls never use one."""
    user = request.user
    if not isinstance(user, StorefrontClient) or user.customer is not None:
        return ""
    return str(request.headers.get(CART_TOKEN_HEADER, "")).strip()


def _request_hash(request: Request) -> str:
    """The query string and the body; a JSON body in canonical form, so that a client that
    serialises the same object with its keys in another order is still retrying."""
    try:
        body = request.body
    except RawPostDataException:  # a multipart body already parsed (e.g. by a CSRF check)
        body = json.dumps(request.data, sort_keys=True, default=str).encode()
    with suppress(ValueError, UnicodeDecodeError):  # not JSON: the bytes as sent
        body = json.dumps(loads_bounded(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(request.META.get("QUERY_STRING", "").encode())
    digest.update(b"\n" + body)
    return digest.hexdigest()


# --- The record -----------------------------------------------------------------------------


def _claim(call: _Call) -> IdempotencyRecord:
    """This call's new record, or the committed record of an earlier call with the key.

    Runs inside the caller's transaction. The insert waits while another transaction holds
    an uncommitted record with the same key; when that one commits, the insert fails and the
    committed record is read; when it rolls back (a crash) or deletes its record (an answer
    not kept), the insert succeeds and this call runs.
    """
    for _ in range(3):  # an expired record, or a record deleted meanwhile: insert again
        try:
            with _waiting_at_most(IN_PROGRESS_WAIT), transaction.atomic():
                return IdempotencyRecord.objects.create(
                    **call.identity, request_hash=call.request_hash
                )
        except IntegrityError:
            pass
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) != LOCK_NOT_AVAILABLE:
                raise
            break
        existing = IdempotencyRecord.objects.filter(**call.identity).first()
        if existing is None:
            continue
        if existing.created_at < timezone.now() - _time_to_live():
            existing.delete()  # not purged yet; the key is free again
            continue
        if existing.request_hash != call.request_hash:
            raise IdempotencyKeyReused.for_key(call.key)
        return existing
    raise IdempotencyKeyInProgress(
        f"A request with this {KEY_HEADER} is still being processed; retry in a moment.",
        details={"key": call.key},
    )


@contextmanager
def _waiting_at_most(wait: timedelta) -> Iterator[None]:
    """Bound how long PostgreSQL waits for another transaction's lock (here: its uncommitted
    record with the same key), for this block only. SQLite (the demo) has one writer at a
    time and its own busy timeout."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout')")
        (previous,) = cursor.fetchone()
        cursor.execute(
            "SELECT set_config('lock_timeout', %s, true)", [f"{int(wait.total_seconds() * 1000)}"]
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [previous])


def _time_to_live() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)


# --- The answer -----------------------------------------------------------------------------


def _answer(
    handler: Handler, view: APIView, request: Request, *args: Any, **kwargs: Any
) -> Response:
    """The handler's response, with errors turned into responses as ``APIView.dispatch`` does,
    so that a 4xx can be kept. Its writes roll back if it raises; what DRF's exception handler
    does not answer (a bug, a 5xx) is raised again and rolls back the record too."""
    try:
        with transaction.atomic():
            response = handler(view, request, *args, **kwargs)
    except Exception as error:  # handed to DRF, which re-raises what it cannot answer
        response = view.handle_exception(error)
    if not isinstance(response, Response):
        raise TypeError(f"@idempotent handlers must return a DRF Response, not {response!r}")
    return response


def _keeps(status_code: int) -> bool:
    if 200 <= status_code < 300:
        return True
    return 400 <= status_code < 500 and status_code not in UNKEPT_STATUSES


NOT_KEPT = object()


class _HoldsSecret(Exception):
    """The answer carries a secret that is not the caller's own cart token."""


def _storable_body(response: Response, call: _Call) -> Any:
    """The body to keep for this answer, or ``NOT_KEPT``: for a status that is not kept, or
    when the body holds a secret other than the caller's own cart token (which is swapped for
    ``OWN_CART_TOKEN``)."""
    if not _keeps(response.status_code):
        return NOT_KEPT
    try:
        return _without_secrets(response.data, call.cart_token)
    except _HoldsSecret:
        return NOT_KEPT


def _without_secrets(data: Any, own_cart_token: str) -> Any:
    if isinstance(data, Mapping):
        clean = {}
        for name, value in data.items():
            if name in SECRET_FIELDS and isinstance(value, str) and value:
                if not own_cart_token or value != own_cart_token:
                    raise _HoldsSecret(name)
                value = OWN_CART_TOKEN
            else:
                value = _without_secrets(value, own_cart_token)
            clean[name] = value
        return clean
    if isinstance(data, list | tuple):
        return [_without_secrets(item, own_cart_token) for item in data]
    return data


def _with_own_secret(data: Any, cart_token: str) -> Any:
    if isinstance(data, dict):
        return {
            name: (
                cart_token
                if name in SECRET_FIELDS and value == OWN_CART_TOKEN
                else _with_own_secret(value, cart_token)
            )
            for name, value in data.items()
        }
    if isinstance(data, list):
        return [_with_own_secret(item, cart_token) for item in data]
    return data


def _keep(record: IdempotencyRecord, response: Response, body: Any) -> None:
    record.status_code = response.status_code
    record.response_body = body
    record.response_headers = {
        name: value for name, value in response.items() if name.lower() not in UNKEPT_HEADERS
    }
    record.save(update_fields=["status_code", "response_body", "response_headers"])


def _replay(record: IdempotencyRecord, call: _Call) -> Response:
    return Response(
        _with_own_secret(record.response_body, call.cart_token),
        status=record.status_code,
        headers={**record.response_headers, REPLAYED_HEADER: "true"},
    )


# --- Privacy --------------------------------------------------------------------------------


def _kept_answers() -> QuerySet[IdempotencyRecord]:
    """Records with their answer. The one of the call now running (its answer not saved yet,
    e.g. the erasure itself) is left alone: it is this transaction's own, and saved next."""
    return IdempotencyRecord.objects.exclude(status_code=None)


def forget_customer(*, customer: Any) -> None:
    """Erasure: drop the kept answers to the customer's own calls (they may hold profile data)
    and any other kept answer that mentions one of their identities (an e-mail, a phone, a
    device id in a guest's cart before they signed in). Runs before identities are deleted."""
    _kept_answers().filter(caller__endswith=f":customer:{customer.pk}").delete()
    values = {customer.email, customer.phone, *customer.identities.values_list("value", flat=True)}
    mentions = Q()
    for value in sorted(value for value in values if value):
        mentions |= Q(body_text__contains=value)
    if mentions:
        _kept_answers().annotate(body_text=Cast("response_body", TextField())).filter(
            mentions
        ).delete()


def forget_merged_customer(*, survivor: Any, merged: Any) -> None:
    """Merge: the merged profile's answers could never be replayed (its tokens now sign in the
    survivor) and erasing the survivor would not find them, so they go now."""
    _kept_answers().filter(caller__endswith=f":customer:{merged.pk}").delete()


def export_kept_answers(*, customer: Any) -> list[dict[str, Any]]:
    """Data export: the answers kept for the customer's own calls, as they were sent."""
    answers = (
        _kept_answers()
        .filter(caller__endswith=f":customer:{customer.pk}")
        .order_by("created_at", "pk")
        .values("method", "path", "status_code", "response_body", "created_at")
    )
    return [dict(answer) for answer in answers]

"""Carriers' tracking events: ``POST /api/v1/carriers/<carrier>/events``.

No session or token: the carrier signs each call with the secret it shares with us
(``CARRIER_WEBHOOK_SECRETS``; ``omni.core.api.webhooks``). Checked in this order, each refusal
changing nothing: the rate per address (429), a secret for this carrier (503
``not_configured``), the body's size (413), the signature and its freshness (401), the body's
fields (400), the tracking number (404). Each event is kept once per carrier event id
(``services.record_carrier_event``), so a carrier retrying changes nothing twice; a
``delivered`` event delivers its parcel, and the order with its last parcel."""

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from omni.core.api import webhooks
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.parsers import BoundedJSONParser
from omni.core.api.throttling import AddressThrottle
from omni.core.errors import NotConfigured
from orders import services
from orders.models import Parcel

# An event is a few short fields; a carrier sending more is not sending one event.
MAX_BODY_BYTES = 64 * 1024


class CarrierEventSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=100, help_text="The carrier's id of the event.")
    tracking_number = serializers.CharField(max_length=100)
    kind = serializers.RegexField(
        r"^[a-z][a-z0-9_]*$",
        max_length=30,
        help_text="e.g. in_transit, out_for_delivery, delivered. Only `delivered` changes "
        "anything; every event is kept.",
    )
    occurred_at = serializers.DateTimeField(help_text="When it happened (ISO 8601).")


class CarrierEventAnswerSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    recorded = serializers.BooleanField(
        help_text="false: this event id was already received; nothing changed."
    )
    tracking_number = serializers.CharField()
    parcel_status = serializers.ChoiceField(choices=Parcel.Status.choices, allow_null=True)


SIGNATURE = OpenApiParameter(
    webhooks.SIGNATURE_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with the '
    "carrier's secret. Refused when `t` is more than 5 minutes from now.",
)


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ERROR_SCHEMA, description=description)


class CarrierEventView(APIView):
    authentication_classes: list[Any] = []  # the signature is the credential
    permission_classes = [AllowAny]
    throttle_scope = "carrier_events"
    throttle_classes = [AddressThrottle]
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="carrier_event",
        summary="A carrier's tracking event for a parcel (signed webhook)",
        description="201 for a new event, 200 for one already received (nothing changes). A "
        "`delivered` event delivers the parcel; the order is delivered, and earns its points, "
        "with its last parcel.",
        parameters=[SIGNATURE],
        request=CarrierEventSerializer,
        responses={
            201: CarrierEventAnswerSerializer,
            200: CarrierEventAnswerSerializer,
            400: _error("Not a JSON event with these fields (`validation_error`)."),
            401: _error(
                "Missing or wrong signature, or signed more than 5 minutes from now "
                "(`authentication_failed`)."
            ),
            404: _error("No parcel left with this carrier under this tracking number."),
            413: _error(f"Body over {MAX_BODY_BYTES} bytes (`payload_too_large`)."),
            429: _error("Too many calls from this address; retry after `Retry-After` seconds."),
            503: _error("No secret is configured for this carrier (`not_configured`)."),
        },
        tags=["carriers"],
    )
    def post(self, request: Request, carrier: str) -> Response:
        carrier = carrier.strip().lower()[:60]  # names are short (CARRIER_WEBHOOK_SECRETS)
        secret = settings.CARRIER_WEBHOOK_SECRETS.get(carrier)
        if not secret:
            raise NotConfigured(
                f"Events from {carrier} are not accepted: no secret is configured for this "
                "carrier (CARRIER_WEBHOOK_SECRETS).",
                details={"carrier": carrier},
            )
        body = webhooks.bounded_body(request, MAX_BODY_BYTES)
        webhooks.verify_signature(
            body=body, header=request.headers.get(webhooks.SIGNATURE_HEADER), secret=secret
        )
        payload = CarrierEventSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event, created = services.record_carrier_event(carrier=carrier, **payload.validated_data)
        parcel = event.parcel
        if parcel is not None:
            parcel.refresh_from_db(fields=["status"])  # a delivered event just changed it
        answer = {
            "event_id": event.event_id,
            "recorded": created,
            "tracking_number": event.tracking_number,
            "parcel_status": parcel.status if parcel else None,
        }
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

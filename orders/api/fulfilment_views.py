"""The fulfilment API: a location's delivery shipments for its warehouse system (or a store's
tool), worked step by step. Staff sessions and integration tokens, authenticated and permitted
as the stock calls are (``inventory.access``): reading needs ``orders.view_shipment``, working
``orders.change_shipment``, marking a parcel delivered ``orders.change_parcel``; a token
limited to locations acts only on shipments there. Every call is throttled per token (or per
staff user); every write honours ``Idempotency-Key`` and calls one service.

A shipment's stock leaves exactly once, when its parcel ships: a second report of the same
parcel, line or shipment is a 409 ``already_shipped`` and takes nothing again."""

from typing import Any, cast
from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.access import (
    STAFF_AUTHENTICATION,
    HasModelPermission,
    refuse_outside_token_locations,
)
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import StaffThrottle
from omni.core.errors import NotFound
from orders import selectors, services
from orders.api import fulfilment_serializers as io
from orders.models import Parcel, Shipment

VIEW = "orders.view_shipment"
WORK = "orders.change_shipment"
DELIVER = "orders.change_parcel"

ERRORS = {
    400: "Invalid input (`validation_error`, field errors in `details`) or a step the "
    "shipment's state refuses (`invalid_request`, e.g. packing what is not picked). Nothing "
    "was changed.",
    401: "Not signed in: send `Authorization: Token <token>` (or a staff session); or the token "
    "is unknown, revoked (`authentication_failed`) or expired (`not_authenticated`).",
    403: "Signed in without the permission this call needs, or with an integration token "
    "limited to other locations (`permission_denied`). Nothing was changed.",
    404: "No shipment, line or parcel with this id (`not_found`).",
    409: "`already_shipped`: this parcel, line or shipment already left and its stock was "
    "taken then, not again (a retry without `Idempotency-Key` gets this); "
    "`insufficient_stock`: the location to ship from cannot cover the lines; "
    "`idempotency_key_in_progress`: the first call with this key is still running. Nothing "
    "was changed.",
    422: "`idempotency_key_reused`: this `Idempotency-Key` was sent before with another body; "
    "send a new key for a new request.",
    429: "Too many calls with this token (or staff user); retry after `Retry-After` seconds.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ERROR_SCHEMA, description=ERRORS[code]) for code in statuses}


WRITE_ERRORS = errors(400, 401, 403, 404, 409, 422, 429)


class FulfilmentView(APIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [HasModelPermission]
    throttle_scope = "fulfilment"
    throttle_classes = [StaffThrottle]
    required_permissions: dict[str, str] = {"POST": WORK}

    def shipment(self, public_id: UUID) -> Shipment:
        """The shipment of the URL, if the caller's token may act at its location."""
        shipment = selectors.shipment_to_work(public_id)
        if shipment is None:
            raise NotFound("No shipment with this id.", details={"shipment": str(public_id)})
        refuse_outside_token_locations(self.request, {shipment.location_id})
        return shipment

    def line_ids(self, shipment: Shipment, public_ids: list[UUID] | None) -> list[int] | None:
        """The services' ids of the shipment's lines named in the request (None: not named);
        a line of another shipment, or none, is a 404 naming it."""
        if public_ids is None:
            return None
        known = selectors.shipment_line_ids(shipment, public_ids)
        missing = [str(public_id) for public_id in public_ids if public_id not in known]
        if missing:
            raise NotFound(
                f"Line {missing[0]} is not on this shipment.", details={"lines": missing}
            )
        return [known[public_id] for public_id in public_ids]

    def parcel(self, public_id: UUID) -> Parcel:
        parcel = selectors.parcel_to_work(public_id)
        if parcel is None:
            raise NotFound("No parcel with this id.", details={"parcel": str(public_id)})
        refuse_outside_token_locations(self.request, {parcel.shipment.location_id})
        return parcel

    def shown(self, shipment: Shipment) -> dict[str, Any]:
        """The shipment as it stands now, read back whole in a fixed number of queries."""
        fresh = selectors.shipment_with_flags(shipment.public_id, now=timezone.now())
        return dict(io.FulfilmentShipmentSerializer(fresh).data)

    def parcel_answer(self, parcel: Parcel, status_code: int = status.HTTP_200_OK) -> Response:
        shipment = self.shown(parcel.shipment)
        shown = next(p for p in shipment["parcels"] if p["id"] == str(parcel.public_id))
        return Response({"parcel": shown, "shipment": shipment}, status=status_code)


class ShipmentCursor(CursorPagination):
    """Oldest first, as the queue is worked; a cursor stays right while shipments leave it."""

    ordering = ("created_at", "pk")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ShipmentQueueView(FulfilmentView, ListAPIView):
    required_permissions = {"GET": VIEW}
    serializer_class = io.FulfilmentShipmentSerializer
    pagination_class = ShipmentCursor
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Shipment]:
        if getattr(self, "swagger_fake_view", False):
            return Shipment.objects.none()
        query = io.QueueQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        refuse_outside_token_locations(self.request, {params["location"].pk})
        return selectors.ship_queue_where(
            params["location"],
            now=timezone.now(),
            statuses=params.get("status"),
            late=params["late"],
            short=params["short"],
        )

    @extend_schema(
        operation_id="fulfilment_queue",
        summary="The delivery shipments allocated to a location, still to send",
        description="Open shipments (to pick, picked, packed), oldest first, each with its "
        "order number, ship-to address, lines (ids, SKU, units, status, packed) and parcels. "
        "Filter by `status`, `late` and `short`. Paginated with a cursor: follow `next`. "
        "Needs `orders.view_shipment`; a token limited to locations may ask only for those.",
        parameters=[io.QueueQuerySerializer],
        responses={200: io.FulfilmentShipmentSerializer(many=True), **errors(400, 401, 403, 429)},
        tags=["fulfilment"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class ShipmentDetailView(FulfilmentView):
    required_permissions = {"GET": VIEW}

    @extend_schema(
        operation_id="fulfilment_shipment",
        summary="One shipment, with its lines and parcels",
        responses={200: io.FulfilmentShipmentSerializer, **errors(401, 403, 404, 429)},
        tags=["fulfilment"],
    )
    def get(self, request: Request, shipment_id: UUID) -> Response:
        return Response(self.shown(self.shipment(shipment_id)))


class PickView(FulfilmentView):
    @extend_schema(
        operation_id="fulfilment_pick",
        summary="Confirm lines picked (all still to pick by default)",
        request=io.PickSerializer,
        responses={200: io.FulfilmentShipmentSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, shipment_id: UUID) -> Response:
        body = io.PickSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shipment = self.shipment(shipment_id)
        shipment = services.pick(
            shipment=shipment,
            line_ids=self.line_ids(shipment, body.validated_data.get("lines")),
            actor=_staff(request),
        )
        return Response(self.shown(shipment))


class PackView(FulfilmentView):
    @extend_schema(
        operation_id="fulfilment_pack",
        summary="Pack picked units into a new parcel (everything picked by default)",
        description="Answers the new parcel (its `id` is what to ship) and the shipment.",
        request=io.PackSerializer,
        responses={201: io.ParcelResultSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, shipment_id: UUID) -> Response:
        body = io.PackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shipment = self.shipment(shipment_id)
        named = body.validated_data.get("lines")
        contents = None
        if named is not None:
            ids = self.line_ids(shipment, list(named)) or []
            contents = dict(zip(ids, named.values(), strict=True))
        parcel = services.pack(shipment=shipment, contents=contents, actor=_staff(request))
        return self.parcel_answer(parcel, status.HTTP_201_CREATED)


class ShipView(FulfilmentView):
    @extend_schema(
        operation_id="fulfilment_ship",
        summary="Ship lines in one step: picked, packed into one parcel and shipped",
        description="The ship confirmation of a warehouse system: the parcel's units leave the "
        "location's stock (a sale in the ledger, consuming the reservation), once. By default "
        "everything the shipment has not sent; `lines` for some lines; `location` to ship from "
        "another location (a token must be allowed at both). Send an `Idempotency-Key`: a "
        "retry with it gets this answer again; a retry without it is a 409 `already_shipped`. "
        "Never report the same units as a sale movement too.",
        request=io.ShipSerializer,
        responses={201: io.ParcelResultSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, shipment_id: UUID) -> Response:
        body = io.ShipSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        shipment = self.shipment(shipment_id)
        if "location" in data:
            refuse_outside_token_locations(request, {shipment.location_id, data["location"].pk})
        parcel = services.ship(
            shipment=shipment,
            tracking=_tracking(data),
            line_ids=self.line_ids(shipment, data.get("lines")),
            location=data.get("location"),
            actor=_staff(request),
        )
        return self.parcel_answer(parcel, status.HTTP_201_CREATED)


class ShortView(FulfilmentView):
    @extend_schema(
        operation_id="fulfilment_report_short",
        summary="Report a line short: it moves whole to another location, or is cancelled",
        description="The answer says what happened: `moved` (and where: location, shipment and "
        "line there) or `cancelled` (no location can send the whole line; the customer is "
        "refunded its share and told).",
        request=io.ShortSerializer,
        responses={200: io.ShortReportSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, shipment_id: UUID, line_id: UUID) -> Response:
        body = io.ShortSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shipment = self.shipment(shipment_id)
        (line_pk,) = self.line_ids(shipment, [line_id]) or []
        moved = services.report_short(
            shipment=shipment,
            line_id=line_pk,
            actor=_staff(request),
            note=body.validated_data["note"],
        )
        moved_to = None
        if moved is not None:
            moved_to = {
                "location": moved.shipment.location.code,
                "shipment": moved.shipment.public_id,
                "line": moved.public_id,
            }
        return Response(
            {
                "line": line_id,
                "outcome": "cancelled" if moved is None else "moved",
                "moved_to": moved_to,
                "shipment": self.shown(shipment),
            }
        )


class ParcelShipView(FulfilmentView):
    @extend_schema(
        operation_id="fulfilment_ship_parcel",
        summary="Ship a packed parcel with its carrier and tracking number",
        description="Its units leave the location's stock once; shipping it again is a 409 "
        "`already_shipped`.",
        request=io.TrackingSerializer,
        responses={200: io.ParcelResultSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, parcel_id: UUID) -> Response:
        body = io.TrackingSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parcel = services.ship_parcel(
            parcel=self.parcel(parcel_id),
            tracking=_tracking(body.validated_data),
            actor=_staff(request),
        )
        return self.parcel_answer(parcel)


class ParcelDeliverView(FulfilmentView):
    required_permissions = {"POST": DELIVER}

    @extend_schema(
        operation_id="fulfilment_deliver_parcel",
        summary="Mark a parcel delivered (the order too, with its last parcel)",
        description="For staff told by the customer or the carrier; carriers may post their "
        "events to `/api/v1/carriers/{carrier}/events` instead. Needs `orders.change_parcel`. "
        "Telling it twice changes nothing.",
        request=None,
        responses={200: io.ParcelResultSerializer, **WRITE_ERRORS},
        tags=["fulfilment"],
    )
    @idempotent
    def post(self, request: Request, parcel_id: UUID) -> Response:
        parcel = services.mark_parcel_delivered(
            parcel=self.parcel(parcel_id), actor=_staff(request)
        )
        return self.parcel_answer(parcel)


def _staff(request: Request) -> User:
    """The user the call acts as (a token's user, or the staff member signed in):
    ``HasModelPermission`` lets no anonymous call this far."""
    return cast(User, request.user)


def _tracking(data: dict[str, Any]) -> services.Tracking:
    return services.Tracking(data["carrier"], data["tracking_number"], data["tracking_url"])

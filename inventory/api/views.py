"""Inventory endpoints: each checks its input, then calls one selector or one service."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory import selectors, services, sync
from inventory.access import (
    STAFF_AUTHENTICATION,
    HasModelPermission,
    refuse_outside_token_locations,
)
from inventory.api import serializers
from omni.core.api import geo
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import AddressThrottle, StorefrontKeyThrottle

ERRORS = {
    400: "Invalid input (`validation_error`, field errors in `details`) or a request a "
    "business rule refuses (`invalid_request`). Nothing was changed.",
    401: "Not signed in: send a session cookie or `Authorization: Token <token>`; or the "
    "token is unknown, revoked (`authentication_failed`) or expired (`not_authenticated`).",
    403: "Signed in without the permission this call needs, or with an integration token "
    "limited to other locations (`permission_denied`). Nothing was changed.",
    404: "No transfer with this id.",
    409: "Refused by the current state: `insufficient_stock`, `invalid_transition` or "
    "`conflict` (an idempotency key reused for a different movement). Nothing was changed.",
    429: "Too many requests from this client; retry after `Retry-After` seconds.",
}


def errors(*statuses: int) -> dict:
    return {code: OpenApiResponse(ERROR_SCHEMA, description=ERRORS[code]) for code in statuses}


# --- Public reads ----------------------------------------------------------------------------


class PublicReadView(APIView):
    """Open to anyone, throttled per client address (and per storefront key, when sent)."""

    permission_classes = [AllowAny]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle]


class StoresNearView(PublicReadView):
    @extend_schema(
        operation_id="stores_near",
        summary="Pick-up stores near a point, nearest first",
        parameters=[geo.StoresQuerySerializer],
        responses={200: serializers.StoreSerializer(many=True), **errors(400, 429)},
        tags=["inventory"],
    )
    def get(self, request):
        query = geo.StoresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        stores = selectors.stores_near(params["lat"], params["lng"], limit=params["limit"])
        return Response(serializers.StoreSerializer(stores, many=True).data)


class AvailabilityView(PublicReadView):
    @extend_schema(
        operation_id="availability_near",
        summary="Availability of up to 50 SKUs at the nearest pick-up stores",
        description="Grouped per store, nearest first. Each SKU gets what may be sold online "
        'and a band: "available", "low" (a few left) or "out". Unknown or inactive SKU codes '
        "are refused with `invalid_request`, listed in `details.unknown_skus`.",
        parameters=[serializers.AvailabilityQuerySerializer],
        responses={200: serializers.StoreAvailabilitySerializer(many=True), **errors(400, 429)},
        tags=["inventory"],
    )
    def get(self, request):
        query = serializers.AvailabilityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        stores = selectors.availability_near(
            params["skus"], params["lat"], params["lng"], stores=params["stores"]
        )
        return Response(serializers.StoreAvailabilitySerializer(stores, many=True).data)


# --- Writes by staff and integrations --------------------------------------------------------


class StaffView(APIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [HasModelPermission]


class StockSyncView(StaffView):
    required_permissions = {"POST": "inventory.add_stockmovement"}

    @extend_schema(
        operation_id="stock_movements_sync",
        summary="Record a batch of stock movements from a POS or WMS",
        description="All or nothing. Every row is checked first; if any is bad the answer is "
        "a 400 whose `details.movements` maps each bad row's index to its field errors. A row "
        "whose idempotency key is already in the ledger is a replay: it changes nothing and "
        "is reported as `replayed`. 201 when something was recorded, 200 for a pure replay. "
        "Needs the `inventory.add_stockmovement` permission.",
        request=serializers.StockSyncSerializer,
        responses={
            201: serializers.SyncReportSerializer,
            200: serializers.SyncReportSerializer,
            **errors(400, 401, 403, 409),
        },
        tags=["inventory"],
    )
    def post(self, request):
        batch = serializers.StockSyncSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        refuse_outside_token_locations(
            request, {spec.location_id for spec in batch.validated_data["movements"]}
        )
        report = sync.sync_movements(
            specs=batch.validated_data["movements"],
            source=batch.validated_data["source"],
            actor=request.user,
        )
        return Response(
            serializers.SyncReportSerializer(report).data,
            status=status.HTTP_201_CREATED if report.recorded else status.HTTP_200_OK,
        )


class TransferViewSet(viewsets.GenericViewSet):
    """Stock moving between locations: requested → in transit → received, or cancelled."""

    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [HasModelPermission]
    required_permissions = {
        "create": "inventory.add_transfer",
        "retrieve": "inventory.view_transfer",
        "ship": "inventory.change_transfer",
        "receive": "inventory.change_transfer",
        "cancel": "inventory.change_transfer",
    }
    serializer_class = serializers.TransferSerializer
    lookup_field = "public_id"

    def get_queryset(self):
        return selectors.transfers_with_lines()

    def _transfer_at(self, *ends: str):
        """The transfer of the URL, if the caller's token may act at one of these ends
        (ship at the source, receive at the destination; read or cancel at either)."""
        transfer = self.get_object()
        refuse_outside_token_locations(
            self.request, {getattr(transfer, f"{end}_id") for end in ends}, any_of=True
        )
        return transfer

    def _answer(self, transfer, status_code=status.HTTP_200_OK) -> Response:
        # Read back with places and lines in two queries, whatever the number of lines.
        transfer = self.get_queryset().get(pk=transfer.pk)
        return Response(serializers.TransferSerializer(transfer).data, status=status_code)

    @extend_schema(
        operation_id="transfer_request",
        summary="Request a transfer between two locations",
        request=serializers.TransferRequestSerializer,
        responses={201: serializers.TransferSerializer, **errors(400, 401, 403)},
        tags=["inventory"],
    )
    @idempotent
    def create(self, request):
        payload = serializers.TransferRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ends = {payload.validated_data["source"].pk, payload.validated_data["destination"].pk}
        refuse_outside_token_locations(request, ends, any_of=True)
        transfer = services.request_transfer(**payload.validated_data, actor=request.user)
        return self._answer(transfer, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="transfer_detail",
        summary="A transfer and its lines",
        responses={200: serializers.TransferSerializer, **errors(401, 403, 404)},
        tags=["inventory"],
    )
    def retrieve(self, request, public_id=None):
        transfer = self._transfer_at("source", "destination")
        return Response(serializers.TransferSerializer(transfer).data)

    @extend_schema(
        operation_id="transfer_ship",
        summary="Ship a requested transfer: stock leaves the source",
        request=None,
        responses={200: serializers.TransferSerializer, **errors(401, 403, 404, 409)},
        tags=["inventory"],
    )
    @action(detail=True, methods=["post"])
    def ship(self, request, public_id=None):
        transfer = services.ship_transfer(transfer=self._transfer_at("source"), actor=request.user)
        return self._answer(transfer)

    @extend_schema(
        operation_id="transfer_receive",
        summary="Receive a transfer in transit: stock arrives at the destination",
        request=serializers.TransferReceiptSerializer,
        responses={200: serializers.TransferSerializer, **errors(400, 401, 403, 404, 409)},
        tags=["inventory"],
    )
    @action(detail=True, methods=["post"])
    def receive(self, request, public_id=None):
        receipt = serializers.TransferReceiptSerializer(data=request.data)
        receipt.is_valid(raise_exception=True)
        transfer = services.receive_transfer(
            transfer=self._transfer_at("destination"),
            actor=request.user,
            **receipt.validated_data,
        )
        return self._answer(transfer)

    @extend_schema(
        operation_id="transfer_cancel",
        summary="Cancel a transfer that has not shipped",
        request=None,
        responses={200: serializers.TransferSerializer, **errors(401, 403, 404, 409)},
        tags=["inventory"],
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        transfer = self._transfer_at("source", "destination")
        return self._answer(services.cancel_transfer(transfer=transfer))


class CycleCountView(StaffView):
    required_permissions = {"POST": "inventory.add_cyclecount"}

    @extend_schema(
        operation_id="cycle_count_record",
        summary="Record a cycle count: each difference becomes a ledger correction",
        request=serializers.CycleCountRequestSerializer,
        responses={201: serializers.CycleCountSerializer, **errors(400, 401, 403)},
        tags=["inventory"],
    )
    @idempotent
    def post(self, request):
        payload = serializers.CycleCountRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        refuse_outside_token_locations(request, {payload.validated_data["location"].pk})
        count = services.record_cycle_count(
            **payload.validated_data, actor=request.user, source="api"
        )
        count = selectors.cycle_counts_with_lines().get(pk=count.pk)
        return Response(serializers.CycleCountSerializer(count).data, status=201)

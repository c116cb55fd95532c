"""My loyalty: balance and tier, history, card and its QR code, and quotes for a cart."""

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotAuthenticated
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from loyalty import selectors, services
from loyalty.api.serializers import (
    EntrySerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
    SummarySerializer,
)
from loyalty.models import PointsEntry
from omni.core.api.auth import IsSignedInCustomer, IsStorefront, StorefrontClient
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.throttling import STOREFRONT_WRITE_THROTTLES
from omni.core.errors import NotFound
from omni.core.qr import qr_png

ERRORS = {400: ERROR_SCHEMA, 401: ERROR_SCHEMA, 403: ERROR_SCHEMA}


def _client(request: Request) -> StorefrontClient:
    """The storefront app calling (``IsStorefront`` lets no one else through)."""
    if not isinstance(request.user, StorefrontClient):
        raise NotAuthenticated()
    return request.user


def _customer(request: Request) -> Customer:
    """The signed-in customer (``IsSignedInCustomer`` lets no call without one through)."""
    customer = _client(request).customer
    if not isinstance(customer, Customer):
        raise NotAuthenticated()
    return customer


class MyLoyaltyView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["loyalty"],
        summary="My balance, tier and progress to the next tier",
        description="Opens the account (with a card) on first use.",
        responses={200: SummarySerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        account = services.enrol(customer=_customer(request))
        return Response(SummarySerializer(selectors.account_summary(account)).data)


class MyHistoryView(ListAPIView):
    permission_classes = [IsSignedInCustomer]
    serializer_class = EntrySerializer

    def get_queryset(self) -> "QuerySet[PointsEntry]":
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return PointsEntry.objects.none()
        account = selectors.account_of(_customer(self.request))
        if account is None:
            return PointsEntry.objects.none()
        return selectors.history(account)

    @extend_schema(
        tags=["loyalty"],
        summary="My points history, newest first",
        responses={200: EntrySerializer(many=True), **ERRORS},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class MyCardQRView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["loyalty"],
        summary="My loyalty card as a QR code (PNG), for the till to scan",
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), **ERRORS},
    )
    def get(self, request: Request) -> HttpResponse:
        account = services.enrol(customer=_customer(request))
        card = selectors.account_summary(account).card
        if card is None:  # every card blocked (as for an erased customer)
            raise NotFound("You have no active loyalty card.")
        response = HttpResponse(qr_png(card.number), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response


class QuoteView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "quote"
    throttle_classes = STOREFRONT_WRITE_THROTTLES

    @extend_schema(
        tags=["loyalty"],
        summary="Points a cart would earn, explained line by line",
        description="Signed-in customers get their tier's multiplier; the channel is the app's.",
        request=QuoteRequestSerializer,
        responses={200: QuoteSerializer, 429: ERROR_SCHEMA, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = QuoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        quote = services.quote_cart(
            lines=[(line["sku"], line["quantity"]) for line in body.validated_data["lines"]],
            channel=_client(request).channel,
            customer=_client(request).customer,
            campaign_codes=tuple(body.validated_data["campaign_codes"]),
        )
        return Response(QuoteSerializer(quote).data)

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
    ClaimCardSerializer,
    EntrySerializer,
    QuoteRequestSerializer,
    QuoteSerializer,
    StoredValueCardSerializer,
    StoredValueEntrySerializer,
    SummarySerializer,
)
from loyalty.models import PointsEntry, StoredValueCard, StoredValueEntry
from omni.core.api.auth import IsSignedInCustomer, IsStorefront, StorefrontClient
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
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


# --- Stored-value cards (paying with them and topping them up: orders' API) -------------------

CARD_ERRORS = {**ERRORS, 404: ERROR_SCHEMA}


class MyStoredValueCardsView(ListAPIView):
    permission_classes = [IsSignedInCustomer]
    serializer_class = StoredValueCardSerializer
    throttle_scope = "stored_value"
    throttle_classes = STOREFRONT_WRITE_THROTTLES

    def get_queryset(self) -> "QuerySet[StoredValueCard]":
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request user
            return StoredValueCard.objects.none()
        return selectors.stored_value_cards_of(_customer(self.request)).select_related("programme")

    @extend_schema(
        tags=["stored value"],
        summary="My gift and wallet cards, with their balances",
        responses={200: StoredValueCardSerializer(many=True), 429: ERROR_SCHEMA, **ERRORS},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        tags=["stored value"],
        summary="Open a wallet card (empty: top it up to pay with it)",
        responses={201: StoredValueCardSerializer, 429: ERROR_SCHEMA, **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        card = services.issue_stored_value_card(customer=_customer(request))
        card = selectors.stored_value_card_of(_customer(request), card.public_id)
        return Response(StoredValueCardSerializer(card).data, status=201)


class MyStoredValueCardView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["stored value"],
        summary="One of my cards: its balance, status and the programme's limits",
        responses={200: StoredValueCardSerializer, **CARD_ERRORS},
    )
    def get(self, request: Request, card_id: str) -> Response:
        card = selectors.stored_value_card_of(_customer(request), card_id)
        return Response(StoredValueCardSerializer(card).data)


class MyStoredValueHistoryView(ListAPIView):
    permission_classes = [IsSignedInCustomer]
    serializer_class = StoredValueEntrySerializer

    def get_queryset(self) -> "QuerySet[StoredValueEntry]":
        if getattr(self, "swagger_fake_view", False):
            return StoredValueEntry.objects.none()
        card = selectors.stored_value_card_of(_customer(self.request), self.kwargs["card_id"])
        return selectors.stored_value_history(card)

    @extend_schema(
        tags=["stored value"],
        summary="My card's history, newest first (paginated)",
        responses={200: StoredValueEntrySerializer(many=True), **CARD_ERRORS},
    )
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().get(request, *args, **kwargs)


class MyStoredValueQRView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["stored value"],
        summary="My card as a QR code (PNG), for the till to scan",
        description="A blocked or replaced card has no QR: 403 `card_blocked`.",
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), **CARD_ERRORS},
    )
    def get(self, request: Request, card_id: str) -> HttpResponse:
        card = selectors.stored_value_card_of(_customer(request), card_id)
        card = services.stored_value_card_for(card.number)  # a blocked card is refused
        response = HttpResponse(qr_png(card.number), content_type="image/png")
        response["Cache-Control"] = "private, no-store"
        return response


class ClaimStoredValueCardView(APIView):
    permission_classes = [IsSignedInCustomer]
    throttle_scope = "stored_value"
    throttle_classes = STOREFRONT_WRITE_THROTTLES

    @extend_schema(
        tags=["stored value"],
        summary="Add a gift card I received to my wallet, by its number",
        description="Unknown number: 404. Someone else's card: 409 `conflict`. "
        "Blocked: 403 `card_blocked`.",
        request=ClaimCardSerializer,
        responses={
            200: StoredValueCardSerializer,
            409: ERROR_SCHEMA,
            429: ERROR_SCHEMA,
            **CARD_ERRORS,
        },
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = ClaimCardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        card = services.claim_stored_value_card(
            number=body.validated_data["number"], customer=_customer(request)
        )
        card = selectors.stored_value_card_of(_customer(request), card.public_id)
        return Response(StoredValueCardSerializer(card).data)

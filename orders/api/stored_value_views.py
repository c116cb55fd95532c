"""Storefront endpoints that put money on stored-value cards, paid through the payment
provider: topping up one of my cards, buying a gift card. Thin: each calls one service in
``orders.services``; the cards themselves (list, history, QR) are loyalty's API."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.models import Customer
from loyalty.models import StoredValueCard
from loyalty.selectors import stored_value_card_of
from omni.core.api.auth import IsSignedInCustomer, IsStorefront, StorefrontClient
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import AddressThrottle, CustomerThrottle, StorefrontKeyThrottle
from omni.core.errors import InvalidRequest
from orders import services

ERRORS = {
    400: ERROR_SCHEMA,
    401: ERROR_SCHEMA,
    402: ERROR_SCHEMA,
    403: ERROR_SCHEMA,
    404: ERROR_SCHEMA,
    409: ERROR_SCHEMA,
    422: ERROR_SCHEMA,
    429: ERROR_SCHEMA,
}
THROTTLES = [AddressThrottle, CustomerThrottle, StorefrontKeyThrottle]


class StoredValueCardSerializer(serializers.ModelSerializer):
    """The card as it stands after the money went on it (the full card, with its history:
    ``GET /api/v1/stored-value/cards/{id}``)."""

    id = serializers.UUIDField(source="public_id")

    class Meta:
        model = StoredValueCard
        fields = ["id", "number", "kind", "status", "currency", "balance", "expires_at"]
        ref_name = "StoredValueCardAfterPayment"


class TopUpSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Within the programme's limits."
    )
    payment_token = serializers.CharField(max_length=200, help_text="The payment provider's token.")


class GiftCardSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Within the programme's top-up limits."
    )
    payment_token = serializers.CharField(max_length=200, help_text="The payment provider's token.")
    recipient_email = serializers.EmailField(
        required=False, default="", help_text="Send the card to this person (theirs then)."
    )
    message = serializers.CharField(max_length=500, required=False, default="")


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


def _send_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise InvalidRequest("Send an Idempotency-Key header so a retry is not charged twice.")
    return key


class TopUpView(APIView):
    permission_classes = [IsSignedInCustomer]
    throttle_scope = "stored_value"
    throttle_classes = THROTTLES

    @extend_schema(
        tags=["stored value"],
        summary="Top up one of my cards, paid through the payment provider",
        description="Requires an Idempotency-Key: a retry is charged once. Below the minimum or "
        "above the maximum top-up, or past the card's maximum balance: 400 `invalid_request` "
        "(details say the limits), nothing charged. Declined: 402 `payment_declined`. Blocked "
        "or replaced card: 403 `card_blocked`. Not my card: 404.",
        request=TopUpSerializer,
        responses={200: StoredValueCardSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request, card_id: str) -> Response:
        body = TopUpSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        customer = _customer(request)
        card = stored_value_card_of(customer, card_id)
        services.top_up_online(
            card=card,
            amount=body.validated_data["amount"],
            payment_token=body.validated_data["payment_token"],
            channel=_client(request).channel,
            idempotency_key=_send_key(request),
        )
        return Response(StoredValueCardSerializer(stored_value_card_of(customer, card_id)).data)


class BuyGiftCardView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "stored_value"
    throttle_classes = THROTTLES

    @extend_schema(
        tags=["stored value"],
        summary="Buy a gift card, for me or sent to someone by e-mail",
        description="Paid through the payment provider; requires an Idempotency-Key (a retry "
        "gets the first card). With `recipient_email` the card is theirs and is e-mailed to "
        "them with its number; without, it joins the signed-in buyer's wallet (a guest must "
        "name a recipient). The card's number is shown to its owner only.",
        request=GiftCardSerializer,
        responses={201: StoredValueCardSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        body = GiftCardSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        buyer = _client(request).customer
        bought = services.buy_gift_card(
            amount=data["amount"],
            payment_token=data["payment_token"],
            channel=_client(request).channel,
            idempotency_key=_send_key(request),
            buyer=buyer,
            recipient_email=data["recipient_email"],
            message=data["message"],
        )
        shown = StoredValueCardSerializer(bought.card).data
        if bought.card.customer_id != (buyer.pk if buyer else None):
            shown["number"] = bought.card.masked_number  # the recipient's, not the buyer's
        return Response(shown, status=status.HTTP_201_CREATED)

"""Storefront endpoint for a customer's personal offers. Thin: one selector."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from omni.core.api.auth import IsSignedInCustomer
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.throttling import AddressThrottle, CustomerThrottle, StorefrontKeyThrottle


class PersonalOfferSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="offer.public_id")
    name = serializers.CharField(source="offer.name")
    reward = serializers.CharField(source="offer.reward")
    value = serializers.DecimalField(source="offer.value", max_digits=10, decimal_places=2)
    code = serializers.CharField(
        allow_null=True, help_text="The customer's own code; null for an automatic offer."
    )
    conditions = serializers.ListField(child=serializers.CharField())
    starts_at = serializers.DateTimeField(source="offer.starts_at", allow_null=True)
    ends_at = serializers.DateTimeField(source="offer.ends_at", allow_null=True)


class MyOffersView(APIView):
    permission_classes = [IsSignedInCustomer]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle, CustomerThrottle]

    @extend_schema(
        tags=["offers"],
        summary="The offers and coupons I can use now, with their conditions in words",
        responses={
            200: PersonalOfferSerializer(many=True),
            401: ERROR_SCHEMA,
            403: ERROR_SCHEMA,
            429: ERROR_SCHEMA,
        },
    )
    def get(self, request):
        offers = selectors.offers_for_customer(request.user.customer)
        return Response(PersonalOfferSerializer(offers, many=True).data)

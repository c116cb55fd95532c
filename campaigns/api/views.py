"""Campaigns under ``/api/v1/``: a customer's personal offers for storefronts, and the
segment admin's JSON endpoint (how many customers the rules being edited select now; staff
only, throttled per staff member: each call runs a query over every customer)."""

from typing import Any

from django.db import OperationalError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.models import Segment
from inventory.models import Product
from omni.core.api.auth import IsSignedInCustomer, IsStorefront
from omni.core.api.errors import ERROR_SCHEMA, error_body
from omni.core.api.throttling import (
    AddressThrottle,
    CustomerThrottle,
    StaffThrottle,
    StorefrontKeyThrottle,
)
from omni.core.errors import NotFound


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


class RecommendedProductSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The product's style code.")
    name = serializers.CharField()
    brand = serializers.CharField()


LIMIT = OpenApiParameter("limit", int, description="How many, 1 to 50 (default 10).")


RECOMMENDATION_ERRORS = {401: ERROR_SCHEMA, 403: ERROR_SCHEMA, 429: ERROR_SCHEMA}


class AlsoBoughtView(APIView):
    """ "Customers who bought this also bought", from the nightly affinities."""

    permission_classes = [IsStorefront]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle]

    @extend_schema(
        tags=["recommendations"],
        summary="Products often bought with this one, best first",
        description="From orders of every channel (recomputed nightly): products bought in the "
        "same orders, scored so that best-sellers do not top every list. Inactive products "
        "are left out. 404 `not_found` for an unknown or inactive product code.",
        parameters=[LIMIT],
        responses={
            200: RecommendedProductSerializer(many=True),
            404: ERROR_SCHEMA,
            **RECOMMENDATION_ERRORS,
        },
    )
    def get(self, request, code: str):
        product = Product.objects.filter(code=code, is_active=True).first()
        if product is None:
            raise NotFound("No product has this code.", details={"code": code})
        related = selectors.also_bought(product, limit=_limit(request))
        return Response(RecommendedProductSerializer(related, many=True).data)


class MyRecommendationsView(APIView):
    permission_classes = [IsSignedInCustomer]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle, CustomerThrottle]

    @extend_schema(
        tags=["recommendations"],
        summary="Products for me, from what I bought, never what I already bought",
        description="Products most often bought with the ones the customer bought; for a new "
        "customer, the best-sellers.",
        parameters=[LIMIT],
        responses={200: RecommendedProductSerializer(many=True), **RECOMMENDATION_ERRORS},
    )
    def get(self, request):
        products = selectors.recommended_for(request.user.customer, limit=_limit(request))
        return Response(RecommendedProductSerializer(products, many=True).data)


def _limit(request: Request) -> int:
    """The ``limit`` asked, within 1 to 50: a storefront shelf, not an export."""
    try:
        return min(max(int(request.query_params.get("limit", 10)), 1), 50)
    except ValueError:
        return 10


class CanViewSegments(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user.has_perm("campaigns.view_segment"))


class CountQuerySerializer(serializers.Serializer):
    rules = serializers.JSONField()
    segment = serializers.IntegerField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


@extend_schema(exclude=True)  # a back-office endpoint, not part of the storefront API
class SegmentCountView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAdminUser, CanViewSegments]
    throttle_scope = "segment_count"
    throttle_classes = [StaffThrottle]

    def post(self, request: Request) -> Response:
        query = CountQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        # The segment being edited (unsaved changes included), for circles through others.
        being_edited = Segment(
            pk=query.validated_data.get("segment"), name=query.validated_data.get("name", "")
        )
        try:
            count = selectors.count_matching(query.validated_data["rules"], segment=being_edited)
        except OperationalError:  # the statement timeout of count_matching
            return Response(
                error_body(
                    "count_too_slow",
                    "Counting took too long; the rules can still be saved and refreshed.",
                ),
                status=503,
            )
        return Response({"count": count})

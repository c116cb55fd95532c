"""Campaigns under ``/api/v1/``: a customer's personal offers for storefronts, and the
segment admin's JSON endpoint (how many customers the rules being edited select now; staff
only, throttled per staff member: each call runs a query over every customer)."""

from typing import Any

from django.db import OperationalError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission, IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns import selectors
from campaigns.models import Segment
from omni.core.api.auth import IsSignedInCustomer
from omni.core.api.errors import ERROR_SCHEMA, error_body
from omni.core.api.throttling import (
    AddressThrottle,
    CustomerThrottle,
    StaffThrottle,
    StorefrontKeyThrottle,
)


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

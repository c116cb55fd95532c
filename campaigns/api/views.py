"""The segment admin's JSON endpoint: how many customers the rules being edited select now.
Staff only (the session of the admin, with the permission to view segments), throttled per
staff member: each call runs a query over every customer."""

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
from omni.core.api.errors import error_body
from omni.core.api.throttling import StaffThrottle


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

"""The API has one error shape, for DRF's own errors and for domain errors."""

import pytest
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from omni.core.errors import InsufficientStock


class QuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class ReserveView(APIView):
    """Stands in for a storefront endpoint whose service refuses the request."""

    permission_classes = [AllowAny]

    def post(self, request):
        QuantitySerializer(data=request.data).is_valid(raise_exception=True)
        raise InsufficientStock("Only 2 left.", details={"available": 2})


class PrivateView(APIView):
    def get(self, request):
        return Response({})


urlpatterns = [path("reserve", ReserveView.as_view()), path("private", PrivateView.as_view())]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_invalid_input_gets_a_validation_error_with_field_details():
    response = APIClient().post("/reserve", {"quantity": 0}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"]
    assert list(error["details"]) == ["quantity"]


def test_a_domain_error_keeps_its_code_status_and_details():
    response = APIClient().post("/reserve", {"quantity": 3}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "error": {
            "code": "insufficient_stock",
            "message": "Only 2 left.",
            "details": {"available": 2},
        }
    }


def test_an_anonymous_call_to_a_private_endpoint_gets_the_same_shape():
    response = APIClient().get("/private")

    # Missing credentials are a 401 that says how to authenticate, never a bare 403.
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response.json()["error"]["code"] == "not_authenticated"

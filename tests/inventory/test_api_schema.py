"""Every inventory endpoint is documented in the OpenAPI schema, errors included."""

import pytest
from drf_spectacular.generators import SchemaGenerator

ENDPOINTS = [
    ("/api/v1/stores/", "get", "400"),
    ("/api/v1/availability/", "get", "400"),
    ("/api/v1/stock/movements/", "post", "400"),
    ("/api/v1/transfers/", "post", "400"),
    ("/api/v1/transfers/{public_id}/", "get", "404"),
    ("/api/v1/transfers/{public_id}/ship/", "post", "409"),
    ("/api/v1/transfers/{public_id}/receive/", "post", "409"),
    ("/api/v1/transfers/{public_id}/cancel/", "post", "409"),
    ("/api/v1/cycle-counts/", "post", "400"),
]


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.mark.parametrize(("path", "method", "error_status"), ENDPOINTS)
def test_each_endpoint_documents_its_success_and_its_errors_in_the_error_shape(
    schema, path, method, error_status
):
    operation = schema["paths"][path][method]

    successes = [status for status in operation["responses"] if status.startswith("2")]
    error = operation["responses"][error_status]["content"]["application/json"]["schema"]
    assert successes
    assert error == {"$ref": "#/components/schemas/Error"}

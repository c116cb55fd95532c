"""Every call that takes an Idempotency-Key documents the errors the key can bring."""

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


def keyed_operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            names = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
            if ("Idempotency-Key", "header") in names:
                yield f"{method.upper()} {path}", operation["responses"]


def test_every_call_taking_an_idempotency_key_documents_422_and_409():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    keyed = dict(keyed_operations(schema))

    assert "POST /api/v1/cart/lines" in keyed  # the cart calls are among them
    assert len(keyed) > 10
    undocumented = [
        name for name, responses in keyed.items() if not {"422", "409"} <= set(responses)
    ]
    assert undocumented == []
    error = {"$ref": "#/components/schemas/Error"}
    assert keyed["POST /api/v1/cart/lines"]["422"]["content"]["application/json"]["schema"] == error

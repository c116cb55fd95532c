"""Input checks and output shapes of the inventory API. Codes in, codes out: SKUs and
locations are named by their public codes, resolved with one query per table."""

from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from inventory import selectors, services, sync
from inventory.models import CycleCount, Location, StockMovement, Transfer, TransferLine
from omni.core.api.geo import DistanceField, PointQuerySerializer
from omni.core.errors import InvalidRequest

MAX_AVAILABILITY_SKUS = 50
MAX_AVAILABILITY_STORES = 20
MAX_SYNC_ROWS = 1000
MAX_LINES = 500
MAX_QUANTITY = 1_000_000  # per row; keeps sums far inside the database's integer range

# SOURCE_FIELD: serializers with a field named ``source`` (part of the API) tell mypy to ignore
# that drf-stubs see it as the ``Field.source`` attribute (a str); DRF's serializer metaclass
# takes declared fields off the class, so the two never meet.

# Transfers and counts write their own movements through their own endpoints, tied to the
# transfer or count they belong to; a sync reports everything else that happened to stock.
SYNC_KINDS = [
    (kind.value, kind.label)
    for kind in (
        StockMovement.Kind.RECEIPT,
        StockMovement.Kind.SALE,
        StockMovement.Kind.RETURN,
        StockMovement.Kind.ADJUSTMENT,
        StockMovement.Kind.DAMAGE,
    )
]


# --- Reading stock near a point --------------------------------------------------------------
# The point, the store limit and the distance are the kernel's (omni.core.api.geo), shared with
# the cart's pick-up stores.


class AvailabilityQuerySerializer(PointQuerySerializer):
    skus = serializers.CharField(
        help_text=f"Comma-separated SKU codes, at most {MAX_AVAILABILITY_SKUS}."
    )
    stores = serializers.IntegerField(
        min_value=1,
        max_value=MAX_AVAILABILITY_STORES,
        default=5,
        help_text="How many of the nearest pick-up stores to answer for.",
    )

    def validate_skus(self, value: str) -> list[str]:
        codes = list(dict.fromkeys(code.strip() for code in value.split(",") if code.strip()))
        if not codes:
            raise ValidationError("Name at least one SKU code.")
        if len(codes) > MAX_AVAILABILITY_SKUS:
            raise ValidationError(f"At most {MAX_AVAILABILITY_SKUS} SKU codes per call.")
        return codes


class StoreSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    address = serializers.CharField()
    city = serializers.CharField()
    postcode = serializers.CharField()
    country = serializers.CharField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, coerce_to_string=False)
    time_zone = serializers.CharField()
    opening_hours = serializers.DictField(child=serializers.CharField())
    pickup_hold_days = serializers.IntegerField()
    distance_km = DistanceField()


class AvailabilityLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    available = serializers.IntegerField(
        help_text="What may be sold online: on hand - reserved - safety stock, never below 0."
    )
    band = serializers.ChoiceField(
        choices=["available", "low", "out"],
        help_text='"low" is 1 to LOW_STOCK_BAND units (3 by default).',
    )


class StoreAvailabilitySerializer(serializers.Serializer):
    code = serializers.CharField(source="store.code")
    name = serializers.CharField(source="store.name")
    distance_km = DistanceField(source="store.distance_km")
    lines = AvailabilityLineSerializer(many=True, help_text="One per SKU, in the order asked.")


# --- Lists of rows, validated whole ----------------------------------------------------------


def _add_error(errors: dict, index: int, field: str, message: str) -> None:
    row_errors = errors.setdefault(index, {})
    if isinstance(row_errors, dict):
        row_errors.setdefault(field, []).append(message)


class RowsField(serializers.ListField):
    """A list of rows where every row is checked before answering: each bad row is reported
    under its index with all its problems, so a client fixes a batch in one round trip.
    Subclasses add checks across rows (codes that must exist, keys that must be unique)."""

    def run_child_validation(self, data):
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)  # before any lookup
        rows, errors = [], {}
        for index, item in enumerate(data):
            try:
                rows.append(self.child.run_validation(item))
            except ValidationError as error:
                rows.append(None)
                errors[index] = error.detail
        rows = self.check_rows(rows, errors)
        if errors:
            raise ValidationError({str(index): errors[index] for index in sorted(errors)})
        return rows

    def check_rows(self, rows: list, errors: dict) -> list:
        return rows


class SkuLinesField(RowsField):
    """Lines naming SKUs by code: each SKU once, resolved in one query (``row["sku"]`` becomes
    the Sku). Inactive SKUs pass here; services refuse them where it matters."""

    def check_rows(self, rows, errors):
        skus = selectors.skus_by_code(row["sku"] for row in rows if row)
        seen: dict[str, int] = {}
        for index, row in enumerate(rows):
            if row is None:
                continue
            code = row["sku"]
            if code not in skus:
                _add_error(errors, index, "sku", f"Unknown SKU code {code!r}.")
            elif code in seen:
                _add_error(errors, index, "sku", f"{code} is already on line {seen[code]}.")
            else:
                seen[code] = index
                row["sku"] = skus[code]
        return rows


def _location(code: str) -> Location:
    location = selectors.locations_by_code([code]).get(code)
    if location is None:
        raise ValidationError(f"Unknown location code {code!r}.")
    return location


# --- Stock sync ------------------------------------------------------------------------------


class MovementRowSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(
        max_length=100, help_text="Unique per movement, forever: a known key is a replay."
    )
    sku = serializers.CharField(max_length=64, help_text="SKU code.")
    location = serializers.CharField(max_length=32, help_text="Location code.")
    kind = serializers.ChoiceField(choices=SYNC_KINDS)
    quantity = serializers.IntegerField(
        min_value=-MAX_QUANTITY,
        max_value=MAX_QUANTITY,
        help_text="Signed change of on hand: negative for sale and damage, positive for "
        "receipt and return, either (not zero) for adjustment.",
    )
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reference = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class MovementRowsField(RowsField):
    """Rows become ``services.MovementSpec``; codes are resolved with one query per table."""

    def check_rows(self, rows, errors):
        present = [row for row in rows if row]
        skus = selectors.skus_by_code(row["sku"] for row in present)
        locations = selectors.locations_by_code(row["location"] for row in present)
        first_row_with_key: dict[str, int] = {}
        specs: list[services.MovementSpec | None] = []
        for index, row in enumerate(rows):
            if row is None:
                specs.append(None)
                continue
            sku, location = skus.get(row["sku"]), locations.get(row["location"])
            spec = services.MovementSpec(
                sku_id=sku.pk if sku else 0,
                location_id=location.pk if location else 0,
                kind=row["kind"],
                quantity=row["quantity"],
                reason=row["reason"],
                reference=row["reference"],
                idempotency_key=row["idempotency_key"],
            )
            if sku is None:
                _add_error(errors, index, "sku", f"Unknown SKU code {row['sku']!r}.")
            if location is None:
                _add_error(errors, index, "location", f"Unknown location {row['location']!r}.")
            try:
                services.validate_movement(spec)  # the one rule for signs, kind by kind
            except InvalidRequest as refusal:
                _add_error(errors, index, "quantity", refusal.message)
            key = row["idempotency_key"]
            if key in first_row_with_key:
                _add_error(
                    errors,
                    index,
                    "idempotency_key",
                    f"Key {key!r} appears twice in this batch (rows "
                    f"{first_row_with_key[key]} and {index}).",
                )
            else:
                first_row_with_key[key] = index
            specs.append(spec)
        for index, message in sync.order_sale_refusals(specs).items():
            _add_error(errors, index, "reference", message)
        return specs


class StockSyncSerializer(serializers.Serializer):
    source = serializers.CharField(  # type: ignore[assignment]  # see SOURCE_FIELD
        max_length=64, help_text="The reporting system, e.g. pos-paris or wms-lyon."
    )
    movements = MovementRowsField(
        child=MovementRowSerializer(), allow_empty=False, max_length=MAX_SYNC_ROWS
    )


class SyncedMovementSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the row in the request.")
    idempotency_key = serializers.CharField()
    sku = serializers.CharField()
    location = serializers.CharField()
    status = serializers.ChoiceField(
        choices=["recorded", "replayed"],
        help_text="replayed: the key was already in the ledger; nothing changed.",
    )
    on_hand = serializers.IntegerField(help_text="On hand of the SKU there after the batch.")


class SyncReportSerializer(serializers.Serializer):
    source = serializers.CharField()  # type: ignore[assignment]  # see SOURCE_FIELD
    recorded = serializers.IntegerField()
    replayed = serializers.IntegerField()
    movements = SyncedMovementSerializer(many=True)


# --- Transfers -------------------------------------------------------------------------------


class TransferLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="SKU code.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class TransferRequestSerializer(serializers.Serializer):
    source = serializers.CharField(  # type: ignore[assignment]  # see SOURCE_FIELD
        max_length=32, help_text="Location code stock leaves."
    )
    destination = serializers.CharField(max_length=32, help_text="Location code it goes to.")
    lines = SkuLinesField(
        child=TransferLineInputSerializer(), allow_empty=False, max_length=MAX_LINES
    )
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate(self, data):
        locations = selectors.locations_by_code([data["source"], data["destination"]])
        unknown = {
            field: [f"Unknown location code {data[field]!r}."]
            for field in ("source", "destination")
            if data[field] not in locations
        }
        if unknown:
            raise ValidationError(unknown)
        return {
            **data,
            "source": locations[data["source"]],
            "destination": locations[data["destination"]],
            "lines": {line["sku"]: line["quantity"] for line in data["lines"]},
        }


class ReceivedLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="SKU code.")
    received = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class TransferReceiptSerializer(serializers.Serializer):
    lines = SkuLinesField(
        child=ReceivedLineSerializer(),
        required=False,
        max_length=MAX_LINES,
        help_text="What arrived, per SKU; a SKU left out arrived in full. No body: all arrived.",
    )

    def validate(self, data):
        return {"received": {line["sku"].pk: line["received"] for line in data.get("lines", [])}}


def _by_code() -> "serializers.SlugRelatedField[Any]":
    """A related SKU or location shown by its code (read only)."""
    return serializers.SlugRelatedField(slug_field="code", read_only=True)


class TransferLineSerializer(serializers.ModelSerializer):
    sku = _by_code()

    class Meta:
        model = TransferLine
        fields = ["sku", "quantity", "received_quantity"]


class TransferSerializer(serializers.ModelSerializer):
    source = _by_code()  # type: ignore[assignment]  # see SOURCE_FIELD
    destination = _by_code()
    lines = TransferLineSerializer(many=True, read_only=True)

    class Meta:
        model = Transfer
        fields = [
            "public_id",
            "status",
            "source",
            "destination",
            "note",
            "created_at",
            "shipped_at",
            "received_at",
            "lines",
        ]


# --- Cycle counts ----------------------------------------------------------------------------


class CountedLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64, help_text="SKU code.")
    counted = serializers.IntegerField(min_value=0, max_value=MAX_QUANTITY)


class CycleCountRequestSerializer(serializers.Serializer):
    location = serializers.CharField(max_length=32, help_text="Location code.")
    lines = SkuLinesField(child=CountedLineSerializer(), allow_empty=False, max_length=MAX_LINES)
    note = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_location(self, code: str):
        return _location(code)

    def validate(self, data):
        lines = data.pop("lines")
        return {**data, "counts": {line["sku"]: line["counted"] for line in lines}}


class CycleCountLineSerializer(serializers.Serializer):
    sku = serializers.CharField(source="sku.code")
    expected = serializers.IntegerField(help_text="On hand before the count.")
    counted = serializers.IntegerField()
    difference = serializers.IntegerField(help_text="The correction written to the ledger.")


class CycleCountSerializer(serializers.ModelSerializer):
    location = _by_code()
    lines = CycleCountLineSerializer(many=True, read_only=True)

    class Meta:
        model = CycleCount
        fields = ["public_id", "location", "source", "note", "created_at", "lines"]

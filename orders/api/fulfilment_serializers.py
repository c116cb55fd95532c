"""Input checks and output shapes of the fulfilment API (warehouse systems, store tools).

Shipments, their lines and parcels are named by their public ids (UUIDs), locations and SKUs
by code."""

from typing import Any

from rest_framework import serializers

from inventory import selectors as inventory
from orders.models import Order, Parcel, ParcelLine, Shipment, ShipmentLine
from orders.selectors import OPEN_SHIPMENT

MAX_LINES = 500


def _id(**kwargs: Any) -> serializers.UUIDField:
    return serializers.UUIDField(**kwargs)


def _location(code: str) -> Any:
    location = inventory.locations_by_code([code]).get(code)
    if location is None:
        raise serializers.ValidationError(f"Unknown location code {code!r}.")
    return location


# --- Reading the queue ----------------------------------------------------------------------------


class QueueQuerySerializer(serializers.Serializer):
    location = serializers.CharField(max_length=32, help_text="Location code, e.g. ORL-DC.")
    status = serializers.CharField(
        required=False,
        help_text="Comma-separated: allocated (to pick), picked, packed. Default: all three.",
    )
    late = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only shipments not shipped FULFILMENT_LATE_HOURS after allocation; "
        "false: only the others.",
    )
    short = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="true: only shipments with a line reported short here; false: the others.",
    )

    def validate_location(self, code: str) -> Any:
        return _location(code)

    def validate_status(self, value: str) -> list[str]:
        statuses = list(dict.fromkeys(s.strip() for s in value.split(",") if s.strip()))
        wrong = [s for s in statuses if s not in OPEN_SHIPMENT]
        if wrong or not statuses:
            raise serializers.ValidationError(
                f"Choose among {', '.join(OPEN_SHIPMENT)}; the queue holds only open shipments."
            )
        return statuses


class ShipToSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    line1 = serializers.CharField(required=False)
    city = serializers.CharField(required=False)
    postcode = serializers.CharField(required=False)
    country = serializers.CharField(required=False, help_text="ISO 3166-1 alpha-2.")


class FulfilmentOrderSerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ["number", "status", "placed_at"]


class FulfilmentLineSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    sku = serializers.CharField(source="order_line.sku.code")
    name = serializers.CharField(source="order_line.sku.product.name")
    packed = serializers.SerializerMethodField(
        help_text="Units of the line in a parcel (packed, shipped or delivered)."
    )

    class Meta:
        model = ShipmentLine
        fields = ["id", "sku", "name", "quantity", "status", "packed", "short_reported_at", "note"]

    def get_packed(self, line: ShipmentLine) -> int:
        # From the shipment's parcels already loaded with it (its lines were prefetched from
        # it, so ``line.shipment`` is that shipment): no query per line.
        return sum(
            item.quantity
            for parcel in line.shipment.parcels.all()
            for item in parcel.lines.all()
            if item.shipment_line_id == line.pk
        )


class FulfilmentParcelLineSerializer(serializers.ModelSerializer):
    line = serializers.UUIDField(source="shipment_line.public_id", help_text="The shipment line.")
    sku = serializers.CharField(source="shipment_line.order_line.sku.code")

    class Meta:
        model = ParcelLine
        fields = ["line", "sku", "quantity"]


class FulfilmentParcelSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    lines = FulfilmentParcelLineSerializer(many=True)

    class Meta:
        model = Parcel
        fields = [
            "id",
            "status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "packed_at",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class FulfilmentShipmentSerializer(serializers.ModelSerializer):
    """What a location sends of one order, as its warehouse system works it."""

    id = serializers.UUIDField(source="public_id")
    order = FulfilmentOrderSerializer()
    location = serializers.CharField(source="location.code")
    allocated_at = serializers.DateTimeField(source="created_at")
    late = serializers.BooleanField(source="is_late")
    short = serializers.BooleanField(
        source="has_short", help_text="A line of it was reported short here."
    )
    stock_reference = serializers.CharField(
        source="reservation_reference",
        help_text="The reference of this shipment's reservations and of the sale movements its "
        "parcels write to the stock ledger when they ship.",
    )
    ship_to = ShipToSerializer(source="order.ship_to")
    lines = FulfilmentLineSerializer(many=True)
    parcels = FulfilmentParcelSerializer(many=True)

    class Meta:
        model = Shipment
        fields = [
            "id",
            "order",
            "location",
            "status",
            "allocated_at",
            "late",
            "short",
            "stock_reference",
            "ship_to",
            "lines",
            "parcels",
        ]


class ParcelResultSerializer(serializers.Serializer):
    parcel = FulfilmentParcelSerializer()
    shipment = FulfilmentShipmentSerializer(help_text="The parcel's shipment, after the call.")


class MovedToSerializer(serializers.Serializer):
    location = serializers.CharField(help_text="The location that now sends the line.")
    shipment = serializers.UUIDField(help_text="Its shipment there.")
    line = serializers.UUIDField(help_text="The line's id there.")


class ShortReportSerializer(serializers.Serializer):
    line = serializers.UUIDField(help_text="The line reported short.")
    outcome = serializers.ChoiceField(
        choices=["moved", "cancelled"],
        help_text="moved: another location can send the whole line and now does; cancelled: "
        "none can, the line is cancelled and its share refunded to the customer.",
    )
    moved_to = MovedToSerializer(allow_null=True)
    shipment = FulfilmentShipmentSerializer(help_text="This shipment, after the report.")


# --- Working it -----------------------------------------------------------------------------------


class PickSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=_id(),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Shipment line ids found on the shelves. Left out: every line still to pick.",
    )


class PackedLineSerializer(serializers.Serializer):
    line = _id(help_text="A picked shipment line.")
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class PackSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=PackedLineSerializer(),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Units per line in this parcel. Left out: everything picked, not yet packed.",
    )

    def validate_lines(self, lines: list[dict[str, Any]]) -> dict[Any, int]:
        contents: dict[Any, int] = {}
        for item in lines:
            if item["line"] in contents:
                raise serializers.ValidationError(f"Line {item['line']} is named twice.")
            contents[item["line"]] = item["quantity"]
        return contents


class TrackingSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=60, help_text="e.g. Colissimo, DHL.")
    tracking_number = serializers.CharField(max_length=100)
    tracking_url = serializers.URLField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="The link the customer follows (https://...), sent in the shipping notice.",
    )


class ShipSerializer(TrackingSerializer):
    lines = serializers.ListField(
        child=_id(),
        required=False,
        allow_empty=False,
        max_length=MAX_LINES,
        help_text="Shipment line ids to ship in this parcel. Left out: everything not sent.",
    )
    location = serializers.CharField(
        max_length=32,
        required=False,
        help_text="Ship from this location instead of the allocated one (code): the lines "
        "move there (released here, reserved there) and leave its stock only; if it is short, "
        "nothing changes (409 insufficient_stock).",
    )

    def validate_location(self, code: str) -> Any:
        return _location(code)


class ShortSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", help_text="e.g. bin empty."
    )

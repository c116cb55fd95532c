from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from omni.core.api.geo import DistanceField
from orders.models import (
    Cart,
    CartLine,
    Order,
    OrderEvent,
    OrderLine,
    Parcel,
    ParcelLine,
    Shipment,
    ShipmentLine,
)


class CartLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")
    name = serializers.CharField(source="sku.product.name")
    current_price = serializers.DecimalField(source="sku.price", max_digits=10, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        model = CartLine
        fields = [
            "sku",
            "name",
            "quantity",
            "unit_price",
            "current_price",
            "line_total",
            "channel",
            "device_id",
            "added_at",
        ]


class ShortLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    wanted = serializers.IntegerField(help_text="The quantity in the cart.")
    available = serializers.IntegerField(
        help_text="What the store could hold for this cart now (its own holds included)."
    )


class CartDiscountSerializer(serializers.Serializer):
    ref = serializers.CharField(help_text="`offer:<id>` or `coupon:<code>`.")
    name = serializers.CharField()
    reward = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)


class CartRefusalSerializer(serializers.Serializer):
    ref = serializers.CharField()
    reason = serializers.CharField(
        help_text="not_started, ended, where, channel, store, tier, segment, min_spend, "
        "no_qualifying_items, free_item_missing, not_enough_items, not_combinable."
    )
    message = serializers.CharField()


class CouponSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=60)


class CartSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    pickup_store = serializers.CharField(source="pickup_store.code", allow_null=True)
    hold_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the hold lapses; null unless `hold_status` is held."
    )
    hold_status = serializers.ChoiceField(
        choices=Cart.HoldStatus.choices,
        read_only=True,
        help_text="held: the pick-up store holds every line until `hold_expires_at`. lapsed: "
        "the hold ran out but the store still has every line; the next change to the cart, "
        "or checkout, holds it again. lost: the hold ran out and the store can no longer "
        "cover `short_lines`. none: no pick-up store, or an empty cart.",
    )
    short_lines = ShortLineSerializer(
        many=True,
        read_only=True,
        help_text="The lines the pick-up store is short of (when `hold_status` is lost).",
    )
    lines = CartLineSerializer(many=True)
    subtotal = serializers.SerializerMethodField()
    coupons = serializers.SerializerMethodField(help_text="The codes presented on the cart.")
    discounts = serializers.SerializerMethodField(
        help_text="What each offer or coupon takes off now (checked again at checkout)."
    )
    not_applied = serializers.SerializerMethodField(
        help_text="Coupons on the cart, and automatic offers close to applying, that do not "
        "apply now, and why."
    )
    discount = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField(help_text="Subtotal less discounts.")
    free_delivery = serializers.SerializerMethodField()
    guest_token = serializers.CharField(allow_null=True, help_text="Send as X-Cart-Token.")

    class Meta:
        model = Cart
        fields = [
            "id",
            "status",
            "currency",
            "pickup_store",
            "hold_status",
            "hold_expires_at",
            "short_lines",
            "lines",
            "subtotal",
            "coupons",
            "discounts",
            "not_applied",
            "discount",
            "total",
            "free_delivery",
            "guest_token",
        ]

    def get_subtotal(self, cart) -> str:
        return str(sum((line.line_total for line in cart.lines.all()), 0))

    def get_coupons(self, cart) -> list[str]:
        return [presented.coupon.code for presented in cart.coupons.all()]

    @extend_schema_field(CartDiscountSerializer(many=True))
    def get_discounts(self, cart):
        return CartDiscountSerializer(cart.pricing.applied, many=True).data

    @extend_schema_field(CartRefusalSerializer(many=True))
    def get_not_applied(self, cart):
        coupons = {f"coupon:{presented.coupon.code}" for presented in cart.coupons.all()}
        refused = [r for r in cart.pricing.refused if r.ref in coupons or r.reason == "min_spend"]
        return CartRefusalSerializer(refused, many=True).data

    def get_discount(self, cart) -> str:
        return f"{cart.pricing.discount:.2f}"

    def get_total(self, cart) -> str:
        subtotal = sum((line.line_total for line in cart.lines.all()), 0)
        return f"{subtotal - cart.pricing.discount:.2f}"

    def get_free_delivery(self, cart) -> bool:
        return cart.pricing.free_delivery


class CartPickupStoreSerializer(serializers.Serializer):
    code = serializers.CharField(source="store.code")
    name = serializers.CharField(source="store.name")
    address = serializers.CharField(source="store.address")
    city = serializers.CharField(source="store.city")
    postcode = serializers.CharField(source="store.postcode")
    country = serializers.CharField(source="store.country")
    latitude = serializers.DecimalField(
        source="store.latitude", max_digits=9, decimal_places=6, coerce_to_string=False
    )
    longitude = serializers.DecimalField(
        source="store.longitude", max_digits=9, decimal_places=6, coerce_to_string=False
    )
    time_zone = serializers.CharField(source="store.time_zone")
    opening_hours = serializers.DictField(
        source="store.opening_hours", child=serializers.CharField()
    )
    pickup_hold_days = serializers.IntegerField(source="store.pickup_hold_days")
    distance_km = DistanceField(source="store.distance_km")
    covers_cart = serializers.BooleanField(
        source="covers", help_text="The store can hold every line of the cart now."
    )
    short_lines = ShortLineSerializer(
        source="short", many=True, help_text="The lines it is short of, in the cart's order."
    )


class AddLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1)
    device_id = serializers.CharField(max_length=100, required=False, default="")


class SetQuantitySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)


class PickupStoreSerializer(serializers.Serializer):
    store = serializers.CharField(max_length=32, allow_null=True)


class MergeSerializer(serializers.Serializer):
    guest_token = serializers.CharField(max_length=64)
    wishlist_token = serializers.CharField(
        max_length=64,
        required=False,
        default="",
        help_text="The guest's X-Wishlist-Token, if it saved anything: its wish lists join "
        "the customer's in the same call (as `POST /wishlists/merge` does).",
    )


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    line1 = serializers.CharField(max_length=200)
    city = serializers.CharField(max_length=120)
    postcode = serializers.CharField(max_length=16)
    country = serializers.CharField(min_length=2, max_length=2)
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False)


# Storefronts check out for delivery or pick-up; in-store sales are made at the till.
CHECKOUT_FULFILMENTS = [
    (Order.Fulfilment.DELIVERY.value, Order.Fulfilment.DELIVERY.label),
    (Order.Fulfilment.PICKUP.value, Order.Fulfilment.PICKUP.label),
]


class CheckoutSerializer(serializers.Serializer):
    fulfilment = serializers.ChoiceField(choices=CHECKOUT_FULFILMENTS)
    pickup_store = serializers.CharField(max_length=32, required=False)
    address = AddressSerializer(required=False)
    redeem_points = serializers.IntegerField(min_value=0, required=False, default=0)
    payment_token = serializers.CharField(
        max_length=200, required=False, default="", help_text="The payment provider's token."
    )
    stored_value_card = serializers.UUIDField(
        required=False,
        allow_null=True,
        default=None,
        help_text="One of my stored-value cards: it pays first, up to its balance; the payment "
        "token pays the rest (split tender).",
    )

    def validate(self, data):
        if data["fulfilment"] == Order.Fulfilment.DELIVERY and "address" not in data:
            raise serializers.ValidationError({"address": "A delivery needs an address."})
        return data


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="sku.code")

    class Meta:
        model = OrderLine
        fields = [
            "sku",
            "quantity",
            "unit_price",
            "line_total",
            "discount",
            "returned_quantity",
            "cancelled_quantity",
            "cancelled_refund",
        ]


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ["created_at", "from_status", "to_status", "actor_label", "note"]


class ShipmentLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.sku.code")

    class Meta:
        model = ShipmentLine
        fields = ["sku", "quantity", "status"]


class ParcelLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="shipment_line.order_line.sku.code")

    class Meta:
        model = ParcelLine
        fields = ["sku", "quantity"]


class ParcelSerializer(serializers.ModelSerializer):
    lines = ParcelLineSerializer(many=True)

    class Meta:
        model = Parcel
        fields = [
            "status",
            "carrier",
            "tracking_number",
            "tracking_url",
            "shipped_at",
            "delivered_at",
            "lines",
        ]


class ShipmentSerializer(serializers.ModelSerializer):
    """What one location sends: its lines, and the parcels that left (with tracking)."""

    location = serializers.CharField(source="location.code")
    lines = ShipmentLineSerializer(many=True)
    parcels = ParcelSerializer(many=True)

    class Meta:
        model = Shipment
        fields = ["location", "status", "lines", "parcels"]


class OrderSummarySerializer(serializers.ModelSerializer):
    store = serializers.CharField(source="store.code", allow_null=True)
    lines = OrderLineSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "number",
            "status",
            "fulfilment",
            "channel",
            "store",
            "currency",
            "subtotal",
            "points_redeemed",
            "offer_discount",
            "points_discount",
            "total",
            "placed_at",
            "lines",
        ]


class OrderSerializer(OrderSummarySerializer):
    timeline = OrderEventSerializer(source="events", many=True)
    shipments = ShipmentSerializer(many=True)
    pickup_code = serializers.SerializerMethodField()

    class Meta(OrderSummarySerializer.Meta):
        fields = [
            *OrderSummarySerializer.Meta.fields,
            "pickup_code",
            "pickup_expires_at",
            "ship_to",
            "timeline",
            "shipments",
        ]

    def get_pickup_code(self, order) -> str | None:
        """Shown to the customer once the order is ready, to give at the counter."""
        return order.pickup_code if order.status == Order.Status.READY_FOR_PICKUP else None

"""Input and output shapes of the wish-list endpoints (no rule here: ``orders.services``)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.models import WishList, WishListItem


class ImageSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The picture (site-relative URL).")
    thumbnail = serializers.CharField(allow_null=True)
    alt_text = serializers.CharField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {
            "url": instance.image.url if instance.image else "",
            "thumbnail": instance.thumbnail.url if instance.thumbnail else None,
            "alt_text": instance.alt_text,
        }


class SharedItemSerializer(serializers.ModelSerializer):
    """What anyone with a shared list's link sees of an item: the product, never the owner."""

    product = serializers.CharField(source="product.code")
    name = serializers.CharField(source="product.name")
    brand = serializers.CharField(source="product.brand")
    sku = serializers.CharField(source="sku.code", allow_null=True)
    attributes = serializers.SerializerMethodField()
    price = serializers.DecimalField(
        source="price_now",
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        help_text="The price now: the SKU's, or for a product its cheapest SKU's ('from').",
    )
    images = ImageSerializer(source="product.images.all", many=True)

    class Meta:
        model = WishListItem
        fields = ["product", "name", "brand", "sku", "attributes", "price", "images"]

    @extend_schema_field({"type": "object", "additionalProperties": {"type": "string"}})
    def get_attributes(self, item: WishListItem) -> dict[str, Any]:
        return dict(item.sku.attributes) if item.sku else {}


class WishListItemSerializer(SharedItemSerializer):
    id = serializers.UUIDField(source="public_id")
    price_when_added = serializers.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        model = WishListItem
        fields = [
            "id",
            *SharedItemSerializer.Meta.fields,
            "price_when_added",
            "channel",
            "added_at",
        ]


class WishListSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id")
    shared = serializers.SerializerMethodField(help_text="Anyone with `share_token` reads it.")
    share_token = serializers.CharField(
        allow_null=True,
        help_text="While shared: read the list at /api/v1/wishlists/shared/{share_token}.",
    )
    items = WishListItemSerializer(source="item_list", many=True)
    guest_token = serializers.SerializerMethodField(
        help_text="A guest's lists: send it as X-Wishlist-Token (null for a customer's)."
    )

    class Meta:
        model = WishList
        fields = [
            "id",
            "name",
            "is_default",
            "shared",
            "share_token",
            "items",
            "guest_token",
            "created_at",
            "updated_at",
        ]

    def get_shared(self, wish_list: WishList) -> bool:
        return bool(wish_list.share_token)

    def get_guest_token(self, wish_list: WishList) -> str | None:
        return wish_list.guest_token or None


class SharedWishListSerializer(serializers.ModelSerializer):
    items = SharedItemSerializer(source="item_list", many=True)

    class Meta:
        model = WishList
        fields = ["name", "items"]


class WishListNameSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)


class AddItemSerializer(serializers.Serializer):
    product = serializers.CharField(
        max_length=64, required=False, default="", help_text="A product code (any SKU of it)."
    )
    sku = serializers.CharField(
        max_length=64, required=False, default="", help_text="A SKU code (that size/colour)."
    )
    list = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Which list; default: the default."
    )


class ShareSerializer(serializers.Serializer):
    shared = serializers.BooleanField()


class MergeWishListsSerializer(serializers.Serializer):
    guest_token = serializers.CharField(max_length=64, help_text="The guest's X-Wishlist-Token.")

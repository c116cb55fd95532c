from typing import Any

from rest_framework import serializers

from loyalty.models import PointsEntry, StoredValueCard, StoredValueEntry


class TierSerializer(serializers.Serializer):
    name = serializers.CharField()
    earn_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)


class NextTierSerializer(serializers.Serializer):
    name = serializers.CharField()
    threshold = serializers.DecimalField(max_digits=12, decimal_places=2)


class SummarySerializer(serializers.Serializer):
    """My balance, tier and progress, as the app, the receipt and the clerk all show it."""

    balance = serializers.IntegerField(source="account.balance")
    available = serializers.IntegerField(source="account.available")
    pending = serializers.IntegerField(source="account.pending")
    tier = TierSerializer(source="account.tier")
    tier_basis = serializers.CharField(source="account.programme.tier_basis")
    qualifying = serializers.DecimalField(max_digits=12, decimal_places=2)
    next_tier = NextTierSerializer(allow_null=True)
    to_next_tier = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    tier_anniversary = serializers.DateField(source="account.tier_anniversary")
    expiring_points = serializers.IntegerField()
    expiring_by = serializers.DateTimeField()
    card_number = serializers.CharField(source="card.number", allow_null=True)


class EntrySerializer(serializers.ModelSerializer):
    points = serializers.IntegerField()

    class Meta:
        model = PointsEntry
        fields = [
            "created_at",
            "kind",
            "points",
            "available",
            "pending",
            "source",
            "reference",
            "channel",
            "explanation",
            "reason",
        ]


class QuoteLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=999)


class QuoteRequestSerializer(serializers.Serializer):
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=QuoteLineSerializer(), allow_empty=False, max_length=200
    )
    campaign_codes = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=20
    )


class QuoteSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    qualifying_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    explanation = serializers.ListField(child=serializers.DictField())


class StoredValueCardSerializer(serializers.ModelSerializer):
    """A gift or wallet card as its owner sees it (the full number is theirs to show)."""

    id = serializers.UUIDField(source="public_id")
    min_top_up = serializers.DecimalField(
        source="programme.min_top_up", max_digits=12, decimal_places=2
    )
    max_top_up = serializers.DecimalField(
        source="programme.max_top_up", max_digits=12, decimal_places=2
    )
    max_balance = serializers.DecimalField(
        source="programme.max_balance", max_digits=12, decimal_places=2
    )

    class Meta:
        model = StoredValueCard
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "currency",
            "balance",
            "issued_at",
            "expires_at",
            "min_top_up",
            "max_top_up",
            "max_balance",
        ]


class StoredValueEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = StoredValueEntry
        fields = [
            "created_at",
            "kind",
            "amount",
            "currency",
            "balance_after",
            "channel",
            "reference",
        ]


class ClaimCardSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=32, help_text="The number on the gift card.")

"""Asking about places near a point, the same in every app's API: the point and the number
of stores as query parameters, and the distance in the answer."""

from typing import Any

from rest_framework import serializers

MAX_STORES = 50  # stores in one answer about the stores near a point


class PointQuerySerializer(serializers.Serializer[Any]):
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="Latitude, degrees.")
    lng = serializers.FloatField(min_value=-180, max_value=180, help_text="Longitude, degrees.")


class StoresQuerySerializer(PointQuerySerializer):
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_STORES, default=10, help_text="How many stores, nearest first."
    )


class DistanceField(serializers.FloatField):
    """Kilometres to 10 m: finer would only tell how precisely the store was geocoded."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Great-circle distance from the point asked about, in km.")
        super().__init__(read_only=True, **kwargs)

    # drf-stubs type FloatField's representation as str; DRF's own FloatField gives a float.
    def to_representation(self, value: float) -> float:  # type: ignore[override]
        return round(float(value), 2)

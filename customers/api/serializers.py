"""Shapes of the customer endpoints: input checks and output only; rules are in services."""

from typing import Any

from rest_framework import serializers

from customers.events import INGESTED_KINDS, MAX_BATCH_SIZE
from customers.models import ConsentPurpose, ContactChannel, Customer, Touchpoint
from customers.services import SURVEY_COMMENT_MAX_LENGTH, Scale


class ProfileSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="Any format; stored as E.164."
    )

    class Meta:
        model = Customer
        fields = [
            "id",
            "first_name",
            "last_name",
            "email",
            "phone",
            "birthday",
            "preferred_store_code",
            "time_zone",
            "first_seen_channel",
            "created_at",
        ]
        read_only_fields = ["first_seen_channel", "created_at"]


class SignUpSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, max_length=128)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    anonymous_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=128,
        help_text="The visitor's anonymous (web) or device (app) id: earlier events join.",
    )


class SignUpAcceptedSerializer(serializers.Serializer):
    status = serializers.CharField(help_text="Always `check_your_email`.")
    message = serializers.CharField()


class SignUpConfirmSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512, help_text="The token of the e-mailed link.")
    password = serializers.CharField(
        write_only=True, max_length=128, help_text="The password chosen at sign-up."
    )


class SignInSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128)
    anonymous_id = serializers.CharField(required=False, allow_blank=True, max_length=128)


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(write_only=True, max_length=128)
    new_password = serializers.CharField(write_only=True, max_length=128)


class SessionSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as 'Authorization: Bearer <token>'.")
    customer = ProfileSerializer()


class ConsentStateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ContactChannel.choices)
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    granted = serializers.BooleanField()
    recorded_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="Null when the customer was never asked."
    )


class ConsentChangesSerializer(serializers.Serializer):
    consents: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ConsentStateSerializer(), allow_empty=False, max_length=100
    )


class UtmSerializer(serializers.Serializer):
    # DRF takes declared fields off the class, so this one never hides ``Field.source``.
    source = serializers.CharField(required=False, max_length=100)  # type: ignore[assignment]
    medium = serializers.CharField(required=False, max_length=100)
    campaign = serializers.CharField(required=False, max_length=100)
    term = serializers.CharField(required=False, max_length=100)
    content = serializers.CharField(required=False, max_length=100)


class TouchpointEventSerializer(serializers.Serializer):
    """The documented shape of one event; ``customers.events.parse_event`` checks it."""

    type = serializers.ChoiceField(
        choices=[(kind, label) for kind, label in Touchpoint.Kind.choices if kind in INGESTED_KINDS]
    )
    occurred_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone offset.")
    event_id = serializers.CharField(
        required=False, max_length=64, help_text="Your id for the event; a resend is ignored."
    )
    anonymous_id = serializers.CharField(
        required=False,
        max_length=128,
        help_text="Web anonymous id or app device id. Required unless a customer is signed in.",
    )
    url = serializers.CharField(required=False, max_length=2048)
    sku_code = serializers.CharField(required=False, max_length=64)
    product_code = serializers.CharField(required=False, max_length=64)
    store_code = serializers.CharField(required=False, max_length=32)
    campaign_code = serializers.CharField(required=False, max_length=64)
    utm = UtmSerializer(required=False)
    properties = serializers.DictField(required=False, help_text="Free properties, up to 8 kB.")


class EventBatchSerializer(serializers.Serializer):
    # Items are checked one by one by the service, so that a bad one is reported by index.
    events = serializers.ListField(
        child=serializers.JSONField(), min_length=1, max_length=MAX_BATCH_SIZE
    )


class EventBatchDocumentation(serializers.Serializer):
    events: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=TouchpointEventSerializer(), max_length=MAX_BATCH_SIZE
    )


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the batch, from 0.")
    # DRF takes declared fields off the class, so this one never hides ``Serializer.errors``.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )


class IngestionReportSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored.")
    duplicates = serializers.IntegerField(help_text="Events whose event_id was already stored.")
    rejected = RejectedEventSerializer(many=True)


class ErasureSerializer(serializers.Serializer):
    customer_id = serializers.UUIDField(source="customer_public_id")
    erased_at = serializers.DateTimeField()
    kept = serializers.DictField(
        child=serializers.IntegerField(), help_text="Records kept as the law requires, per kind."
    )


class SurveyAnswerInputSerializer(serializers.Serializer):
    token = serializers.CharField(
        required=False,
        max_length=1024,
        help_text="The token of a survey link (the part after /survey/). Or give order_number.",
    )
    order_number = serializers.CharField(
        required=False, max_length=20, help_text="One of your finished orders (with scale)."
    )
    scale = serializers.ChoiceField(
        choices=Scale.choices, required=False, help_text="Required with order_number."
    )
    score = serializers.IntegerField(help_text="nps: 0 to 10; csat: 1 to 5.")
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=SURVEY_COMMENT_MAX_LENGTH
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("token" in attrs) == ("order_number" in attrs):
            raise serializers.ValidationError("Give either token or order_number.")
        if "order_number" in attrs and "scale" not in attrs:
            raise serializers.ValidationError({"scale": ["Required with order_number."]})
        if "token" in attrs and "scale" in attrs:
            raise serializers.ValidationError({"scale": ["The token says the scale."]})
        return attrs


class SurveyAnswerSerializer(serializers.Serializer):
    order_number = serializers.CharField(source="properties.order_number")
    scale = serializers.ChoiceField(source="properties.scale", choices=Scale.choices)
    score = serializers.IntegerField(source="properties.score")
    comment = serializers.CharField(source="properties.comment")
    channel = serializers.CharField(help_text="The order's channel.")
    store_code = serializers.CharField()
    campaign_code = serializers.CharField(help_text="The campaign that asked, if one did.")
    answered_at = serializers.DateTimeField(source="occurred_at", help_text="First answered.")


# --- Service conversations ------------------------------------------------------------------


class ConversationMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    direction = serializers.CharField()
    channel = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    from_staff = serializers.SerializerMethodField()

    def get_from_staff(self, message) -> bool:
        return message.direction != "inbound"


class ConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    subject = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField(help_text="Where it started.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    solved_at = serializers.DateTimeField(allow_null=True)
    last_message = serializers.CharField(allow_null=True, required=False, default=None)


class ConversationDetailSerializer(ConversationSerializer):
    messages = ConversationMessageSerializer(many=True, source="message_list")
    csat_rating = serializers.IntegerField(allow_null=True)


class NewConversationSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=20000)


class NewMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=20000)

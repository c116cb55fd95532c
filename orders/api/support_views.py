"""The helpdesk or chat tool's calls (server to server, ``Authorization: Token <token>`` of an
integration user, like the warehouse systems): customers' messages in, and the chat and
social replies it has to deliver out.

Here rather than in ``customers`` because an inbound message may name the orders it is about
(linked by ``orders.services``), and integration tokens are checked by ``inventory.access``."""

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Customer, Identity
from inventory.access import STAFF_AUTHENTICATION, HasModelPermission
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.throttling import StaffThrottle
from omni.core.errors import NotFound
from orders import services

RECEIVE = "customers.add_conversationmessage"
FETCH = "customers.view_conversationmessage"
DELIVERED = "customers.change_conversationmessage"
INBOUND_CHANNELS = ["email", "chat", "social", "phone"]

ERRORS = {
    400: "Invalid input (`validation_error`, field errors in `details`): no e-mail or phone, an "
    "unknown channel, an empty body, an order number that is not the customer's. Nothing was "
    "recorded.",
    401: "Not signed in: send `Authorization: Token <token>`; or the token is unknown, revoked "
    "(`authentication_failed`) or expired (`not_authenticated`).",
    403: "Signed in without the permission this call needs (`permission_denied`).",
    404: "No conversation (or reply) with this id (`not_found`). Nothing was recorded.",
    409: "`conflict`: the conversation named belongs to another customer. Nothing was "
    "recorded; send the message without `conversation` to open one for this customer.",
    429: "Too many calls with this token; retry after `Retry-After` seconds.",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ERROR_SCHEMA, description=ERRORS[code]) for code in statuses}


class InboundMessageSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=32)
    name = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="For a customer not known."
    )
    channel = serializers.ChoiceField(choices=INBOUND_CHANNELS)
    body = serializers.CharField(max_length=50000)
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="Your id for the message: the same id on the same channel again is ignored.",
    )
    conversation = serializers.UUIDField(
        required=False, help_text="The conversation it answers (our id, from a reply)."
    )
    thread_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="Your id for the thread: messages of one thread share one conversation.",
    )
    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    order_numbers = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=20
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not (attrs.get("email") or attrs.get("phone")):
            raise serializers.ValidationError({"email": ["Give the customer's e-mail or phone."]})
        return attrs


class SupportConversationSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    subject = serializers.CharField()
    status = serializers.CharField()
    channel = serializers.CharField(help_text="Where it started.")
    created_at = serializers.DateTimeField()


class SupportMessageSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    direction = serializers.CharField()
    channel = serializers.CharField()
    body = serializers.CharField()
    external_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class ReceivedSerializer(serializers.Serializer):
    conversation = SupportConversationSerializer(source="message.conversation")
    message = SupportMessageSerializer()
    customer = serializers.UUIDField(source="message.conversation.customer.public_id")
    recorded = serializers.BooleanField(source="created", help_text="False: a redelivery.")


class OutboundSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    conversation = serializers.UUIDField(source="conversation.public_id")
    thread_id = serializers.CharField(source="conversation.thread_id")
    channel = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    email = serializers.CharField(source="conversation.customer.email")
    phone = serializers.CharField(source="conversation.customer.phone")


class DeliveredSerializer(serializers.Serializer):
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=255)


class SupportView(APIView):
    authentication_classes = STAFF_AUTHENTICATION
    permission_classes = [HasModelPermission]
    throttle_scope = "support"
    throttle_classes = [StaffThrottle]


def _sender(data: dict[str, Any]) -> Customer:
    """The customer the message is from: found by e-mail, else phone (however written), else
    a new profile holding them."""
    given = [
        (kind, data[name])
        for name, kind in (("email", Identity.Kind.EMAIL), ("phone", Identity.Kind.PHONE))
        if data.get(name)
    ]
    for kind, value in given:
        known = customer_selectors.customer_by_identity(kind=kind, value=value)
        if known is not None and known.erased_at is None:
            return known
    resolved = customer_services.resolve_customer(
        identities=given[:1], cause="support message from an unknown sender"
    )
    return resolved.customer


class InboundMessagesView(SupportView):
    required_permissions = {"POST": RECEIVE}

    @extend_schema(
        tags=["support"],
        summary="A customer's message from the helpdesk or chat tool",
        description=(
            "Finds the customer by e-mail or phone (a new profile if unknown), then adds the "
            "message to the conversation named by `conversation` (our id) or `thread_id` (yours), "
            "or opens a new one; a solved or waiting conversation reopens. The same "
            "`external_id` on the same channel again is a redelivery: 200 with the first "
            "message, nothing recorded. `order_numbers` link the customer's orders it is about."
        ),
        request=InboundMessageSerializer,
        responses={
            201: ReceivedSerializer,
            200: OpenApiResponse(ReceivedSerializer, description="A redelivery, ignored."),
            **errors(400, 401, 403, 404, 409, 429),
        },
    )
    def post(self, request: Request) -> Response:
        data = InboundMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        given = data.validated_data
        received = services.receive_support_message(
            customer=_sender(given),
            channel=given["channel"],
            body=given["body"],
            external_id=given.get("external_id", ""),
            conversation_id=str(given.get("conversation") or ""),
            thread_id=given.get("thread_id", ""),
            subject=given.get("subject", ""),
            order_numbers=given.get("order_numbers", []),
        )
        return Response(
            ReceivedSerializer(received).data,
            status=status.HTTP_201_CREATED if received.created else status.HTTP_200_OK,
        )


class OutboundMessagesView(SupportView):
    required_permissions = {"GET": FETCH}

    @extend_schema(
        tags=["support"],
        summary="Chat and social replies to deliver",
        description="Agents' replies on chat or social, oldest first (up to 100), until you "
        "say each is delivered. E-mail replies leave through Omni's outbox, not here.",
        responses={200: OutboundSerializer(many=True), **errors(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        replies = customer_selectors.replies_to_deliver()
        return Response(OutboundSerializer(replies, many=True).data)


class OutboundDeliveredView(SupportView):
    required_permissions = {"POST": DELIVERED}

    @extend_schema(
        tags=["support"],
        summary="Say a chat or social reply was delivered",
        description="Saying so again changes nothing. 409 when the tool's id for the reply is "
        "already another message's on this channel.",
        request=DeliveredSerializer,
        responses={200: OutboundSerializer, **errors(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, message_id: UUID) -> Response:
        data = DeliveredSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = customer_selectors.outbound_reply(message_id)
        if message is None:
            raise NotFound("No reply with this id.", details={"message": str(message_id)})
        delivered = customer_services.mark_reply_delivered(
            message=message, external_id=data.validated_data.get("external_id", "")
        )
        delivered.conversation = message.conversation  # read above: no query more
        return Response(OutboundSerializer(delivered).data)

"""Storefront endpoints for customers: sign-up and sign-in, my profile, my consents, my data
(export and erasure), my survey answers, my service conversations, and event ingestion. Each
view calls one service or selector."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, OpenApiTypes, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from customers import selectors, services
from customers.api import serializers as s
from omni.core.api.auth import IsSignedInCustomer, IsStorefront, StorefrontAuthentication
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import (
    STOREFRONT_WRITE_THROTTLES,
    AddressThrottle,
    CustomerThrottle,
    EmailThrottle,
    StorefrontKeyThrottle,
)
from omni.core.errors import NotFound

# OpenAPI security requirements. drf-spectacular annotates ``extend_schema(auth=)`` as a list of
# scheme names but reads it as these objects (``AutoSchema.get_auth``), hence the ignores below.
KEY_ONLY: list[dict[str, list[str]]] = [{"storefrontKey": []}]
KEY_AND_MAYBE_TOKEN: list[dict[str, list[str]]] = [
    {"storefrontKey": []},
    {"storefrontKey": [], "customerToken": []},
]
ERRORS = {
    400: OpenApiResponse(ERROR_SCHEMA, description="Invalid input (`validation_error`)."),
    401: OpenApiResponse(ERROR_SCHEMA, description="Missing, wrong or expired API key or token."),
    403: OpenApiResponse(ERROR_SCHEMA, description="No API key, or no signed-in customer."),
}
THROTTLED = {
    429: OpenApiResponse(
        ERROR_SCHEMA, description="Too many calls (`throttled`); retry after `Retry-After` s."
    )
}
ACCOUNT_THROTTLES = [AddressThrottle, EmailThrottle, StorefrontKeyThrottle]
SIGN_UP_ACCEPTED = {
    "status": "check_your_email",
    "message": "If this address can open an account, a link to confirm it is on its way. "
    "Follow it and enter the password you chose.",
}


class StorefrontView(APIView):
    authentication_classes = [StorefrontAuthentication]
    permission_classes = [IsStorefront]


class CustomerView(StorefrontView):
    permission_classes = [IsSignedInCustomer]


def _session(signed_in: services.SignedIn) -> dict:
    return s.SessionSerializer({"token": signed_in.token, "customer": signed_in.customer}).data


class SignUpView(StorefrontView):
    throttle_scope = "sign_up"
    throttle_classes = ACCOUNT_THROTTLES

    @extend_schema(
        tags=["customers"],
        summary="Ask to open an account: a link to confirm the e-mail address is sent",
        description=(
            "Never signs in, and answers the same whether or not the address is known: the "
            "address gets a link to `sign-up/confirm` (or, if it has an account, a notice "
            "to its owner). A store or guest profile with this e-mail becomes the account "
            "only when the link is followed. 400 for input wrong whatever the address "
            "(a weak password, a bad phone)."
        ),
        auth=KEY_ONLY,  # type: ignore[arg-type]  # see KEY_ONLY
        request=s.SignUpSerializer,
        responses={202: s.SignUpAcceptedSerializer, **ERRORS, **THROTTLED},
    )
    @idempotent
    def post(self, request):
        data = s.SignUpSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_sign_up(channel=request.user.channel, **data.validated_data)
        return Response(SIGN_UP_ACCEPTED, status=status.HTTP_202_ACCEPTED)


class SignUpConfirmView(StorefrontView):
    # Not @idempotent: the answer carries a bearer token, which is never stored.
    throttle_scope = "sign_up_confirm"
    throttle_classes = [AddressThrottle]

    @extend_schema(
        tags=["customers"],
        summary="Confirm a sign-up with the e-mailed link's token and the password; sign in",
        description=(
            "201 with a token for a new customer, 200 when the address's store or guest "
            "profile became the account. A link works once and expires "
            "(`SIGN_UP_LINK_HOURS`); 400 `invalid_request` for a used, expired or unknown "
            "one, 401 `invalid_credentials` for a password other than the one chosen at "
            "sign-up (a few and the link dies), 409 when the address has an account already."
        ),
        auth=KEY_ONLY,  # type: ignore[arg-type]  # see KEY_ONLY
        request=s.SignUpConfirmSerializer,
        responses={
            201: s.SessionSerializer,
            200: s.SessionSerializer,
            409: ERROR_SCHEMA,
            **ERRORS,
            **THROTTLED,
        },
    )
    def post(self, request):
        data = s.SignUpConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = services.confirm_sign_up(**data.validated_data)
        return Response(
            _session(signed_in),
            status=status.HTTP_201_CREATED if signed_in.created else status.HTTP_200_OK,
        )


class SignInView(StorefrontView):
    throttle_scope = "sign_in"
    throttle_classes = ACCOUNT_THROTTLES

    @extend_schema(
        tags=["customers"],
        summary="Sign a customer in; returns a bearer token",
        description="Limited per address, per e-mail and per storefront app (429).",
        auth=KEY_ONLY,  # type: ignore[arg-type]  # see KEY_ONLY
        request=s.SignInSerializer,
        responses={200: s.SessionSerializer, **ERRORS, **THROTTLED},
    )
    def post(self, request):
        data = s.SignInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = services.sign_in(channel=request.user.channel, **data.validated_data)
        return Response(_session(signed_in))


class SignOutView(CustomerView):
    @extend_schema(
        tags=["customers"],
        summary="Sign out: the token stops working",
        request=None,
        responses={204: None, **ERRORS},
    )
    def post(self, request):
        services.sign_out(token=request.user.token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignOutEverywhereView(CustomerView):
    @extend_schema(
        tags=["customers"],
        summary="Sign out on every device: all my tokens stop working",
        description="This call's token too. Other devices get a 401 and sign in again.",
        request=None,
        responses={204: None, **ERRORS},
    )
    def post(self, request):
        services.revoke_customer_tokens(customer=request.user.customer)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyPasswordView(CustomerView):
    # Slows guessing the current password with a stolen token, whatever the address.
    throttle_scope = "password_change"
    throttle_classes = [AddressThrottle, CustomerThrottle]

    @extend_schema(
        tags=["customers"],
        summary="Change my password; other devices are signed out",
        description=(
            "The current password must be given; the new one is checked by the same rules "
            "as at sign-up. Every other token of the customer is revoked; the token of this "
            "call goes on working. A wrong current password is a 400 `validation_error` "
            "naming `current_password`. Ten tries an hour per customer. Not replayed by "
            "`Idempotency-Key`: the body holds passwords, which are never kept."
        ),
        request=s.PasswordChangeSerializer,
        responses={
            204: None,
            **ERRORS,
            429: OpenApiResponse(
                ERROR_SCHEMA, description="Too many tries; retry after `Retry-After` seconds."
            ),
        },
    )
    def post(self, request):
        data = s.PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.change_password(
            customer=request.user.customer, keep=request.user.token, **data.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyProfileView(CustomerView):
    @extend_schema(tags=["customers"], summary="My profile", responses={200: s.ProfileSerializer})
    def get(self, request):
        return Response(s.ProfileSerializer(request.user.customer).data)

    @extend_schema(
        tags=["customers"],
        summary="Change my profile",
        request=s.ProfileSerializer,
        responses={200: s.ProfileSerializer, 409: ERROR_SCHEMA, **ERRORS},
    )
    @idempotent
    def patch(self, request):
        data = s.ProfileSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        customer = services.update_profile(
            customer=request.user.customer, changes=data.validated_data
        )
        return Response(s.ProfileSerializer(customer).data)


class MyConsentsView(CustomerView):
    @extend_schema(
        tags=["customers"],
        summary="My consents: the current state of every channel and purpose",
        responses={200: s.ConsentStateSerializer(many=True)},
    )
    def get(self, request):
        states = selectors.current_consents(request.user.customer)
        return Response(s.ConsentStateSerializer(states, many=True).data)

    @extend_schema(
        tags=["customers"],
        summary="Grant or withdraw consents",
        description="Only changes are recorded, each with this request's IP and user agent.",
        request=s.ConsentChangesSerializer,
        responses={200: s.ConsentStateSerializer(many=True), **ERRORS},
    )
    @idempotent
    def patch(self, request):
        data = s.ConsentChangesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.record_consents(
            customer=request.user.customer,
            decisions=[
                services.ConsentDecision(
                    channel=item["channel"], purpose=item["purpose"], granted=item["granted"]
                )
                for item in data.validated_data["consents"]
            ],
            source_channel=request.user.channel,
            ip_address=request.META.get("REMOTE_ADDR"),
            user_agent=request.headers.get("User-Agent", ""),
        )
        states = selectors.current_consents(request.user.customer)
        return Response(s.ConsentStateSerializer(states, many=True).data)


class MyDataExportView(CustomerView):
    @extend_schema(
        tags=["customers"],
        summary="Everything held about me, as one JSON document",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        document = selectors.customer_export(request.user.customer, now=timezone.now())
        filename = f"customer-{request.user.customer.public_id}.json"
        return Response(
            document, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
        )


class MyErasureView(CustomerView):
    @extend_schema(
        tags=["customers"],
        summary="Erase my personal data",
        description=(
            "Anonymises the profile and touchpoints and signs out everywhere. Orders and "
            "ledgers the law requires to keep are kept, without the personal data."
        ),
        request=None,
        responses={200: s.ErasureSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request):
        record = services.erase_customer(
            customer=request.user.customer, requested_via=f"api:{request.user.channel}"
        )
        return Response(s.ErasureSerializer(record).data)


class EventIngestionView(StorefrontView):
    throttle_scope = "events"
    throttle_classes = STOREFRONT_WRITE_THROTTLES

    @extend_schema(
        tags=["events"],
        summary="Send up to 500 touchpoint events",
        auth=KEY_AND_MAYBE_TOKEN,  # type: ignore[arg-type]  # see KEY_ONLY
        description=(
            "Each event is checked on its own: bad ones are listed in `rejected` by their "
            "index and the others are stored. When no event can be stored the answer is a "
            "400 `validation_error` listing them. Events of a signed-in customer (bearer "
            "token) are theirs; otherwise each needs an `anonymous_id`."
        ),
        request=s.EventBatchDocumentation,
        responses={200: s.IngestionReportSerializer, **ERRORS, **THROTTLED},
    )
    @idempotent
    def post(self, request):
        data = s.EventBatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.ingest_touchpoints(
            channel=request.user.channel,
            events=data.validated_data["events"],
            customer=request.user.customer,
        )
        return Response(s.IngestionReportSerializer(report).data)


class MySurveyAnswersView(CustomerView):
    throttle_scope = "survey"
    throttle_classes = STOREFRONT_WRITE_THROTTLES

    @extend_schema(
        tags=["customers"],
        summary="Answer a satisfaction survey (NPS or CSAT) about one of my orders",
        description=(
            "For apps that ask in the app what a survey link asks on the web. Send the link's "
            "`token`, or the `order_number` of one of your collected, delivered or completed "
            "orders with its `scale` (`nps`: 0 to 10; `csat`: 1 to 5). One answer per order "
            "and scale: 201 for the first, 200 when it corrects an earlier one (no second "
            "answer is stored). 400 for a score off the scale, a bad or expired token or an "
            "order not finished yet; 403 for a token sent to another customer; 404 for an "
            "order that is not yours."
        ),
        request=s.SurveyAnswerInputSerializer,
        responses={
            201: s.SurveyAnswerSerializer,
            200: s.SurveyAnswerSerializer,
            404: OpenApiResponse(ERROR_SCHEMA, description="No order of yours has this number."),
            **ERRORS,
            403: OpenApiResponse(
                ERROR_SCHEMA,
                description="No signed-in customer, or a survey sent to another customer.",
            ),
            **THROTTLED,
        },
    )
    @idempotent
    def post(self, request):
        data = s.SurveyAnswerInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        common = {
            "customer": request.user.customer,
            "score": fields["score"],
            "comment": fields.get("comment", ""),
            "answered_via": f"api:{request.user.channel}",
        }
        if "token" in fields:
            answer = services.answer_survey_with_token(token=fields["token"], **common)
        else:
            answer = services.answer_survey_for_order(
                order_number=fields["order_number"], scale=fields["scale"], **common
            )
        return Response(
            s.SurveyAnswerSerializer(answer.touchpoint).data,
            status=status.HTTP_201_CREATED if answer.created else status.HTTP_200_OK,
        )


# --- My service conversations ---------------------------------------------------------------

CONVERSATION_THROTTLES = [CustomerThrottle, StorefrontKeyThrottle]
NOT_MINE = {
    404: OpenApiResponse(
        ERROR_SCHEMA, description="No conversation of yours with this id (`not_found`)."
    )
}


class MyConversationsView(CustomerView):
    throttle_scope = "conversation"
    throttle_classes = CONVERSATION_THROTTLES

    @extend_schema(
        tags=["support"],
        summary="My service conversations, latest activity first",
        description="Each with its last message to or from me (staff's internal notes are "
        "never shown).",
        responses={200: s.ConversationSerializer(many=True), **ERRORS, **THROTTLED},
    )
    def get(self, request):
        conversations = selectors.conversations_of(request.user.customer, customer_view=True)
        return Response(s.ConversationSerializer(conversations, many=True).data)

    @extend_schema(
        tags=["support"],
        summary="Ask a question: open a service conversation",
        description="Any agent or clerk sees it; the answer comes back here (and by push).",
        request=s.NewConversationSerializer,
        responses={201: s.ConversationDetailSerializer, **ERRORS, **THROTTLED},
    )
    @idempotent
    def post(self, request):
        data = s.NewConversationSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        message = services.write_to_own_conversation(
            customer=request.user.customer,
            body=data.validated_data["body"],
            subject=data.validated_data["subject"],
        )
        return Response(
            _my_conversation(request, message.conversation.public_id),
            status=status.HTTP_201_CREATED,
        )


def _my_conversation(request, public_id) -> dict:
    conversation = selectors.conversation_with_messages(
        public_id, customer=request.user.customer, customer_view=True
    )
    if conversation is None:
        raise NotFound("No conversation of yours with this id.")
    return dict(s.ConversationDetailSerializer(conversation).data)


class MyConversationView(CustomerView):
    throttle_scope = "conversation"
    throttle_classes = CONVERSATION_THROTTLES

    @extend_schema(
        tags=["support"],
        summary="One of my conversations with its messages",
        responses={200: s.ConversationDetailSerializer, **ERRORS, **NOT_MINE, **THROTTLED},
    )
    def get(self, request, public_id):
        return Response(_my_conversation(request, public_id))


class MyConversationMessagesView(CustomerView):
    throttle_scope = "conversation"
    throttle_classes = CONVERSATION_THROTTLES

    @extend_schema(
        tags=["support"],
        summary="Write in one of my conversations",
        description="Reopens it if it was solved or waiting for me.",
        request=s.NewMessageSerializer,
        responses={201: s.ConversationDetailSerializer, **ERRORS, **NOT_MINE, **THROTTLED},
    )
    @idempotent
    def post(self, request, public_id):
        data = s.NewMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        conversation = selectors.conversation_with_messages(
            public_id, customer=request.user.customer
        )
        if conversation is None:
            raise NotFound("No conversation of yours with this id.")
        services.write_to_own_conversation(
            customer=request.user.customer,
            body=data.validated_data["body"],
            conversation=conversation,
        )
        return Response(_my_conversation(request, public_id), status=status.HTTP_201_CREATED)

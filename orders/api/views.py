"""Storefront endpoints for the cart, checkout and my orders. Thin: each calls one service
or selector; rules live in ``orders.services``. Cart and order changes honour an optional
``Idempotency-Key`` (``@idempotent``); checkout requires one and keeps it with the order, so
a declined payment can be retried with the same key once the shopper fixes it.

A signed-in customer's cart is found by their token; a guest's by the ``X-Cart-Token``
header, whose value the first call that creates a guest cart returns as ``guest_token``."""

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from loyalty.selectors import stored_value_card_of
from omni.core.api import geo
from omni.core.api.auth import (
    IsSignedInCustomer,
    IsStorefront,
    StorefrontAuthentication,
    StorefrontClient,
)
from omni.core.api.client_ip import client_fingerprint
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import (
    AddressThrottle,
    CustomerThrottle,
    GuestThrottle,
    StorefrontKeyThrottle,
)
from omni.core.errors import InvalidCoupon, InvalidRequest, NotFound
from omni.core.qr import qr_png
from orders import selectors, services
from orders.api.serializers import (
    AddLineSerializer,
    CartPickupStoreSerializer,
    CartSerializer,
    CheckoutSerializer,
    CouponSerializer,
    MergeSerializer,
    OrderSerializer,
    OrderSummarySerializer,
    PickupStoreSerializer,
    SetQuantitySerializer,
)
from orders.models import Order

CART_TOKEN = OpenApiParameter(
    "X-Cart-Token",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's cart (the `guest_token` a first call returned). Not for customers.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per checkout attempt; a retry with the same key and body returns the "
    "same order. The same key with another body (a delivery after a pick-up, other points, "
    "another payment token): 422 `idempotency_key_reused`, nothing changed.",
)
ERRORS = {
    400: ERROR_SCHEMA,
    401: ERROR_SCHEMA,
    403: ERROR_SCHEMA,
    404: ERROR_SCHEMA,
    409: ERROR_SCHEMA,
}
LIMITED = {**ERRORS, 429: ERROR_SCHEMA}  # calls with rate limits (omni/core/api/throttling.py)
# Guests get their own, lower, limit per address: a new guest cart costs nothing.
CART_THROTTLES = [AddressThrottle, GuestThrottle, CustomerThrottle, StorefrontKeyThrottle]


def request_cart(request, *, create: bool = True):
    customer = request.user.customer
    if customer is not None:
        return services.cart_of(customer=customer)
    token = request.headers.get("X-Cart-Token", "").strip()
    if token:
        return services.cart_of(guest_token=token)
    if not create:
        raise NotFound("No cart yet: add a line to start one.")
    return services.cart_of(client_ref=client_fingerprint(request))


def cart_response(cart, status_code=status.HTTP_200_OK, *, channel=None) -> Response:
    detail = selectors.cart_detail(cart, channel=channel)
    return Response(CartSerializer(detail).data, status=status_code)


class CartView(APIView):
    permission_classes = [IsStorefront]

    @extend_schema(
        tags=["cart"],
        summary="My cart, the same from every device",
        parameters=[CART_TOKEN],
        responses={200: CartSerializer, **ERRORS},
    )
    def get(self, request):
        return cart_response(request_cart(request, create=False))


class CartLinesView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "cart"
    throttle_classes = CART_THROTTLES

    @extend_schema(
        tags=["cart"],
        summary="Add a SKU (adds to the quantity already there)",
        description="With a pick-up store chosen, the store must hold every line; it is held "
        "for a short while and the hold is renewed on every change.",
        parameters=[CART_TOKEN],
        request=AddLineSerializer,
        responses={200: CartSerializer, 201: CartSerializer, **LIMITED},
    )
    @idempotent
    def post(self, request):
        body = AddLineSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = request_cart(request)
        new_guest = cart.guest_token and not request.headers.get("X-Cart-Token")
        cart = services.set_line(
            cart=cart,
            sku_code=body.validated_data["sku"],
            quantity=body.validated_data["quantity"],
            channel=request.user.channel,
            device_id=body.validated_data["device_id"],
            add=True,
        )
        return cart_response(cart, status.HTTP_201_CREATED if new_guest else status.HTTP_200_OK)


class CartLineView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "cart"
    throttle_classes = CART_THROTTLES

    @extend_schema(
        tags=["cart"],
        summary="Change a line's quantity",
        parameters=[CART_TOKEN],
        request=SetQuantitySerializer,
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def put(self, request, sku: str):
        body = SetQuantitySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = request_cart(request, create=False)
        if not cart.lines.filter(sku__code=sku).exists():
            raise NotFound(f"{sku} is not in the cart.")
        cart = services.set_line(
            cart=cart,
            sku_code=sku,
            quantity=body.validated_data["quantity"],
            channel=request.user.channel,
        )
        return cart_response(cart)

    @extend_schema(
        tags=["cart"],
        summary="Remove a line",
        parameters=[CART_TOKEN],
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def delete(self, request, sku: str):
        cart = services.remove_line(cart=request_cart(request, create=False), sku_code=sku)
        return cart_response(cart)


class PickupStoreView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "cart"
    throttle_classes = CART_THROTTLES

    @extend_schema(
        tags=["cart"],
        summary="Choose the store to collect from (or null for none)",
        description="Offered only when that store alone can cover every line: 409 otherwise.",
        parameters=[CART_TOKEN],
        request=PickupStoreSerializer,
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def put(self, request):
        body = PickupStoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = services.choose_pickup_store(
            cart=request_cart(request), store_code=body.validated_data["store"]
        )
        return cart_response(cart)


PICKUP_STORES_ERRORS = {
    status_code: OpenApiResponse(ERROR_SCHEMA, description=description)
    for status_code, description in {
        400: "A bad point or limit (`validation_error`, field errors in `details`).",
        401: "No storefront API key (`not_authenticated`), or an unknown key or customer "
        "token (`authentication_failed`).",
        404: "A guest with no cart: send the `X-Cart-Token` a first cart call returned.",
        429: "Too many reads from this client; retry after `Retry-After` seconds.",
    }.items()
}


class CartPickupStoresView(APIView):
    """Reads only, so throttled like the public reads of stores and availability."""

    # Storefront credentials only, so a call without them is a 401 (not a session's 403).
    authentication_classes = [StorefrontAuthentication]
    permission_classes = [IsStorefront]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle]

    @extend_schema(
        tags=["cart"],
        summary="Pick-up stores near a point that can serve my cart, nearest first",
        description="One call instead of stores plus availability: the `limit` nearest "
        "pick-up stores, each with its distance, whether it can hold every line of the cart "
        "now (`covers_cart`; the cart's own holds count as its own, another cart's lapsed hold "
        "keeps nothing back) and the lines it is short of. An empty cart is covered everywhere.",
        parameters=[geo.StoresQuerySerializer, CART_TOKEN],
        responses={
            200: CartPickupStoreSerializer(many=True),
            **PICKUP_STORES_ERRORS,
        },
    )
    def get(self, request):
        query = geo.StoresQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        customer = request.user.customer
        # A customer without a cart yet gets the stores with nothing short; nothing is created.
        cart = (
            services.cart_of(customer=customer, create=False)
            if customer is not None
            else request_cart(request, create=False)
        )
        stores = selectors.pickup_stores_for_cart(
            cart, params["lat"], params["lng"], limit=params["limit"]
        )
        return Response(CartPickupStoreSerializer(stores, many=True).data)


class MergeCartView(APIView):
    permission_classes = [IsSignedInCustomer]
    throttle_scope = "cart"
    throttle_classes = CART_THROTTLES

    @extend_schema(
        tags=["cart"],
        summary="Bring a guest cart into my cart after signing in",
        description="The same SKU in both keeps the larger quantity. With `wishlist_token`, "
        "the guest's wish lists join the customer's too (same name, same list; the same item "
        "once). Safe to retry.",
        request=MergeSerializer,
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def post(self, request):
        body = MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        cart = services.merge_guest_cart(
            customer=request.user.customer, guest_token=body.validated_data["guest_token"]
        )
        if body.validated_data["wishlist_token"]:
            services.merge_guest_wish_lists(
                customer=request.user.customer, guest_token=body.validated_data["wishlist_token"]
            )
        return cart_response(cart)


class CartCouponView(APIView):
    """Codes are guessed by scripts: throttled per address, storefront key and customer
    (``coupon.*`` in API_RATE_LIMITS), and every refused code is counted and logged."""

    permission_classes = [IsStorefront]
    throttle_scope = "coupon"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle, CustomerThrottle]

    @extend_schema(
        tags=["cart"],
        summary="Present a coupon code on the cart",
        description="The code is checked now (400 `invalid_coupon` with `details.reason`: "
        "unknown, not_yours, not_started, ended, where, channel, used_up, sign_in, too_many; "
        "nothing changes on the cart) and again at checkout (409 `offer_changed`). A code "
        "accepted here whose cart conditions are not met (a minimum spend...) stays on the "
        "cart and is listed in `not_applied` with the reason.",
        parameters=[CART_TOKEN],
        request=CouponSerializer,
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def post(self, request):
        body = CouponSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            cart = services.apply_coupon(
                cart=request_cart(request, create=False),
                code=body.validated_data["code"],
                channel=request.user.channel,
                client=f"key:{request.user.key.pk}",
            )
        except InvalidCoupon as refusal:
            # Answered, not raised: the refused attempt just counted must not roll back.
            return self.handle_exception(refusal)
        return cart_response(cart, channel=request.user.channel)

    @extend_schema(
        tags=["cart"],
        summary="Take a coupon code off the cart",
        parameters=[
            CART_TOKEN,
            OpenApiParameter("code", str, OpenApiParameter.QUERY, required=True),
        ],
        responses={200: CartSerializer, **LIMITED},
    )
    @idempotent
    def delete(self, request):
        code = request.query_params.get("code", "")
        if not code.strip():
            raise InvalidRequest("Say which code to take off: ?code=...")
        cart = services.remove_coupon(
            cart=request_cart(request, create=False), code=code, channel=request.user.channel
        )
        return cart_response(cart, channel=request.user.channel)


class CheckoutView(APIView):
    permission_classes = [IsStorefront]
    throttle_scope = "checkout"
    throttle_classes = [AddressThrottle, CustomerThrottle, StorefrontKeyThrottle]

    @extend_schema(
        tags=["checkout"],
        summary="Place the order: delivery or pick-up in store",
        description="All or nothing. Send an Idempotency-Key: a retry with the same body, or "
        "a second device checking out the same cart, gets the first order (200) instead of a "
        "new one (201). The same key with a different body is refused: 422 "
        "`idempotency_key_reused`, and nothing changes. Prices or offers that changed since "
        "the cart was priced: 409 `price_changed` or `offer_changed` (the cart is put right "
        "and shows what applies now; check out again). With `stored_value_card` (one of my "
        "cards) the card pays first, up to its balance, and the payment token the rest; a "
        "declined token takes nothing off the card. Blocked card: 403 `card_blocked`; an empty "
        "one: 409 `insufficient_balance`; not mine: 404.",
        parameters=[CART_TOKEN, IDEMPOTENCY_KEY],
        request=CheckoutSerializer,
        responses={
            201: OrderSerializer,
            200: OrderSerializer,
            402: ERROR_SCHEMA,
            422: ERROR_SCHEMA,
            **LIMITED,
        },
    )
    def post(self, request):
        body = CheckoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        key = request.headers.get("Idempotency-Key", "").strip()
        if not key:
            raise InvalidRequest("Send an Idempotency-Key header with every checkout.")
        address = services.Address(**data["address"]) if "address" in data else None
        card = None
        if data["stored_value_card"] is not None:
            if request.user.customer is None:
                raise InvalidRequest("Sign in to pay with a stored-value card.")
            card = stored_value_card_of(request.user.customer, data["stored_value_card"])
        result = services.checkout(
            cart=request_cart(request, create=False),
            fulfilment=data["fulfilment"],
            channel=request.user.channel,
            idempotency_key=key,
            pickup_store_code=data.get("pickup_store"),
            address=address,
            redeem_points=data["redeem_points"],
            payment_token=data["payment_token"],
            stored_value_card=card,
        )
        order = selectors.order_detail(result.order.number)
        return Response(
            OrderSerializer(order).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class MyOrdersView(ListAPIView):
    permission_classes = [IsSignedInCustomer]
    serializer_class = OrderSummarySerializer

    def get_queryset(self) -> QuerySet[Order]:
        client = self.request.user
        # Only the schema's fake view has no storefront client: IsSignedInCustomer lets no other in.
        if getattr(self, "swagger_fake_view", False) or not isinstance(client, StorefrontClient):
            return Order.objects.none()
        return selectors.orders_of(client.customer)

    @extend_schema(tags=["orders"], summary="My orders from every channel, newest first")
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


def my_order(request, number: str) -> Order:
    order = selectors.order_detail(number, customer=request.user.customer)
    if order is None:
        raise NotFound("No order of yours has this number.")
    return order


class MyOrderView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["orders"],
        summary="One of my orders with its timeline",
        responses={200: OrderSerializer, **ERRORS},
    )
    def get(self, request, number: str):
        return Response(OrderSerializer(my_order(request, number)).data)


class CancelMyOrderView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["orders"],
        summary="Cancel my order (a pick-up only until it is ready)",
        request=None,
        responses={200: OrderSerializer, **ERRORS},
    )
    @idempotent
    def post(self, request, number: str):
        order = services.cancel_order(
            order=my_order(request, number), by_customer=request.user.customer
        )
        return Response(OrderSerializer(selectors.order_detail(order.number)).data)


class PickupCodeQRView(APIView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["orders"],
        summary="The pick-up code as a QR image (PNG), once the order is ready",
        responses={(200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY), **ERRORS},
    )
    def get(self, request, number: str):
        order = my_order(request, number)
        if order.status != Order.Status.READY_FOR_PICKUP:
            raise NotFound("The order is not ready for pick-up.")
        response = HttpResponse(
            qr_png(f"{order.number}:{order.pickup_code}"), content_type="image/png"
        )
        response["Cache-Control"] = "private, no-store"
        return response

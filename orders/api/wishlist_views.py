"""Storefront endpoints for wish lists. Thin: each calls one service or selector; the rules
live in ``orders.services.wishlists``.

A signed-in customer's lists are found by their token (the same lists on every device); a
guest's by the ``X-Wishlist-Token`` header, whose value the call that made the guest's first
list returns as ``guest_token``. Lists and items are named by public ids, never database ids;
another owner's list is simply not found (404)."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from omni.core.api.auth import IsSignedInCustomer, IsStorefront, StorefrontAuthentication
from omni.core.api.errors import ERROR_SCHEMA
from omni.core.api.idempotency import idempotent
from omni.core.api.throttling import (
    AddressThrottle,
    CustomerThrottle,
    GuestThrottle,
    StorefrontKeyThrottle,
)
from omni.core.errors import NotFound
from orders import selectors, services
from orders.api.wishlist_serializers import (
    AddItemSerializer,
    MergeWishListsSerializer,
    SharedWishListSerializer,
    ShareSerializer,
    WishListNameSerializer,
    WishListSerializer,
)
from orders.models import WishList

WISHLIST_TOKEN_HEADER = "X-Wishlist-Token"
WISHLIST_TOKEN = OpenApiParameter(
    WISHLIST_TOKEN_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's lists (the `guest_token` an answer returned). Not for customers.",
)


def _errors(**described: str) -> dict[int, OpenApiResponse]:
    common = {
        401: "No storefront API key (`not_authenticated`), or an unknown key or customer token "
        "(`authentication_failed`).",
        429: "Too many calls from this client; retry after `Retry-After` seconds.",
    }
    texts = {**common, **{int(code.lstrip("e")): text for code, text in described.items()}}
    return {code: OpenApiResponse(ERROR_SCHEMA, description=text) for code, text in texts.items()}


NOT_YOURS = "No list of yours has this id (another customer's is not found either)."
NO_GUEST_LISTS = "A guest's X-Wishlist-Token that names no list."
WRITE_THROTTLES = [AddressThrottle, GuestThrottle, CustomerThrottle, StorefrontKeyThrottle]


class WishListView(APIView):
    authentication_classes = [StorefrontAuthentication]
    permission_classes = [IsStorefront]
    throttle_scope = "wishlist"
    throttle_classes = WRITE_THROTTLES


def request_owner(request: Any, *, create: bool = False) -> services.Owner:
    """The caller's lists: the signed-in customer's, a guest's by its token, or with
    ``create`` a new guest's (a guest with no token yet has none)."""
    customer = request.user.customer
    if customer is not None:
        return services.Owner(customer=customer)
    token = request.headers.get(WISHLIST_TOKEN_HEADER, "").strip()
    if token:
        owner = services.Owner(guest_token=token)
        if not owner.lists().exists():
            raise NotFound("No guest wish list has this token.")
        return owner
    return services.new_guest_owner() if create else services.Owner()


def list_response(wish_list: WishList, status_code: int = status.HTTP_200_OK) -> Response:
    detail = selectors.wish_list_detail(wish_list)
    return Response(WishListSerializer(detail).data, status=status_code)


class WishListsView(WishListView):
    @extend_schema(
        tags=["wish lists"],
        summary="My wish lists with their items, the same from every device",
        description="The default list first. A guest without a token has none yet (empty).",
        parameters=[WISHLIST_TOKEN],
        responses={200: WishListSerializer(many=True), **_errors(e404=NO_GUEST_LISTS)},
    )
    def get(self, request: Any) -> Response:
        lists = selectors.wish_lists_of(request_owner(request))
        return Response(WishListSerializer(lists, many=True).data)

    @extend_schema(
        tags=["wish lists"],
        summary="Make a named list (the first one is the default)",
        parameters=[WISHLIST_TOKEN],
        request=WishListNameSerializer,
        responses={
            201: WishListSerializer,
            **_errors(
                e400="A name that is empty, too long or already one of your lists' "
                "(`invalid_request`, `details.name`), or too many lists.",
                e404=NO_GUEST_LISTS,
            ),
        },
    )
    @idempotent
    def post(self, request: Any) -> Response:
        body = WishListNameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wish_list = services.create_wish_list(
            owner=request_owner(request, create=True), name=body.validated_data["name"]
        )
        return list_response(wish_list, status.HTTP_201_CREATED)


class WishListItemsView(WishListView):
    @extend_schema(
        tags=["wish lists"],
        summary="Save a product or a SKU (on the default list unless `list` says which)",
        description="Send `product` (any size or colour) or `sku` (that one). The default list "
        "is made on the first save. The item remembers the channel and when. Saved already: "
        "200 and nothing changes; newly saved: 201.",
        parameters=[WISHLIST_TOKEN],
        request=AddItemSerializer,
        responses={
            200: WishListSerializer,
            201: WishListSerializer,
            **_errors(
                e400="An unknown or discontinued product or SKU (`invalid_request`, the field "
                "in `details`), neither or both sent, or a full list; nothing changes.",
                e404=NOT_YOURS + " Or " + NO_GUEST_LISTS,
            ),
        },
    )
    @idempotent
    def post(self, request: Any) -> Response:
        body = AddItemSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        saved = services.add_to_wish_list(
            owner=request_owner(request, create=data["list"] is None),
            list_id=data["list"],
            channel=request.user.channel,
            product_code=data["product"].strip(),
            sku_code=data["sku"].strip(),
        )
        return list_response(
            saved.wish_list, status.HTTP_201_CREATED if saved.created else status.HTTP_200_OK
        )


class OneWishListView(WishListView):
    @extend_schema(
        tags=["wish lists"],
        summary="Rename one of my lists",
        parameters=[WISHLIST_TOKEN],
        request=WishListNameSerializer,
        responses={
            200: WishListSerializer,
            **_errors(
                e400="An empty or too long name, or another of your lists' "
                "(`invalid_request`, `details.name`).",
                e404=NOT_YOURS,
            ),
        },
    )
    @idempotent
    def patch(self, request: Any, list_id: str) -> Response:
        body = WishListNameSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        owner = request_owner(request)
        wish_list = services.rename_wish_list(
            owner=owner,
            wish_list=services.wish_list_of(owner, list_id),
            name=body.validated_data["name"],
        )
        return list_response(wish_list)

    @extend_schema(
        tags=["wish lists"],
        summary="Delete one of my lists with its items",
        parameters=[WISHLIST_TOKEN],
        responses={204: None, **_errors(e404=NOT_YOURS)},
    )
    @idempotent
    def delete(self, request: Any, list_id: str) -> Response:
        services.delete_wish_list(wish_list=services.wish_list_of(request_owner(request), list_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WishListItemView(WishListView):
    @extend_schema(
        tags=["wish lists"],
        summary="Take an item off one of my lists",
        parameters=[WISHLIST_TOKEN],
        responses={200: WishListSerializer, **_errors(e404=NOT_YOURS + " Or no such item.")},
    )
    @idempotent
    def delete(self, request: Any, list_id: str, item_id: str) -> Response:
        wish_list = services.remove_from_wish_list(
            wish_list=services.wish_list_of(request_owner(request), list_id), item_id=item_id
        )
        return list_response(wish_list)


class ShareWishListView(WishListView):
    @extend_schema(
        tags=["wish lists"],
        summary="Share one of my lists by link, or stop sharing it",
        description="On: the list gets an unguessable `share_token` (kept while on). Off: the "
        "token is dropped and its link answers 404; turning it on again makes a new one.",
        parameters=[WISHLIST_TOKEN],
        request=ShareSerializer,
        responses={200: WishListSerializer, **_errors(e400="`shared` missing.", e404=NOT_YOURS)},
    )
    @idempotent
    def put(self, request: Any, list_id: str) -> Response:
        body = ShareSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        wish_list = services.share_wish_list(
            wish_list=services.wish_list_of(request_owner(request), list_id),
            shared=body.validated_data["shared"],
        )
        return list_response(wish_list)


class SharedWishListView(APIView):
    """Anyone the owner gave the link to, through any storefront: reads only."""

    authentication_classes = [StorefrontAuthentication]
    permission_classes = [IsStorefront]
    throttle_scope = "public_read"
    throttle_classes = [AddressThrottle, StorefrontKeyThrottle]

    @extend_schema(
        tags=["wish lists"],
        summary="A list someone shared with me: its name, products, prices and images",
        description="Never whose list it is. A link turned off (or never made): 404.",
        responses={
            200: SharedWishListSerializer,
            **_errors(e404="No list is shared under this link (any more)."),
        },
    )
    def get(self, request: Any, share_token: str) -> Response:
        wish_list = selectors.shared_wish_list(share_token)
        if wish_list is None:
            raise NotFound("No list is shared under this link.")
        return Response(SharedWishListSerializer(wish_list).data)


class MergeWishListsView(WishListView):
    permission_classes = [IsSignedInCustomer]

    @extend_schema(
        tags=["wish lists"],
        summary="Bring a guest's lists into mine after signing in",
        description="A list of the same name gets the guest's items (the same item twice "
        "stays once); others move whole. Safe to retry. Storefronts call it with the cart "
        "merge (`POST /cart/merge`), right after sign-in.",
        request=MergeWishListsSerializer,
        responses={
            200: WishListSerializer(many=True),
            **_errors(
                e400="`guest_token` missing.",
                e403="Not signed in: send the customer's bearer token.",
            ),
        },
    )
    @idempotent
    def post(self, request: Any) -> Response:
        body = MergeWishListsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.merge_guest_wish_lists(
            customer=request.user.customer, guest_token=body.validated_data["guest_token"]
        )
        lists = selectors.wish_lists_of(services.Owner(customer=request.user.customer))
        return Response(WishListSerializer(lists, many=True).data)

"""Wish lists that follow the customer: named lists of saved products and SKUs from every
channel, shared by link if the owner wants, merged on sign-in like carts, and the events
campaigns trigger on (back in stock, price dropped, low stock), detected in sets.

They live in ``orders`` beside carts: a list names real products (inventory), shows the stock
of a store and merges like a cart, and ``customers`` may import no other app."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from customers.models import Customer
from inventory.models import Location, Product, Sku, StockLevel
from inventory.selectors import sellable_units
from omni.core.errors import InvalidRequest, NotFound
from orders.models import DEFAULT_WISH_LIST_NAME, WishList, WishListEvent, WishListItem

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MAX_WISH_LISTS = 20  # per owner: lists are for finding things again, not a catalogue
MAX_WISH_LIST_ITEMS = 200  # per list
DETECTION_BATCH = 1000  # items whose news is recorded per statement


@dataclass(frozen=True)
class Owner:
    """Whose lists: a customer, or a guest's device by its token."""

    customer: Customer | None = None
    guest_token: str = ""

    def lists(self) -> "QuerySet[WishList]":
        if self.customer is not None:
            return WishList.objects.filter(customer=self.customer)
        if self.guest_token:
            return WishList.objects.filter(customer=None, guest_token=self.guest_token)
        return WishList.objects.none()

    def fields(self) -> dict[str, Any]:
        if self.customer is not None:
            return {"customer": self.customer}
        return {"guest_token": self.guest_token}


def new_guest_owner() -> Owner:
    """A guest's first list: a fresh token their device keeps and sends as X-Wishlist-Token."""
    return Owner(guest_token=secrets.token_urlsafe(24))


# --- What an item costs and how many a store has (SQL expressions over WishListItem) ------------


def current_price() -> Case:
    """The item's price now: its SKU's, or for a product, its cheapest active SKU's."""
    cheapest = (
        Sku.objects.filter(product=OuterRef("product"), is_active=True)
        .order_by()
        .values("product")
        .annotate(price=Min("price"))
        .values("price")
    )
    money = DecimalField(max_digits=10, decimal_places=2)
    return Case(
        When(sku__isnull=False, then=F("sku__price")),
        default=Subquery(cheapest, output_field=money),
        output_field=money,
    )


def available_at(location: Any, *, now: datetime | None = None) -> Coalesce:
    """Units of the item (its SKU, or every active SKU of its product) available at
    ``location`` (a location's id, or an ``OuterRef``/``F`` to one), by the one rule of
    what may be sold (``inventory.selectors.sellable_units``)."""
    levels = StockLevel.objects.filter(location_id=location, sku__is_active=True).order_by()
    sellable = sellable_units(now=now)
    of_sku = levels.filter(sku=OuterRef("sku")).annotate(units=sellable).values("units")[:1]
    of_product = (
        levels.filter(sku__product=OuterRef("product"))
        .values("location")
        .annotate(units=Sum(sellable))
        .values("units")
    )
    return Coalesce(
        Case(
            When(sku__isnull=False, then=Subquery(of_sku, output_field=IntegerField())),
            default=Subquery(of_product, output_field=IntegerField()),
            output_field=IntegerField(),
        ),
        Value(0),
    )


# --- Lists ----------------------------------------------------------------------------------


def wish_list_of(owner: Owner, public_id: Any) -> WishList:
    """One of the owner's lists; another's (or none) is not found, never told apart."""
    found = owner.lists().filter(public_id=public_id).first()
    if found is None:
        raise NotFound("No wish list of yours has this id.")
    return found


def default_wish_list(owner: Owner) -> WishList:
    """The owner's default list, made on first use (a concurrent first use finds the same)."""
    found = owner.lists().filter(is_default=True).first()
    if found is not None:
        return found
    name = _free_name(owner, DEFAULT_WISH_LIST_NAME)
    try:
        with transaction.atomic():
            return WishList.objects.create(**owner.fields(), name=name, is_default=True)
    except IntegrityError:  # another device made it a moment ago
        return owner.lists().get(is_default=True)


def _free_name(owner: Owner, name: str) -> str:
    """``name``, or with a number after it when the owner already has a list of that name."""
    taken = set(owner.lists().values_list("name", flat=True))
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} ({n})", n + 1
    return candidate


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 60:
        raise InvalidRequest(
            "A wish list's name is 1 to 60 characters.", details={"name": "1 to 60 characters."}
        )
    return name


def _check_name_free(owner: Owner, name: str, *, other_than: WishList | None = None) -> None:
    taken = owner.lists().filter(name=name)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    if taken.exists():
        raise InvalidRequest(
            f"You already have a wish list called {name!r}.",
            details={"name": "Already the name of another of your lists."},
        )


@transaction.atomic
def create_wish_list(*, owner: Owner, name: str) -> WishList:
    """A new named list (the first one an owner makes is their default)."""
    name = _clean_name(name)
    if owner.lists().count() >= MAX_WISH_LISTS:
        raise InvalidRequest(
            f"At most {MAX_WISH_LISTS} wish lists.", details={"max_lists": MAX_WISH_LISTS}
        )
    _check_name_free(owner, name)
    is_default = not owner.lists().filter(is_default=True).exists()
    try:
        with transaction.atomic():
            return WishList.objects.create(**owner.fields(), name=name, is_default=is_default)
    except IntegrityError:  # the same name (or a first default) made a moment ago elsewhere
        raise InvalidRequest(
            f"You already have a wish list called {name!r}.", details={"name": name}
        ) from None


@transaction.atomic
def rename_wish_list(*, owner: Owner, wish_list: WishList, name: str) -> WishList:
    name = _clean_name(name)
    _check_name_free(owner, name, other_than=wish_list)
    wish_list.name = name
    wish_list.save(update_fields=["name", "updated_at"])
    return wish_list


@transaction.atomic
def delete_wish_list(*, wish_list: WishList) -> None:
    """Gone with its items and their events; a later save makes a new default if needed."""
    wish_list.delete()


@transaction.atomic
def share_wish_list(*, wish_list: WishList, shared: bool) -> WishList:
    """Turn the link on (a new unguessable token, unless already on) or off (the token is
    dropped: the old link is dead, and turning sharing on again makes a new one)."""
    if shared and not wish_list.share_token:
        wish_list.share_token = secrets.token_urlsafe(32)
    elif not shared:
        wish_list.share_token = None
    wish_list.save(update_fields=["share_token", "updated_at"])
    return wish_list


# --- Items ----------------------------------------------------------------------------------


def _product_or_sku(*, product_code: str = "", sku_code: str = "") -> tuple[Product, Sku | None]:
    if bool(product_code) == bool(sku_code):
        raise InvalidRequest(
            "Name a product or a SKU (one of them).",
            details={"product": "Send product or sku.", "sku": "Send product or sku."},
        )
    if sku_code:
        sku = Sku.objects.select_related("product").filter(code=sku_code, is_active=True).first()
        if sku is None or not sku.product.is_active:
            raise InvalidRequest(
                f"Unknown or discontinued SKU {sku_code!r}.", details={"sku": sku_code}
            )
        return sku.product, sku
    product = Product.objects.filter(code=product_code, is_active=True).first()
    if product is None or not product.skus.filter(is_active=True).exists():
        raise InvalidRequest(
            f"Unknown or discontinued product {product_code!r}.", details={"product": product_code}
        )
    return product, None


@dataclass(frozen=True)
class Saved:
    wish_list: WishList
    item: WishListItem
    created: bool  # False: it was already on the list


@transaction.atomic
def add_to_wish_list(
    *,
    owner: Owner,
    channel: str,
    product_code: str = "",
    sku_code: str = "",
    list_id: Any = None,
    clerk: User | None = None,
) -> Saved:
    """Save a product (any SKU of it) or one SKU on the owner's list ``list_id`` (by default
    their default list, made now if need be), remembering the channel, when, the clerk at the
    counter and the price now. Saving it again changes nothing; an unknown product changes
    nothing either (not even a default list made)."""
    product, sku = _product_or_sku(product_code=product_code, sku_code=sku_code)
    wish_list = wish_list_of(owner, list_id) if list_id is not None else default_wish_list(owner)
    WishList.objects.select_for_update().filter(pk=wish_list.pk).first()  # one add at a time
    existing = wish_list.items.filter(product=product, sku=sku).first()
    if existing is not None:
        return Saved(wish_list, existing, created=False)
    if wish_list.items.count() >= MAX_WISH_LIST_ITEMS:
        raise InvalidRequest(
            f"A wish list holds at most {MAX_WISH_LIST_ITEMS} items.",
            details={"max_items": MAX_WISH_LIST_ITEMS},
        )
    price = sku.price if sku else _cheapest_price(product)
    item = WishListItem.objects.create(
        wish_list=wish_list,
        product=product,
        sku=sku,
        channel=channel,
        added_by=clerk,
        price_when_added=price,
        last_price=price,
    )
    WishList.objects.filter(pk=wish_list.pk).update(updated_at=timezone.now())
    return Saved(wish_list, item, created=True)


def _cheapest_price(product: Product) -> Decimal:
    price = product.skus.filter(is_active=True).aggregate(price=Min("price"))["price"]
    return price if price is not None else Decimal(0)


@transaction.atomic
def remove_from_wish_list(*, wish_list: WishList, item_id: Any) -> WishList:
    deleted, _ = wish_list.items.filter(public_id=item_id).delete()
    if not deleted:
        raise NotFound("This item is not on the list.")
    WishList.objects.filter(pk=wish_list.pk).update(updated_at=timezone.now())
    return wish_list


# --- Merging: sign-in and two profiles of one person ----------------------------------------


def _fold_lists(lists: list[WishList], *, into: Owner) -> None:
    """Move ``lists`` (of someone else) into ``into``'s: a default list, or a list whose name
    ``into`` already has, gives its items to ``into``'s default or to that list (the same
    product or SKU collapses to the one already there, which keeps its earlier date); another
    list moves whole. The caller holds the transaction."""
    mine = {wish_list.name: wish_list for wish_list in into.lists()}
    default = next((wish_list for wish_list in mine.values() if wish_list.is_default), None)
    has_default = default is not None
    for wish_list in lists:
        target = default if wish_list.is_default and default else mine.get(wish_list.name)
        if target is None:
            wish_list.customer = into.customer
            wish_list.guest_token = into.guest_token if into.customer is None else ""
            wish_list.is_default = wish_list.is_default and not has_default
            has_default = has_default or wish_list.is_default
            wish_list.save(update_fields=["customer", "guest_token", "is_default", "updated_at"])
            mine[wish_list.name] = wish_list
            continue
        duplicates = WishListItem.objects.filter(
            wish_list=target, product=OuterRef("product"), sku=OuterRef("sku")
        )
        duplicates_of_product = WishListItem.objects.filter(
            wish_list=target, product=OuterRef("product"), sku=None
        )
        moving = wish_list.items.filter(
            (Q(sku__isnull=False) & ~Exists(duplicates))
            | (Q(sku=None) & ~Exists(duplicates_of_product))
        )
        moving.update(wish_list=target)
        wish_list.delete()  # what is left: the duplicates


@transaction.atomic
def merge_guest_wish_lists(*, customer: Customer, guest_token: str) -> list[WishList]:
    """A guest signs in: the lists of their device join the customer's (same name, same
    list; the same item twice, once). Safe to repeat: a token with no lists left merges
    nothing. Returns the customer's lists."""
    guest = Owner(guest_token=guest_token)
    lists = list(guest.lists().select_for_update().order_by("pk"))
    _fold_lists(lists, into=Owner(customer=customer))
    return list(Owner(customer=customer).lists())


def merge_customer_wish_lists(*, survivor: Customer, merged: Customer) -> None:
    """Two profiles of one person become one (``customers.merge_customers`` calls this
    before it moves the rows): lists of the same name would clash, so they fold first."""
    lists = list(WishList.objects.filter(customer=merged).select_for_update().order_by("pk"))
    _fold_lists(lists, into=Owner(customer=survivor))


# --- Events for campaigns -------------------------------------------------------------------


class Watched(TypedDict):
    price_now: Decimal
    their_store: int | None
    available_now: int


def _watched_items(now: datetime) -> "QuerySet[WithAnnotations[WishListItem, Watched]]":
    """Items of customers' lists, each with its price now and what the customer's preferred
    store has of it (``their_store`` is None when they have none, or it is unknown)."""
    store = Location.objects.filter(
        code=OuterRef("wish_list__customer__preferred_store_code"), is_active=True
    ).values("pk")[:1]
    return (
        WishListItem.objects.filter(wish_list__customer__isnull=False)
        .annotate(price_now=current_price(), their_store=Subquery(store))
        .annotate(available_now=available_at(OuterRef("their_store"), now=now))
    )


@dataclass(frozen=True)
class DetectedEvents:
    """How many events of each kind one run recorded."""

    back_in_stock: int = 0
    price_dropped: int = 0
    low_stock: int = 0


def detect_wish_list_events(*, now: datetime | None = None) -> DetectedEvents:
    """Record what changed for saved items since the last look, once per change: the price
    fell below the one when added or last announced (``price_dropped``); the customer's
    store had none available and now has some (``back_in_stock``); it now has at most
    ``LOW_STOCK_BAND`` units where it had more (``low_stock``). Each item's last seen price
    and stock move with its events, in the same transaction, so the same change seen again
    is no news and a second drop is.

    Set-based: one query finds the changed items, then a few statements per batch of them,
    never one per item. Each batch locks its items and reads them again under the lock, so a
    concurrent run waits, then finds them already told."""
    now = now or timezone.now()
    watched = _watched_items(now)
    dropped = watched.filter(price_now__lt=F("last_price"))
    stock_changed = watched.filter(their_store__isnull=False).exclude(
        last_available=F("available_now")
    )
    counts = dict.fromkeys(WishListEvent.Kind.values, 0)
    for batch in _batches(list(dropped.values_list("pk", flat=True))):
        with transaction.atomic():
            _lock(batch)
            rows = list(dropped.filter(pk__in=batch).values_list("pk", "last_price", "price_now"))
            WishListEvent.objects.bulk_create(
                WishListEvent(
                    item_id=pk,
                    kind=WishListEvent.Kind.PRICE_DROPPED,
                    at=now,
                    details={"from": str(before), "to": str(after)},
                )
                for pk, before, after in rows
            )
            WishListItem.objects.bulk_update(
                [WishListItem(pk=pk, last_price=after) for pk, _, after in rows], ["last_price"]
            )
            counts[WishListEvent.Kind.PRICE_DROPPED] += len(rows)
    for batch in _batches(list(stock_changed.values_list("pk", flat=True))):
        with transaction.atomic():
            _lock(batch)
            seen = list(
                stock_changed.filter(pk__in=batch).values_list(
                    "pk",
                    "last_available",
                    "available_now",
                    "wish_list__customer__preferred_store_code",
                )
            )
            events = [
                WishListEvent(
                    item_id=pk, kind=kind, at=now, details={"store": store, "available": after}
                )
                for pk, before, after, store in seen
                if (kind := _stock_news(before, after)) is not None
            ]
            WishListEvent.objects.bulk_create(events)
            WishListItem.objects.bulk_update(
                [WishListItem(pk=pk, last_available=after) for pk, _, after, _ in seen],
                ["last_available"],
            )
            for event in events:
                counts[event.kind] += 1
    return DetectedEvents(**counts)


def _stock_news(before: int | None, after: int) -> str | None:
    """What a change of available units at the customer's store is worth telling (a first
    look is no news: nothing was known before)."""
    low = settings.LOW_STOCK_BAND
    if before is None:
        return None
    if before <= 0 < after:
        return WishListEvent.Kind.BACK_IN_STOCK
    if 0 < after <= low < before:
        return WishListEvent.Kind.LOW_STOCK
    return None


def _batches(pks: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(pks), DETECTION_BATCH):
        yield pks[start : start + DETECTION_BATCH]


def _lock(pks: list[int]) -> None:
    """The items, locked in primary-key order (the one lock order)."""
    rows = WishListItem.objects.filter(pk__in=pks).select_for_update().order_by("pk")
    list(rows.values_list("pk", flat=True))

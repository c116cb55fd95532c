"""The clerk dashboard's pages. Thin: each reads through a selector or calls one service, and a
refused request (a ``DomainError``) becomes a message on the page, never an error page."""

import uuid
from functools import partial, wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from campaigns import services as campaigns
from campaigns.selectors import offers_for_customer
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Customer, MessageChannel
from loyalty import services as loyalty
from loyalty.models import StoredValueCard
from loyalty.selectors import account_of, stored_value_history
from omni.clerk import selectors
from omni.clerk.forms import (
    ClerkLoginForm,
    CompleteSaleForm,
    ConversationReplyForm,
    CouponForm,
    GiftCardSaleForm,
    HandOverForm,
    PackForm,
    PickForm,
    ReturnForm,
    SaleLineForm,
    ShipParcelForm,
    ShortForm,
    StoredValueLookupForm,
    StoredValueTopUpForm,
    StoreNoteForm,
    TakeOverForm,
    WishListItemForm,
)
from omni.clerk.once import sent_once
from omni.clerk.selectors import ShipmentWork
from omni.core.channels import Channel
from omni.core.errors import DomainError, InvalidCoupon, NotFound, TooManyAttempts
from omni.core.pages import refusal_shown_by, shows_refusals
from orders import selectors as order_selectors
from orders import services
from orders.models import Cart, Order, OrderLine, Parcel
from orders.selectors import order_detail

REPLY_PERMISSION = "customers.reply_conversation"


class ClerkLoginView(LoginView):
    template_name = "clerk/login.html"
    authentication_form = ClerkLoginForm
    next_page = "clerk:pickups"  # a URL name: resolve_url reverses it


class ClerkLogoutView(LogoutView):
    next_page = "clerk:login"


def clerk_view(view):
    """Staff only (others go to the clerk log-in), and only once assigned to a store, which
    the view finds as ``request.clerk_store`` (and its counts for the navigation as
    ``request.clerk_workplace``). A refusal in a ``refusal_shown_by`` block is answered with
    the page it names."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and request.user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("clerk:login"))
        workplace = selectors.workplace_of(request.user, now=timezone.now())
        if workplace is None:
            request.clerk_store = None
            return render(request, "clerk/unassigned.html", status=403)
        request.clerk_workplace, request.clerk_store = workplace, workplace.store
        return shows_refusals(view)(request, *args, **kwargs)

    return wrapped


@require_GET
@clerk_view
def home(request):
    return redirect("clerk:pickups")


@require_GET
@clerk_view
def pickups(request):
    groups = selectors.pickup_groups(request.clerk_store, now=timezone.now())
    return render(request, "clerk/pickups.html", {"groups": groups})


@require_GET
@clerk_view
def customers(request):
    term = request.GET.get("q", "").strip()
    found = list(selectors.customers_found(term)) if term else []
    order = order_detail(term.upper()) if term else None
    # One match: the clerk came for that page, not for a list of one.
    if order is not None and not found:
        return redirect("clerk:order", number=order.number)
    if len(found) == 1 and order is None:
        return redirect("clerk:customer", public_id=found[0].public_id)
    return render(
        request, "clerk/customers.html", {"q": term, "customers": found, "order_found": order}
    )


@require_GET
@clerk_view
def customer_page(request, public_id):
    return _customer_page(request, _customer(public_id))


@require_POST
@clerk_view
def wish_list_add(request, public_id):
    """Save an item on the customer's default wish list at the counter (channel: store)."""
    customer = _customer(public_id)
    form = WishListItemForm(request.POST)
    if not form.is_valid():
        return _customer_page(request, customer, wish_form=form, status=400)
    with refusal_shown_by(
        lambda refused: _customer_page(request, customer, wish_form=form, refused=refused)
    ):
        saved = services.add_to_wish_list(
            owner=services.Owner(customer=customer),
            channel=Channel.STORE,
            clerk=request.user,
            **selectors.wish_list_codes(form.cleaned_data["code"]),
        )
    item = saved.item.sku or saved.item.product
    messages.success(
        request,
        f"{item} saved on the wish list." if saved.created else f"{item} was already on it.",
    )
    return redirect("clerk:customer", public_id=customer.public_id)


def _customer(public_id) -> Customer:
    customer = selectors.customer_for_clerk(public_id)
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _customer_page(
    request,
    customer,
    *,
    wish_form=None,
    note_form=None,
    refused=None,
    conversation_error="",
    status=200,
):
    error, status = _refusal(refused, status)
    picture = selectors.customer_picture(customer, now=timezone.now(), store=request.clerk_store)
    context = {
        "picture": picture,
        "customer": customer,
        "wish_form": wish_form or WishListItemForm(),
        "error": error,
        **_conversations_context(request, customer, note_form=note_form, error=conversation_error),
    }
    return render(request, "clerk/customer.html", context, status=status)


# --- Service conversations (the customer page's section) -------------------------------------


def _conversations_context(request, customer, *, note_form=None, error="") -> dict:
    return {
        "conversations": list(customer_selectors.open_conversations_of(customer)),
        "note_form": note_form or StoreNoteForm(),
        "reply_form": ConversationReplyForm(),
        "can_reply": request.user.has_perm(REPLY_PERMISSION),
        "conversation_error": error,
    }


def _open_conversation_of(customer, public_id):
    conversation = customer.conversations.filter(public_id=public_id).first()
    if conversation is None:
        raise Http404("No such conversation of this customer.")
    return conversation


@require_POST
@clerk_view
def store_note(request, public_id):
    """A note of what the customer said at the counter, on one of their conversations or a new
    one (which stays open for an agent or a clerk to answer)."""
    customer = _customer(public_id)
    form = StoreNoteForm(request.POST)
    if not form.is_valid():
        return _customer_page(request, customer, note_form=form, status=400)
    data = form.cleaned_data
    with refusal_shown_by(
        lambda refused: _customer_page(
            request,
            customer,
            note_form=form,
            conversation_error=refused.message,
            status=refused.http_status,
        )
    ):
        if data["conversation"]:
            customer_services.add_note(
                conversation=_open_conversation_of(customer, data["conversation"]),
                author=request.user,
                body=data["body"],
                channel=MessageChannel.STORE,
            )
        else:
            customer_services.open_conversation(
                customer=customer,
                author=request.user,
                subject=data["subject"],
                note=data["body"],
                channel=MessageChannel.STORE,
            )
    messages.success(request, "Note added: every agent and clerk sees it.")
    return redirect(f"{reverse('clerk:customer', args=[customer.public_id])}#conversations")


@require_POST
@clerk_view
def conversation_reply(request, public_id, conversation):
    """A written answer to the customer, on the channel they used (needs the permission)."""
    customer = _customer(public_id)
    if not request.user.has_perm(REPLY_PERMISSION):
        error = "Replying to customers needs the permission to reply to conversations."
        return _customer_page(request, customer, conversation_error=error, status=403)
    found = _open_conversation_of(customer, conversation)
    form = ConversationReplyForm(request.POST)
    if not form.is_valid():
        return _customer_page(request, customer, conversation_error="Write the reply.", status=400)
    with refusal_shown_by(
        lambda refused: _customer_page(
            request, customer, conversation_error=refused.message, status=refused.http_status
        )
    ):
        reply = customer_services.reply_to_conversation(
            conversation=found, author=request.user, body=form.cleaned_data["body"]
        )
    messages.success(request, f"Reply sent by {reply.get_channel_display().lower()}.")
    return redirect(f"{reverse('clerk:customer', args=[customer.public_id])}#conversations")


@require_GET
@clerk_view
def order_page(request, number):
    return _order_page(request, _order(number))


@require_POST
@clerk_view
def mark_ready(request, number):
    order = _order(number)
    if not _is_own_pickup(request, order):
        return _refuse_other_store(request, order)
    with refusal_shown_by(partial(_order_page, request, order)):
        services.mark_ready_for_pickup(order=order, actor=request.user)
    messages.success(request, f"{order.number} is ready for pick-up: the customer has the code.")
    return redirect("clerk:order", number=order.number)


@require_POST
@clerk_view
def hand_over(request, number):
    order = _order(number)
    if not _is_own_pickup(request, order):
        return _refuse_other_store(request, order)
    form = HandOverForm(request.POST)
    if not form.is_valid():
        return _order_page(request, order, handover_form=form, status=400)
    with refusal_shown_by(partial(_order_page, request, order)):
        services.collect_pickup(order=order, code=form.cleaned_data["code"], actor=request.user)
    messages.success(request, f"{order.number} handed over: collected.")
    return redirect("clerk:order", number=order.number)


@require_POST
@clerk_view
def take_return(request, number):
    """Returns are taken in any store, for an order of any store or channel."""
    order = _order(number)
    form = ReturnForm(request.POST, order=order)
    if not form.is_valid():
        return _order_page(request, order, return_form=form, status=400)
    with refusal_shown_by(
        lambda refused: _order_page(request, order, return_form=form, refused=refused)
    ):
        ret = services.return_items(
            order=order,
            items=form.items(),
            idempotency_key=form.idempotency_key(order),
            location=request.clerk_store,
            actor=request.user,
        )
    messages.success(
        request,
        f"Return taken at {request.clerk_store.name}: refund {ret.refund_amount} "
        f"{order.currency}, {ret.points_reversed} points reversed.",
    )
    return redirect("clerk:order", number=order.number)


# --- In-store sale ----------------------------------------------------------------------------
# A sale is rung up on the till's own cart (a guest cart whose token the clerk's session keeps
# until the sale completes), never on the customer's online cart: what they keep for later on
# the web stays there. A known customer is named at checkout, so the order and its points
# are theirs.

TILL_CART = "clerk_till_cart"


@require_GET
@clerk_view
def sell(request):
    return _sale_page(request, _sale_customer(request))


@require_POST
@clerk_view
def sell_add(request):
    customer = _sale_customer(request)
    form = SaleLineForm(request.POST)
    if not form.is_valid():
        return _sale_page(request, customer, line_form=form, status=400)
    with refusal_shown_by(
        lambda refused: _sale_page(request, customer, line_form=form, refused=refused)
    ):
        services.set_line(
            cart=_till_cart(request),
            sku_code=selectors.sku_code_scanned(form.cleaned_data["sku"]),
            quantity=form.cleaned_data["quantity"],
            channel=Channel.STORE,
            clerk=request.user,
            add=True,
        )
    return redirect(_sale_url(customer))


@require_POST
@clerk_view
def sell_remove(request):
    customer = _sale_customer(request)
    with refusal_shown_by(partial(_sale_page, request, customer)):
        services.remove_line(cart=_till_cart(request), sku_code=request.POST.get("sku", ""))
    return redirect(_sale_url(customer))


@require_POST
@clerk_view
def sell_coupon(request):
    """A code the customer shows (printed, in an e-mail or in the app) applied to the sale; a
    personal code only for its own customer. Refusals are counted like the API's."""
    customer = _sale_customer(request)
    form = CouponForm(request.POST)
    if not form.is_valid():
        return _sale_page(request, customer, coupon_form=form, status=400)
    till = f"clerk:{request.user.get_username()}"
    try:
        campaigns.ensure_may_try_codes(client=till)
        services.apply_coupon(
            cart=_till_cart(request),
            code=form.cleaned_data["code"],
            channel=Channel.STORE,
            customer=customer,
            client=till,
        )
    except (InvalidCoupon, TooManyAttempts) as refused:  # the refused attempt stays counted
        return _sale_page(request, customer, coupon_form=form, refused=refused)
    return redirect(_sale_url(customer))


@require_POST
@clerk_view
def sell_coupon_remove(request):
    customer = _sale_customer(request)
    with refusal_shown_by(partial(_sale_page, request, customer)):
        services.remove_coupon(
            cart=_till_cart(request), code=request.POST.get("code", ""), channel=Channel.STORE
        )
    return redirect(_sale_url(customer))


@require_POST
@clerk_view
def sell_complete(request):
    customer = _sale_customer(request)
    form = CompleteSaleForm(request.POST)
    if not form.is_valid():
        return _sale_page(request, customer, sale_form=form, status=400)
    with refusal_shown_by(
        lambda refused: _sale_page(request, customer, sale_form=form, refused=refused)
    ):
        number = form.cleaned_data["stored_value_card"]
        result = services.checkout(
            cart=_till_cart_to_check_out(request),
            stored_value_card=loyalty.stored_value_card_for(number) if number else None,
            customer=customer,
            fulfilment=Order.Fulfilment.IN_STORE,
            channel=Channel.STORE,
            idempotency_key=form.idempotency_key(),
            redeem_points=form.points(),
            card_number=form.card_number(),
            clerk=request.user,
            till_store=request.clerk_store,
        )
    order = result.order
    messages.success(request, f"Sale {order.number} complete: {order.total} {order.currency}.")
    return redirect("clerk:sale-done", number=order.number)


@require_GET
@clerk_view
def sale_done(request, number):
    order = order_detail(number)
    if order is None or order.fulfilment != Order.Fulfilment.IN_STORE:
        raise Http404(f"No in-store sale {number}.")
    context = {"order": order, "points_earned": selectors.points_earned_by(order)}
    return render(request, "clerk/sale_done.html", context)


# --- Gift and wallet cards at the till ----------------------------------------------------------
# The clerk scans a card to see its balance and tops it up with money taken at the till, or
# sells a gift card (loaded at once, optionally e-mailed). Paying with a card is part of the sale.


@require_GET
@clerk_view
def stored_value(request):
    lookup = StoredValueLookupForm(request.GET or None)
    card = None
    if lookup.is_bound and lookup.is_valid():
        with refusal_shown_by(partial(_stored_value_page, request, lookup=lookup, status=404)):
            card = loyalty.stored_value_card_for(lookup.cleaned_data["card"])
    return _stored_value_page(request, lookup=lookup, card=card)


@require_POST
@clerk_view
def stored_value_top_up(request):
    form = StoredValueTopUpForm(request.POST)
    if not form.is_valid():
        return _stored_value_page(request, top_up_form=form, status=400)
    number = form.cleaned_data["card"]
    with refusal_shown_by(partial(_stored_value_page, request, top_up_form=form)):
        topped = services.top_up_at_till(
            card=loyalty.stored_value_card_for(number),
            amount=form.cleaned_data["amount"],
            clerk=request.user,
            idempotency_key=form.idempotency_key(),
        )
    messages.success(
        request,
        f"Card …{topped.card.number[-4:]} topped up by {topped.entry.amount}: "
        f"{topped.card.balance} {topped.card.currency} on it now.",
    )
    return redirect(f"{reverse('clerk:stored-value')}?card={topped.card.number}")


@require_POST
@clerk_view
def stored_value_sell_gift(request):
    form = GiftCardSaleForm(request.POST)
    if not form.is_valid():
        return _stored_value_page(request, gift_form=form, status=400)
    with refusal_shown_by(partial(_stored_value_page, request, gift_form=form)):
        sold = services.sell_gift_card_at_till(
            amount=form.cleaned_data["amount"],
            clerk=request.user,
            idempotency_key=form.idempotency_key(),
            recipient_email=form.cleaned_data["recipient_email"],
            message=form.cleaned_data["message"],
        )
    sent = f", e-mailed to {sold.card.recipient_email}" if sold.card.recipient_email else ""
    messages.success(
        request,
        f"Gift card {sold.card.number} sold and active: {sold.card.balance} "
        f"{sold.card.currency}{sent}.",
    )
    return redirect(f"{reverse('clerk:stored-value')}?card={sold.card.number}")


def _stored_value_page(
    request,
    *,
    lookup=None,
    card: StoredValueCard | None = None,
    top_up_form=None,
    gift_form=None,
    status=200,
    refused=None,
):
    error, status = _refusal(refused, status)
    if card is None and top_up_form is not None and top_up_form.is_bound:
        card = StoredValueCard.objects.filter(number=top_up_form.data.get("card", "")).first()
    context = {
        "lookup": lookup or StoredValueLookupForm(),
        "card": card,
        "history": list(stored_value_history(card)[:10]) if card else [],
        "top_up_form": top_up_form
        or (StoredValueTopUpForm(initial={"card": card.number}) if card else None),
        "gift_form": gift_form or GiftCardSaleForm(),
        "error": error,
    }
    return render(request, "clerk/stored_value.html", context, status=status)


def _sale_customer(request) -> Customer | None:
    """The customer of the sale (``customer`` in the form or the query string), or None for a
    walk-in."""
    public_id = request.POST.get("customer") or request.GET.get("customer")
    if not public_id:
        return None
    try:
        customer = selectors.customer_for_clerk(uuid.UUID(public_id))
    except ValueError:
        customer = None
    if customer is None:
        raise Http404("No such customer.")
    return customer


def _sale_url(customer: Customer | None) -> str:
    url = reverse("clerk:sell")
    return f"{url}?customer={customer.public_id}" if customer else url


def _kept_till_cart(request, *, active: bool) -> Cart | None:
    token = request.session.get(TILL_CART)
    if not token:
        return None
    try:
        cart = services.cart_of(guest_token=token)
    except NotFound:
        return None
    if active and cart.status != Cart.Status.ACTIVE:
        return None
    return cart


def _till_cart(request) -> Cart:
    cart = _kept_till_cart(request, active=True)
    if cart is None:  # the first item of a new sale
        cart = services.cart_of()
        request.session[TILL_CART] = cart.guest_token
    return cart


def _till_cart_to_check_out(request) -> Cart:
    """The sale's cart, even once checked out: a second submit of the same form must reach
    checkout to get the first order back."""
    return _kept_till_cart(request, active=False) or _till_cart(request)


def _sale_page(
    request,
    customer,
    *,
    line_form=None,
    sale_form=None,
    coupon_form=None,
    status=200,
    refused=None,
):
    error, status = _refusal(refused, status)
    cart = _kept_till_cart(request, active=True)
    context = {
        "customer": customer,
        "account": account_of(customer) if customer else None,
        "cart": selectors.till_cart(cart, store=request.clerk_store, customer=customer),
        "offers": offers_for_customer(customer) if customer else [],
        "line_form": line_form or SaleLineForm(),
        "sale_form": sale_form or CompleteSaleForm(),
        "coupon_form": coupon_form or CouponForm(),
        "error": error,
    }
    return render(request, "clerk/sell.html", context, status=status)


def _order(number: str) -> Order:
    order = selectors.order_for_clerk(number)
    if order is None:
        raise Http404(f"No order {number}.")
    return order


def _is_own_pickup(request, order: Order) -> bool:
    return order.fulfilment == Order.Fulfilment.PICKUP and order.store_id == request.clerk_store.pk


def _refuse_other_store(request, order: Order):
    if order.fulfilment != Order.Fulfilment.PICKUP:
        error = f"{order.number} is not a pick-up order."
    else:
        error = (
            f"{order.number} is collected at {order.fulfilling_store.name}: only its own staff "
            "can pick it and hand it over."
        )
    return _order_page(request, order, error=error, status=403)


def _refusal(refused: DomainError | None, status: int) -> tuple[str, int]:
    """The message and status a page shows for a service's refusal (none: as asked)."""
    return (refused.message, refused.http_status) if refused else ("", status)


def _order_page(
    request, order, *, handover_form=None, return_form=None, error="", status=200, refused=None
):
    if refused is not None:
        error, status = _refusal(refused, status)
    next_steps = order_selectors.next_statuses(order)
    own_pickup = _is_own_pickup(request, order)
    returnable = order_selectors.is_returnable(order)
    context = {
        "order": order,
        "shipments": selectors.order_shipments(order, request.clerk_store),
        "error": error,
        "own_pickup": own_pickup,
        "can_mark_ready": own_pickup and Order.Status.READY_FOR_PICKUP in next_steps,
        "can_hand_over": own_pickup and Order.Status.COLLECTED in next_steps,
        "pickup_code_locked": services.pickup_code_attempts_left(order) == 0,
        "handover_form": handover_form or HandOverForm(),
        "return_form": (return_form or ReturnForm(order=order)) if returnable else None,
    }
    return render(request, "clerk/order.html", context, status=status)


# --- Ship from store --------------------------------------------------------------------------
# The store's delivery shipments are picked from a printable pick list, packed into parcels
# and shipped with the carrier's tracking; only the shipment's own store works it (others see
# it read-only), and a store may take over another location's lines it has on its shelves.


@require_GET
@clerk_view
def to_ship(request):
    groups = selectors.ship_groups(request.clerk_store, now=timezone.now())
    context = {"groups": groups, "late_hours": settings.FULFILMENT_LATE_HOURS}
    return render(request, "clerk/to_ship.html", context)


@require_GET
@clerk_view
def shipment_page(request, number, shipment):
    return _shipment_page(request, _shipment(number, shipment))


@require_POST
@clerk_view
def pick(request, number, shipment):
    work = _shipment(number, shipment)
    if not _is_own_shipment(request, work):
        return _refuse_other_location(request, work)
    form = PickForm(request.POST, work=work)
    if not form.is_valid():
        return _shipment_page(request, work, pick_form=form, status=400)
    with refusal_shown_by(partial(_shipment_page, request, work)):
        services.pick(shipment=work.shipment, line_ids=form.line_ids(), actor=request.user)
    picked = len(form.line_ids())
    messages.success(request, f"{picked} line{'s' if picked > 1 else ''} picked: pack them next.")
    return redirect(_shipment_url(work))


@require_POST
@clerk_view
def report_short(request, number, shipment):
    work = _shipment(number, shipment)
    if not _is_own_shipment(request, work):
        return _refuse_other_location(request, work)
    form = ShortForm(request.POST, work=work)
    if not form.is_valid():
        return _shipment_page(request, work, short_form=form, status=400)
    line_id = form.cleaned_data["line"]
    with refusal_shown_by(partial(_shipment_page, request, work, short_form=form)):
        moved = services.report_short(
            shipment=work.shipment,
            line_id=line_id,
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    messages.success(request, _short_outcome(work, line_id, moved))
    return redirect(_shipment_url(work))


@require_POST
@clerk_view
def pack(request, number, shipment):
    work = _shipment(number, shipment)
    if not _is_own_shipment(request, work):
        return _refuse_other_location(request, work)
    form = PackForm(request.POST, work=work)
    if not form.is_valid():
        return _shipment_page(request, work, pack_form=form, status=400)
    with (
        refusal_shown_by(partial(_shipment_page, request, work)),
        sent_once(
            user=request.user,
            path=request.path,
            token=form.cleaned_data["token"],
            already="This parcel is already packed: the form was sent twice, and packed once.",
        ),
    ):
        parcel = services.pack(shipment=work.shipment, contents=form.contents(), actor=request.user)
    units = sum(form.contents().values())
    messages.success(
        request,
        f"Parcel {_parcel_label(parcel)} packed ({units} unit{'s' if units > 1 else ''}): "
        "ship it with its tracking number.",
    )
    return redirect(_shipment_url(work))


@require_POST
@clerk_view
def ship_parcel(request, number, shipment, parcel):
    work = _shipment(number, shipment)
    if not _is_own_shipment(request, work):
        return _refuse_other_location(request, work)
    box = next((p for p in work.waiting + work.left if p.public_id == parcel), None)
    if box is None:
        raise Http404("No such parcel on this shipment.")
    if box.status != Parcel.Status.PACKED:  # the form sent again: say so, change nothing
        error = (
            f"Parcel {_parcel_label(box)} already shipped with {box.carrier} "
            f"({box.tracking_number}): it is not shipped twice."
        )
        return _shipment_page(request, work, error=error, status=409)
    form = ShipParcelForm(request.POST, prefix=_ship_prefix(box))
    if not form.is_valid():
        return _shipment_page(request, work, ship_forms={box.pk: form}, status=400)
    with refusal_shown_by(partial(_shipment_page, request, work, ship_forms={box.pk: form})):
        services.ship_parcel(parcel=box, tracking=form.tracking(), actor=request.user)
    tracking = form.tracking()
    messages.success(
        request,
        f"Parcel {_parcel_label(box)} shipped with {tracking.carrier} ({tracking.number}): "
        "the customer has the tracking link.",
    )
    return redirect(_shipment_url(work))


@require_POST
@clerk_view
def take_over(request, number, shipment):
    """The clerk's store ships lines allocated to another location (it has them here)."""
    work = _shipment(number, shipment)
    order = _order(number)
    form = TakeOverForm(request.POST, work=work)
    if not form.is_valid():
        error = "Choose the lines to ship from this store."
        return _order_page(request, order, error=error, status=400)
    with refusal_shown_by(partial(_order_page, request, order)):
        target = services.move_lines(
            shipment=work.shipment,
            location=request.clerk_store,
            line_ids=form.line_ids(),
            actor=request.user,
        )
    chosen = set(form.line_ids())
    codes = ", ".join(row.line.order_line.sku.code for row in work.rows if row.line.pk in chosen)
    messages.success(
        request,
        f"{codes}: now shipped from {request.clerk_store.name} instead of "
        f"{work.shipment.location.name}. Pick, pack and ship here.",
    )
    return redirect("clerk:shipment", number=number, shipment=target.public_id)


def _shipment(number: str, public_id: uuid.UUID) -> ShipmentWork:
    work = selectors.shipment_for_clerk(number, public_id, now=timezone.now())
    if work is None:
        raise Http404(f"No such shipment of order {number}.")
    return work


def _shipment_url(work: ShipmentWork) -> str:
    number, public_id = work.shipment.order.number, work.shipment.public_id
    return reverse("clerk:shipment", kwargs={"number": number, "shipment": public_id})


def _is_own_shipment(request, work: ShipmentWork) -> bool:
    return work.shipment.location_id == request.clerk_store.pk


def _refuse_other_location(request, work: ShipmentWork):
    error = (
        f"This shipment leaves from {work.shipment.location.name}: only its own staff pick, "
        "pack and ship it."
    )
    return _shipment_page(request, work, error=error, status=403)


def _parcel_label(parcel: Parcel) -> str:
    """How the page names a parcel before it has a tracking number."""
    return str(parcel.public_id)[:8].upper()


def _ship_prefix(parcel: Parcel) -> str:
    return f"parcel-{parcel.public_id}"


def _short_outcome(work: ShipmentWork, line_id: int, moved) -> str:
    """What became of a line reported short: where it moved, or its refund."""
    line = next(row.line for row in work.rows if row.line.pk == line_id)
    what = f"{line.quantity} x {line.order_line.sku.code}"
    if moved is not None:
        where = moved.shipment.location
        return f"{what} reported short: it now ships from {where.name} ({where.code})."
    refunded = (
        OrderLine.objects.get(pk=line.order_line_id).cancelled_refund
        - line.order_line.cancelled_refund
    )
    return (
        f"{what} reported short: no other location can ship it, so it is cancelled and "
        f"{refunded} {work.shipment.order.currency} refunded to the customer, who is told."
    )


def _shipment_page(
    request,
    work: ShipmentWork,
    *,
    pick_form=None,
    short_form=None,
    pack_form=None,
    ship_forms=None,
    error="",
    status=200,
    refused=None,
):
    if refused is not None:
        error, status = _refusal(refused, status)
    own = _is_own_shipment(request, work)
    ship_forms = ship_forms or {}
    waiting = [
        (parcel, ship_forms.get(parcel.pk) or ShipParcelForm(prefix=_ship_prefix(parcel)))
        for parcel in work.waiting
    ]
    context = {
        "work": work,
        "shipment": work.shipment,
        "order": work.shipment.order,
        "own": own,
        "can_work": own and work.is_open,
        "error": error,
        "pick_form": pick_form or PickForm(work=work),
        "short_form": short_form or ShortForm(work=work),
        "pack_form": pack_form or PackForm(work=work),
        "waiting": waiting,
    }
    return render(request, "clerk/shipment.html", context, status=status)

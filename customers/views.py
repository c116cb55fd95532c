"""Pages a customer reaches from a message: one-click unsubscribe, the open pixel, tracked links and
the satisfaction rating of a solved service conversation. Each takes a signed token
(``customers.notifications.links``); a bad one changes nothing. No login: the token is the proof."""

import base64

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from customers import services
from customers.models import ConsentPurpose, ContactChannel
from customers.notifications import links
from omni.core.api.client_ip import client_ip
from omni.core.errors import DomainError, InvalidInput, NotFound

# The smallest transparent GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


# RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" with no cookie and no CSRF
# token; the signed token in the URL is what authorises it.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows what will stop and a button (a link scanner following it changes nothing);
    POST withdraws the consent. A bad token: a 400 page, nothing changed."""
    try:
        asked = links.read_unsubscribe_token(token)
    except InvalidInput:
        return render(request, "customers/unsubscribe.html", {"invalid": True}, status=400)
    context: dict[str, object] = {
        "channel": ContactChannel(asked.channel).label,
        "purpose": ConsentPurpose(asked.purpose).label.lower(),
    }
    if request.method == "POST":
        links.unsubscribe(
            token=token,
            ip_address=client_ip(request) or None,
            user_agent=request.headers.get("User-Agent", ""),
        )
        context["done"] = True
    return render(request, "customers/unsubscribe.html", context)


@never_cache
@require_GET
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    if not links.record_open(token):
        raise Http404("Unknown message.")
    return HttpResponse(PIXEL, content_type="image/gif")


@never_cache
@require_GET
def click(request: HttpRequest, token: str) -> HttpResponse:
    target = links.record_click(token, request.GET.get("u", ""))
    if target is None:
        raise Http404("Unknown link.")
    return HttpResponseRedirect(target)


@never_cache
@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, token: str) -> HttpResponse:
    """The satisfaction (CSAT) page a solved conversation's e-mail links to: GET shows the
    question and five buttons (a link scanner following it rates nothing), POST records the
    rating. A bad or old link: a 404 page, nothing changed."""
    try:
        conversation = services.conversation_for_csat_token(token)
    except NotFound:
        return render(request, "customers/rate.html", {"invalid": True}, status=404)
    context: dict[str, object] = {"conversation": conversation, "scale": range(1, 6)}
    if request.method == "POST":
        try:
            rating = int(request.POST.get("rating", ""))
        except ValueError:
            rating = 0
        try:
            context["conversation"] = services.rate_conversation(
                conversation=conversation, rating=rating, comment=request.POST.get("comment", "")
            )
        except DomainError as refused:
            context["error"] = refused.message
            return render(request, "customers/rate.html", context, status=refused.http_status)
        context["done"] = True
    return render(request, "customers/rate.html", context)

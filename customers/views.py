"""Pages a customer reaches from a message: one-click unsubscribe, the open pixel, tracked
links, the satisfaction survey and the rating of a solved service conversation. Each takes a
signed token (``customers.notifications.links``, ``customers.services.surveys``,
``customers.services.conversations``); a bad one changes nothing. No login: the token is the
proof."""

import base64
import math
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from customers import services
from customers.models import ConsentPurpose, ContactChannel
from customers.notifications import links
from omni.core.api.client_ip import client_ip
from omni.core.api.throttling import AddressThrottle
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


class _SurveyPage:
    """Stands for a DRF view to the API's throttles: the survey page shares their rates
    (``survey.address`` in ``API_RATE_LIMITS``) and their counters in the cache."""

    throttle_scope = "survey"


def _retry_after(request: HttpRequest) -> int | None:
    """Seconds to wait when this address is over the survey page's limit, else None."""
    throttle = AddressThrottle()
    # The throttle reads only the request's address and the view's scope.
    if throttle.allow_request(cast(Any, request), cast(Any, _SurveyPage())):
        return None
    return math.ceil(throttle.wait() or 1)


def _survey_page(
    request: HttpRequest, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    return render(request, "customers/survey.html", context, status=status)


# The signed token in the URL is what authorises the answer, as for unsubscribing: no CSRF
# cookie is needed, so mail apps' browsers that keep no cookies can answer too.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the question with one button per score (no JavaScript needed); POST records
    the answer (and an optional comment), then thanks. Answering again corrects the answer.
    A bad or expired token: a 400 page; a score out of range: the form again with an error,
    nothing written; too many requests from one address: 429."""
    wait = _retry_after(request)
    if wait is not None:
        response = _survey_page(request, {"throttled": True}, status=429)
        response["Retry-After"] = str(wait)
        return response
    try:
        asked = services.read_survey_token(token)
    except InvalidInput as refused:
        return _survey_page(request, {"invalid": refused.message}, status=400)
    low, high = services.SCALE_ENDS[asked.scale]
    context: dict[str, object] = {
        "preview": asked.preview,
        "question": asked.question,
        "scores": list(asked.scores),
        "low_label": low,
        "high_label": high,
        "comment_max_length": services.SURVEY_COMMENT_MAX_LENGTH,
    }
    if request.method != "POST":
        return _survey_page(request, context)
    score, comment = request.POST.get("score", ""), request.POST.get("comment", "")
    try:
        if asked.preview:  # the marketer sees what the customer would, and nothing is kept
            value = services.check_answer(asked, score=score, comment=comment)
            context.update({"answered": {"score": value, "comment": comment}, "preview": True})
            return _survey_page(request, context)
        answer = services.answer_survey(
            survey=asked, score=score, comment=comment, answered_via="web_page"
        )
    except InvalidInput as refused:
        context.update({"errors": refused.details, "comment": comment})
        return _survey_page(request, context, status=400)
    context.update({"answered": answer.touchpoint.properties, "comment": comment})
    return _survey_page(request, context)


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

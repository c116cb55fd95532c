"""Project pages that belong to no app: the home page, the health check and the page of a
locked-out staff log-in."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from omni.health import health_report


@require_GET
def home(request):
    return render(request, "home.html")


@never_cache
@require_GET
def healthz(request):
    """Up or down for anyone (load balancers, uptime probes); the details for staff only."""
    healthy, report = health_report(details=request.user.is_active and request.user.is_staff)
    return JsonResponse(report, status=200 if healthy else 503)


def staff_locked_out(request, original_response=None, credentials=None):
    """What django-axes answers a staff log-in while its username and address are locked out
    (``AXES_LOCKOUT_CALLABLE``): a page that says why and for how long, never an error page."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "staff_locked_out.html", context, status=429)

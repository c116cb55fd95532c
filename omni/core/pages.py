"""Staff pages that show a business rule's refusal on the page itself, with its message and
status, instead of an error page: one mechanism for every form the clerk dashboard posts.

    @shows_refusals
    def mark_ready(request, number):
        order = ...
        with refusal_shown_by(partial(order_page, request, order)):
            services.mark_ready_for_pickup(order=order, actor=request.user)
        return redirect(...)

where ``order_page(request, order, *, refused)`` renders the page with ``refused.message``
and ``refused.http_status``.
"""

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest, HttpResponse

from omni.core.errors import DomainError


class RefusalPage(Exception):
    """Carries the page that shows a refusal up to ``shows_refusals``."""

    def __init__(self, response: HttpResponse):
        super().__init__("refusal page")
        self.response = response


@contextmanager
def refusal_shown_by(page: Callable[..., HttpResponse]) -> Iterator[None]:
    """A ``DomainError`` raised in the block becomes ``page(refused=the error)``: the view
    returns it (through ``shows_refusals``). The service's own transaction has rolled back."""
    try:
        yield
    except DomainError as refused:
        raise RefusalPage(page(refused=refused)) from refused


def shows_refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Return the page a ``refusal_shown_by`` block made, instead of raising."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except RefusalPage as refusal:
            return refusal.response

    return wrapper

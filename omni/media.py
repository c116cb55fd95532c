"""Uploaded media (product pictures) served by Omni itself: only files whose extension is one
of the accepted image formats, each with that format's type, ``nosniff`` and ``inline``, so a
file can never be taken for a page, whatever bytes it holds. A web server in front may serve
``MEDIA_ROOT`` itself instead, and must then send the same headers (see the README)."""

from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.http import FileResponse, Http404
from django.utils._os import safe_join
from django.views.decorators.http import require_safe

from inventory.images import MEDIA_TYPES


@require_safe
def serve_media(request, path: str) -> FileResponse:
    media_type = MEDIA_TYPES.get(PurePosixPath(path).suffix.lower())
    if media_type is None:
        raise Http404("No such picture.")
    try:
        full_path = safe_join(settings.MEDIA_ROOT, path)
        stored = open(full_path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (SuspiciousFileOperation, FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise Http404("No such picture.") from None
    response = FileResponse(stored, content_type=media_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = "inline"
    # Opened on its own, the file may run nothing and load nothing, even if a browser erred.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

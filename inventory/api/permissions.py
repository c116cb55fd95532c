"""Who may write stock through the API: staff and integrations holding Django permissions."""

from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission

# Staff in a browser use their session; POS, WMS and other integrations send
# "Authorization: Token <key>" for a user of their own. Token first, so that an anonymous
# call is told how to authenticate (401 with WWW-Authenticate) rather than just refused.
STAFF_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]


class HasModelPermission(BasePermission):
    """The caller is signed in and holds the Django permission the view names for this call.

    Views set ``required_permissions``, keyed by viewset action or by HTTP method, e.g.
    ``{"POST": "inventory.add_stockmovement"}``. A call the view names no permission for is
    refused, so a new action is closed until someone decides who may use it.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        required = view.required_permissions
        permission = required.get(getattr(view, "action", None)) or required.get(request.method)
        return permission is not None and user.has_perm(permission)

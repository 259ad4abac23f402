"""Who may do what through the API.

- Anonymous: 401 everywhere (except the schema and docs, and later the RSVP endpoints, which
  set their own ``permission_classes``).
- API client token: scope ``read`` allows safe methods only (a write is 403: it reveals
  nothing the token cannot already read); scope ``write`` allows everything the resource
  offers. ``restricted`` tokens may also see restricted data (see :func:`may_see_restricted`).
- Staff session: Django model permissions of the resource's model, ``view`` for reading
  (viewers), ``add``/``change``/``delete`` for writing (coordinators).

Objects a caller may not see are not filtered here but by the view's ``get_queryset()``
(a selector scoped to the caller), so they are a 404, never a 403 that confirms they exist.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, permissions
from rest_framework.request import Request

from api.authentication import api_client_of

SAFE_METHODS = permissions.SAFE_METHODS
# HTTP method → the model permission a staff session needs.
METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ApiAccess(permissions.BasePermission):
    """The default permission of every API view.

    A view says which model's permissions guard it with ``permission_model`` (default: its
    queryset's model) and may map its actions to other permissions with
    ``action_permissions`` (``{"change_status": ["change"], "upsert": ["add", "change"]}``):
    a workflow step on an existing object is a ``change``, not an ``add``, although it is a
    POST."""

    message = _("You do not have permission to do this.")

    def has_permission(self, request: Request, view) -> bool:
        client = api_client_of(request)
        if client is not None:
            if request.method in SAFE_METHODS or client.can_write:
                return True
            raise exceptions.PermissionDenied(_("This token may only read (scope “read”)."))
        user = request.user
        if not (user and user.is_authenticated):
            raise exceptions.NotAuthenticated()
        if not user.is_staff:
            return False
        return user.has_perms(self.required_permissions(request, view))

    def required_permissions(self, request: Request, view) -> list[str]:
        model = permission_model_of(view)
        actions = (getattr(view, "action_permissions", None) or {}).get(getattr(view, "action", ""))
        if actions is None:
            actions = [METHOD_ACTIONS.get(request.method, "change")]
        opts = model._meta
        return [f"{opts.app_label}.{action}_{opts.model_name}" for action in actions]


def permission_model_of(view) -> type[models.Model]:
    model = getattr(view, "permission_model", None)
    if model is None:
        queryset = getattr(view, "queryset", None)
        model = (queryset if queryset is not None else view.get_queryset()).model
    return model


def may_see_restricted(request: Request) -> bool:
    """Restricted data (restricted consultations, personal data exports): tokens issued with
    ``--restricted``, and staff with ``meetings.view_restricted_consultation``. Views filter
    such rows out of their queryset for everyone else (404, not 403)."""
    client = api_client_of(request)
    if client is not None:
        return client.restricted
    user = request.user
    return bool(
        user and user.is_authenticated and user.has_perm("meetings.view_restricted_consultation")
    )


class PrivacyReadScope(permissions.BasePermission):
    """Subject-access exports (everything held about one person): tokens with the scope
    ``privacy:read`` (which no other scope implies), and staff with
    ``members.export_subject_access`` (coordinators, administrators). Checked after
    :class:`ApiAccess`, before the contact is looked up, so a refusal says nothing about
    whether the contact exists."""

    message = _("You may not export everything held about a person.")

    def has_permission(self, request: Request, view) -> bool:
        client = api_client_of(request)
        if client is not None:
            if client.privacy_read:
                return True
            raise exceptions.PermissionDenied(
                _("This token lacks the scope “privacy:read” (subject-access exports).")
            )
        user = request.user
        return bool(
            user and user.is_authenticated and user.has_perm("members.export_subject_access")
        )

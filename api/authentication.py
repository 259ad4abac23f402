"""Who is calling: an integration with ``Authorization: Bearer <token>``, or a member of staff
with the back-office session (browsable API, Swagger UI).

For a token, ``request.user`` and ``request.auth`` are both the :class:`api.models.ApiClient`
(it is duck-typed as an authenticated user; it is never staff and has no model permissions:
:mod:`api.permissions` decides by its scope). Use :func:`api_client_of` and
:func:`acting_user_of` rather than looking at ``request.user`` directly."""

import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api.models import ApiClient, hash_token
from api.services import api_client_touch


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>`` → the API client whose token hash matches.

    An unknown, expired or revoked token is a 401 (``authentication_failed``), never a
    fallback to anonymous. ``last_used_at`` is written at most once per
    ``API_TOKEN_LAST_USED_PRECISION`` seconds."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiClient] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid Authorization header."))
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        client = ApiClient.objects.filter(token_hash=hash_token(token)).first()
        if client is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if client.revoked_at is not None:
            raise exceptions.AuthenticationFailed(_("This token has been revoked."))
        if not client.is_usable:
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        precision = getattr(settings, "API_TOKEN_LAST_USED_PRECISION", 60)
        api_client_touch(client=client, every=datetime.timedelta(seconds=precision))
        return client, client

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (with WWW-Authenticate) rather than 403 to anonymous callers.
        return f'{self.keyword} realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The back-office session, for staff only (coordinators, viewers, administrators); a
    logged-in non-staff user counts as anonymous here. CSRF is enforced as usual."""

    def authenticate(self, request: Request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result


def api_client_of(request: Request) -> ApiClient | None:
    return request.auth if isinstance(request.auth, ApiClient) else None


def acting_user_of(request: Request) -> AbstractBaseUser | None:
    """The user to record in the history of a change: the staff member, or None for an API
    client (the client is not a user)."""
    user = request.user
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None

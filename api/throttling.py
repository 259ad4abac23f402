"""Rate limits (429 with ``Retry-After``), counted in the default cache.

- :class:`ApiClientRateThrottle` — per API client (``API_THROTTLE_RATES["client"]``).
- :class:`StaffRateThrottle` — per staff user of the browsable API (``["staff"]``).
- :class:`AnonymousRateThrottle` — per client IP for endpoints open to anonymous callers, such
  as the RSVP endpoints (``["anonymous"]``); a view may use a stricter scope with
  ``throttle_scope`` (``["rsvp"]``) through :class:`ScopedAnonymousRateThrottle`.

Rates are read from settings on each request (so ``override_settings`` works); the client IP
honours ``REST_FRAMEWORK["NUM_PROXIES"]``. With several processes the cache must be shared
(Redis) for the limits to be global.
"""

from django.conf import settings
from rest_framework import throttling

from api.authentication import api_client_of

DEFAULT_RATES = {
    "client": "1200/min",
    "staff": "600/min",
    "anonymous": "60/min",
    "rsvp": "20/min",
}


def rate_for(scope: str) -> str | None:
    rates = {**DEFAULT_RATES, **getattr(settings, "API_THROTTLE_RATES", {})}
    return rates.get(scope)


class _Throttle(throttling.SimpleRateThrottle):
    def get_rate(self) -> str | None:
        return rate_for(self.scope)

    def allow_request(self, request, view) -> bool:
        # The rate is looked up now, not at instantiation, so a settings change applies.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class ApiClientRateThrottle(_Throttle):
    scope = "client"

    def get_cache_key(self, request, view) -> str | None:
        client = api_client_of(request)
        return self.cache_format % {"scope": self.scope, "ident": client.pk} if client else None


class StaffRateThrottle(_Throttle):
    scope = "staff"

    def get_cache_key(self, request, view) -> str | None:
        if api_client_of(request) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class AnonymousRateThrottle(_Throttle):
    scope = "anonymous"

    def get_cache_key(self, request, view) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedAnonymousRateThrottle(AnonymousRateThrottle):
    """Per IP, with the view's ``throttle_scope`` (e.g. ``"rsvp"``) as the rate's name."""

    def allow_request(self, request, view) -> bool:
        self.scope = getattr(view, "throttle_scope", None) or self.scope
        return super().allow_request(request, view)

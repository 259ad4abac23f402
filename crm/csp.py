"""The Content-Security-Policy header (django-csp), with one exception for the back office.

The policy in ``settings.CONTENT_SECURITY_POLICY`` allows scripts only from our static files or
with the response's nonce, and never ``'unsafe-eval'``. The Unfold back office is built on
Alpine.js, whose expressions (``x-data``, ``x-init``, ``@click`` in Unfold's templates) are
compiled with ``new AsyncFunction(...)``: that is ``eval`` to the browser. Alpine's CSP build
evaluates only property paths and would break most of Unfold's markup, and Unfold ships no CSP
build, so pages under ``/admin/`` (the back office and its reports) also allow
``'unsafe-eval'``. Only staff reach those pages, after signing in; the public pages (RSVP,
unsubscribe), the API's browsable pages and Swagger UI do not get the exception.
"""

from __future__ import annotations

from csp.constants import UNSAFE_EVAL
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.http import HttpRequest, HttpResponseBase

BACK_OFFICE_PREFIX = "/admin/"


class CSPMiddleware(BaseCSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(BACK_OFFICE_PREFIX):
            update = dict(parts.update or {})
            update["script-src"] = [*update.get("script-src", []), UNSAFE_EVAL]
            parts.update = update
        return parts

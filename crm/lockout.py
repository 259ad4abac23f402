"""The page django-axes shows instead of the back-office login after too many failures."""

from __future__ import annotations

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the lockout page in the back office's layout and language, with
    the wait in minutes and what to do; 429 as axes answers by default."""
    cool_off = get_cool_off(request)
    context = {
        **admin.site.each_context(request),
        "title": "",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }
    response = TemplateResponse(
        request, "crm/lockout.html", context, status=settings.AXES_HTTP_RESPONSE_CODE
    )
    return response.render()

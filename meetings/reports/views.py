"""The partnership dashboard in the back office, and each figure alone as SVG or CSV.

Staff only (the admin's login), and only for those who may view organisations; anybody else
gets 403. Restricted consultations count only for users allowed to see them (see
:mod:`meetings.reports.selectors`).
"""

import csv
import io

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.audit import access_log_export
from meetings.reports import selectors
from meetings.reports.figures import FIGURES, Figure, Scope, scope_for, window_label
from members.resources import neutralize

VIEW_PERMISSION = "members.view_organization"


def _require(request: HttpRequest) -> None:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied


def _figure_url(slug: str, scope: Scope, fmt: str) -> str:
    query = urlencode({"window": scope.window.key, "format": fmt})
    return f"{reverse('reports:figure', args=[slug])}?{query}"


def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request)
    scope = scope_for(request.user, request.GET.get("window"))
    figures = [build(scope) for build in FIGURES.values()]
    context = {
        **admin.site.each_context(request),
        "title": _("Partnership reporting"),
        "figures": [
            {
                "figure": figure,
                "csv_url": _figure_url(figure.slug, scope, "csv"),
                "svg_url": _figure_url(figure.slug, scope, "svg") if figure.svg else "",
                "windowed": figure.slug in ("participation", "topics"),
            }
            for figure in figures
        ],
        "window": scope.window,
        "window_label": window_label(scope.window),
        "windows": [(w.key, window_label(w)) for w in selectors.WINDOWS.values()],
    }
    return TemplateResponse(request, "meetings/reports/dashboard.html", context)


def figure(request: HttpRequest, slug: str) -> HttpResponse:
    """One figure: ``?format=csv`` for its table, otherwise its chart as an SVG image."""
    _require(request)
    build = FIGURES.get(slug)
    if build is None:
        raise Http404
    result = build(scope_for(request.user, request.GET.get("window")))
    if request.GET.get("format") == "csv":
        # A table leaving the system (the follow-ups by owner name staff members): logged.
        access_log_export(
            what=gettext_lazy("Partnership report: %(figure)s"),
            params={"figure": slug},
            file_format="csv",
            acting_user=request.user,
            row_count=len(result.rows),
        )
        return csv_response(result)
    if result.svg is None:
        raise Http404
    response = HttpResponse(result.svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    return response


def csv_response(result: Figure) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralize(str(c)) for c in result.columns])
    for row in result.rows:
        writer.writerow(["" if v is None else neutralize(v) for v in row])
    # A byte-order mark, so that Excel opens UTF-8 names (Cyrillic, accents) correctly.
    response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{result.slug}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response

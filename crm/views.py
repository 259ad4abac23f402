"""Back-office pages of the project itself: the activity of all records.

Mounted under ``admin/`` through the admin site's ``admin_view`` (login, ``never_cache``).
Coordinators and administrators (``crm.view_activity``); viewers not: the page shows, in bulk
and for deleted records too, the earlier values of every field and which staff accounts and
API clients changed them — an audit tool, more than a reader of the directory needs.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from crm.activity import activity_page, visible_history_models
from crm.forms import ActivityFilterForm

VIEW_ACTIVITY = "crm.view_activity"


def activity(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_ACTIVITY):
        raise PermissionDenied
    tables = visible_history_models(request.user)
    type_choices = sorted(
        (
            (label, str(model._meta.verbose_name).capitalize())
            for label, (model, _h) in tables.items()
        ),
        key=lambda choice: choice[1],
    )
    form = ActivityFilterForm(request.GET or None, type_choices=type_choices)
    page, rows, status = None, [], 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        if not form.is_bound:
            form = ActivityFilterForm({}, type_choices=type_choices)
            form.is_valid()
        page, rows = activity_page(
            request.user,
            form.activity_filter(),
            page=request.GET.get("page", 1),
            per_page=form.page_size(),
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        **admin.site.each_context(request),
        "title": _("Activity"),
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
    }
    return TemplateResponse(request, "crm/activity.html", context, status=status)

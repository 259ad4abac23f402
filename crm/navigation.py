"""The site menu of the back office (Unfold's ``SITE_DROPDOWN``): pages that are not a model's
list, each offered only to those who may open it."""

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _


def site_dropdown(request: HttpRequest) -> list[dict]:
    user = request.user
    items = [
        {
            "icon": "checklist",
            "title": _("My follow-ups"),
            "link": reverse("admin:meetings_followup_my_followups"),
        },
        {
            "icon": "monitoring",
            "title": _("Partnership reporting"),
            "link": reverse("reports:dashboard"),
        },
    ]
    if user.has_perm("crm.view_activity"):
        items.append({"icon": "history", "title": _("Activity"), "link": reverse("activity")})
    if user.has_perm("crm.view_accesslogentry"):
        items.append(
            {
                "icon": "policy",
                "title": _("Access log"),
                "link": reverse("admin:crm_accesslogentry_changelist"),
            }
        )
    return items

"""The participant list of a meeting as CSV or Excel, for the venue, catering and badges."""

import tablib
from django.http import HttpResponse
from django.utils.text import slugify
from django.utils.translation import gettext as _

from meetings.models import Gathering, Invitation
from meetings.selectors import invitations_for_board
from members.resources import neutralize

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def participants_dataset(gathering: Gathering) -> tablib.Dataset:
    """Everyone who accepted, one row each. Every cell is neutralised: a needs field typed by
    an invitee must not run as a formula in the organisers' spreadsheet."""
    dataset = tablib.Dataset(
        headers=[
            _("Name"),
            _("Organisation"),
            _("Attends"),
            _("Dietary needs"),
            _("Accessibility needs"),
            _("Other needs"),
            _("Note to the organisers"),
            _("E-mail"),
        ],
        title=str(_("Participants"))[:31],
    )
    accepted = invitations_for_board(gathering).filter(status=Invitation.Status.ACCEPTED)
    for invitation in accepted:
        organization = invitation.organization
        row = [
            invitation.contact.full_name,
            organization.name if organization else "",
            invitation.get_mode_display(),
            invitation.dietary,
            invitation.accessibility,
            invitation.other_needs,
            invitation.note,
            invitation.contact.email,
        ]
        dataset.append([neutralize(str(value)) for value in row])
    return dataset


def participants_response(gathering: Gathering, fmt: str) -> HttpResponse:
    dataset = participants_dataset(gathering)
    content = dataset.export(fmt)
    if fmt == "csv":
        # A byte-order mark, so that Excel opens UTF-8 names (Cyrillic, accents) correctly.
        content = "\ufeff" + content
    response = HttpResponse(content, content_type=FORMATS[fmt])
    name = slugify(f"{gathering.title}-participants") or "participants"
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    return response

"""The participant lists of a gathering as CSV or Excel.

- The **internal** list, for the venue, catering and badges: everyone who accepted, with a
  column saying whether they agreed to be photographed.
- The **shared** list, handed to the other participants: name, organisation and country of
  those who agreed to appear on shared participant lists; the others are only counted, one
  line per organisation ("2 more participants — Alpha Aid").

A list is a sequence of columns, each a header and a function of (invitation, plus-one): the
plus-one is None on the invitee's own row, and set on the extra row of each guest they bring.
Meetings and events use the same writer with their own columns."""

from collections.abc import Callable, Iterable, Sequence

import tablib
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from meetings.models import Gathering, Invitation, PlusOne
from meetings.selectors import invitations_for_board
from members.privacy.models import ConsentPurpose
from members.privacy.selectors import consent_annotation_name, with_consent
from members.resources import neutralize

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Column = tuple[str | Promise, Callable[[Invitation, PlusOne | None], object]]


def _organisation_name(invitation: Invitation, guest: PlusOne | None) -> str:
    return invitation.organization.name if invitation.organization else ""


def _country(invitation: Invitation, guest: PlusOne | None) -> str:
    organization = invitation.organization
    return organization.country.name if organization and organization.country else ""


def _consents(invitation: Invitation, purpose: str) -> bool:
    # Annotated by with_consent() on the invitations the list is made of.
    return bool(getattr(invitation, consent_annotation_name(purpose), False))


def _photographs(invitation: Invitation, guest: PlusOne | None) -> str:
    if guest is not None:
        return ""
    return _("yes") if _consents(invitation, ConsentPurpose.PHOTOGRAPHS) else _("no")


MEETING_COLUMNS: Sequence[Column] = (
    (gettext_lazy("Name"), lambda i, g: i.contact.full_name),
    (gettext_lazy("Organisation"), _organisation_name),
    (gettext_lazy("Attends"), lambda i, g: i.get_mode_display()),
    (gettext_lazy("Dietary needs"), lambda i, g: i.dietary),
    (gettext_lazy("Accessibility needs"), lambda i, g: i.accessibility),
    (gettext_lazy("Other needs"), lambda i, g: i.other_needs),
    (gettext_lazy("Note to the organisers"), lambda i, g: i.note),
    (gettext_lazy("Photographs"), _photographs),
    (gettext_lazy("E-mail"), lambda i, g: i.contact.email),
)

# For badges: a guest's row carries the name they gave, and their host's organisation.
BADGE_COLUMNS: Sequence[Column] = (
    (gettext_lazy("Badge name"), lambda i, g: g.name if g else i.contact.full_name),
    (gettext_lazy("Badge organisation"), lambda i, g: i.badge_organization),
    (gettext_lazy("Country"), _country),
    (gettext_lazy("Attends"), lambda i, g: i.get_mode_display()),
    (gettext_lazy("Guest of"), lambda i, g: i.contact.full_name if g else ""),
    (gettext_lazy("Dietary needs"), lambda i, g: "" if g else i.dietary),
    (gettext_lazy("Accessibility needs"), lambda i, g: "" if g else i.accessibility),
    (gettext_lazy("Other needs"), lambda i, g: "" if g else i.other_needs),
    (gettext_lazy("Note to the organisers"), lambda i, g: "" if g else i.note),
    (gettext_lazy("Checked in"), lambda i, g: "" if g or not i.checked_in_at else _("yes")),
    (gettext_lazy("Photographs"), _photographs),
    (gettext_lazy("E-mail"), lambda i, g: g.email if g else i.contact.email),
)


def participants_dataset(
    gathering: Gathering,
    *,
    columns: Sequence[Column] = MEETING_COLUMNS,
    invitations: Iterable[Invitation] | None = None,
    with_guests: bool = False,
) -> tablib.Dataset:
    """Everyone who accepted, one row each (and one per plus-one ``with_guests``; the
    invitations must then have their plus-ones prefetched). Every cell is neutralised: a needs
    field typed by an invitee must not run as a formula in the organisers' spreadsheet."""
    dataset = tablib.Dataset(
        headers=[str(header) for header, _value in columns],
        title=str(_("Participants"))[:31],
    )
    for invitation in _accepted(gathering, invitations):
        guests = invitation.plus_ones.all() if with_guests else ()
        for guest in (None, *guests):
            row = [value(invitation, guest) for _header, value in columns]
            dataset.append([neutralize(str(value)) for value in row])
    return dataset


def _accepted(gathering: Gathering, invitations: Iterable[Invitation] | None) -> Iterable:
    if invitations is None:
        invitations = invitations_for_board(gathering).filter(status=Invitation.Status.ACCEPTED)
    if isinstance(invitations, QuerySet):
        invitations = with_consent(invitations, "contact_id")
    return invitations


SHARED_COLUMNS: Sequence[Column] = (
    (gettext_lazy("Name"), lambda i, g: i.contact.full_name),
    (gettext_lazy("Organisation"), _organisation_name),
    (gettext_lazy("Country"), _country),
)


def shared_participants_dataset(
    gathering: Gathering, *, invitations: Iterable[Invitation] | None = None
) -> tablib.Dataset:
    """The list handed to other participants: those who accepted and agreed to appear on
    shared lists, by name; the others counted per organisation, never named. Guests
    (plus-ones) have no consent of their own and are left out."""
    dataset = tablib.Dataset(
        headers=[str(header) for header, _value in SHARED_COLUMNS],
        title=str(_("Participants"))[:31],
    )
    others: dict[str, int] = {}
    for invitation in _accepted(gathering, invitations):
        if _consents(invitation, ConsentPurpose.PARTICIPANT_LIST):
            row = [value(invitation, None) for _header, value in SHARED_COLUMNS]
            dataset.append([neutralize(str(value)) for value in row])
        else:
            name = _organisation_name(invitation, None)
            others[name] = others.get(name, 0) + 1
    for name, n in sorted(others.items()):
        more = ngettext("%(n)d more participant", "%(n)d more participants", n) % {"n": n}
        dataset.append([more, neutralize(name or str(_("no organisation"))), ""])
    return dataset


def shared_participants_response(gathering: Gathering, fmt: str, **options) -> HttpResponse:
    dataset = shared_participants_dataset(gathering, **options)
    return _file_response(gathering, dataset, fmt, "shared-participants")


def participants_response(gathering: Gathering, fmt: str, **options) -> HttpResponse:
    dataset = participants_dataset(gathering, **options)
    return _file_response(gathering, dataset, fmt, "participants")


def _file_response(gathering: Gathering, dataset: tablib.Dataset, fmt: str, what: str):
    content = dataset.export(fmt)
    if fmt == "csv":
        # A byte-order mark, so that Excel opens UTF-8 names (Cyrillic, accents) correctly.
        content = "\ufeff" + content
    response = HttpResponse(content, content_type=FORMATS[fmt])
    name = slugify(f"{gathering.title}-{what}") or what
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "private, no-store"
    response.exported_rows = len(dataset)  # for the access log (meetings.admin.views)
    return response

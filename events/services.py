"""Writes for events. Answers, the waiting list and mail are the shared RSVP engine's
(``meetings.services``); these are the steps only events have."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.webhooks.services import webhook_emit
from crm.exceptions import ApplicationError
from events.models import Event
from meetings.models import Gathering, Invitation
from meetings.services import invitations_send, reminder_rules_create_defaults
from meetings.services.common import save
from members.selectors import contact_with_email
from members.services import contact_create, normalize_email


@transaction.atomic
def event_create(
    *, acting_user: AbstractBaseUser | None, default_rules: bool = True, **fields: Any
) -> Event:
    """A new event, as a draft. With a capacity it keeps a waiting list unless told not to."""
    fields.setdefault("waiting_list", fields.get("capacity") is not None)
    event = Event(**fields)
    if getattr(acting_user, "pk", None):
        event.created_by = acting_user
    save(event, acting_user)
    if default_rules:
        reminder_rules_create_defaults(gathering=event)
    return event


@transaction.atomic
def invitations_create_guests(
    *,
    gathering: Gathering,
    guests: Iterable[dict],
    acting_user: AbstractBaseUser | None,
) -> tuple[list[Invitation], list[str]]:
    """Invite people from outside the directory: ``{"given_name", "family_name", "email",
    "affiliation"}``. A known address is matched to its contact; a new person becomes a contact
    flagged for review, so the directory does not fill with unchecked entries. Returns the new
    invitations and, per guest skipped, why."""
    if gathering.status in (Gathering.Status.HELD, Gathering.Status.CANCELLED):
        raise ApplicationError(
            _("“%(title)s” is %(status)s; nobody can be invited any more.")
            % {"title": gathering.title, "status": gathering.get_status_display()}
        )
    invited = set(gathering.invitations.values_list("contact_id", flat=True))
    created, skipped = [], []
    for number, guest in enumerate(guests, start=1):
        email = normalize_email(guest.get("email", ""))
        given, family = guest.get("given_name", "").strip(), guest.get("family_name", "").strip()
        if not email:
            skipped.append(_("Guest %(n)s: an e-mail address is needed.") % {"n": number})
            continue
        contact = contact_with_email(email)
        if contact is None:
            if not given or not family:
                skipped.append(
                    _("Guest %(n)s (%(email)s): given and family name are needed.")
                    % {"n": number, "email": email}
                )
                continue
            contact = contact_create(
                given_name=given,
                family_name=family,
                email=email,
                needs_review=True,
                notes=_("Invited as a guest to %(title)s.") % {"title": gathering.title},
                acting_user=acting_user,
            )
        if contact.pk in invited:
            skipped.append(_("%(name)s is already invited.") % {"name": contact.full_name})
            continue
        invitation = Invitation(
            gathering=gathering,
            contact=contact,
            affiliation_label=guest.get("affiliation", "").strip()[:200],
            invited_by=acting_user if getattr(acting_user, "pk", None) else None,
        )
        save(invitation, acting_user)
        invited.add(contact.pk)
        created.append(invitation)
    if gathering.status == Gathering.Status.OPEN:
        invitations_send(gathering=gathering, acting_user=acting_user, invitations=created)
    return created, skipped


@transaction.atomic
def invitation_check_in(
    *, invitation: Invitation, acting_user: AbstractBaseUser | None, undo: bool = False
) -> Invitation:
    """Mark arrival on the day (or take it back); arrival records attendance."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    before = (invitation.checked_in_at, invitation.attendance)
    if undo:
        invitation.checked_in_at = None
        invitation.attendance = Invitation.Attendance.UNKNOWN
    else:
        if invitation.status != Invitation.Status.ACCEPTED:
            raise ApplicationError(
                _("%(name)s is not registered as attending (%(status)s).")
                % {"name": invitation.contact.full_name, "status": invitation.get_status_display()}
            )
        invitation.checked_in_at = invitation.checked_in_at or timezone.now()
        invitation.attendance = Invitation.Attendance.ATTENDED
    save(invitation, acting_user, reason="Check-in" if not undo else "Check-in undone")
    if (invitation.checked_in_at, invitation.attendance) != before:
        webhook_emit("invitation.attendance_recorded", invitation)
    return invitation

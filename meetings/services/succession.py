"""Focal-point succession: when an organisation's focal point leaves, the coordinator names the
successor in one step, and what the role carries moves with it."""

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from meetings.models import FocalPointSuccession, FollowUp, Gathering, Invitation
from meetings.services.common import save
from meetings.services.invitations import invitation_substitute
from members.models import Affiliation, Contact, Organization
from members.selectors import current_focal_point
from members.services import affiliation_create, affiliation_end

Status = Invitation.Status

# The invitations that move: not answered, accepted (the person who left will not come) and
# waiting for a place. A decline is the organisation's answer and stays; a replaced one has
# already passed to someone else.
MOVABLE = (Status.PENDING, Status.ACCEPTED, Status.WAITING)
FINISHED = (Gathering.Status.HELD, Gathering.Status.CANCELLED)
HISTORY_REASON = "Focal-point succession"

# Why an invitation was left with the departing person (the keys of ``moved["skipped"]``).
SKIP_NO_EMAIL = "successor_has_no_email"
SKIP_ALREADY_INVITED = "successor_already_invited"


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _movable_invitations(
    *, organization: Organization, contact: Contact, end_date: datetime.date
) -> list[Invitation]:
    """The departing person's open invitations, on behalf of this organisation, to gatherings
    that start after they leave (and are still to come, not held or cancelled)."""
    cutoff = max(timezone.now(), _start_of(end_date))
    return list(
        Invitation.objects.filter(
            contact=contact,
            organization=organization,
            status__in=MOVABLE,
            gathering__starts_at__gte=cutoff,
        )
        .exclude(gathering__status__in=FINISHED)
        .select_related("gathering")
        .order_by("gathering__starts_at", "id")
    )


def _hand_over_draft_invitation(
    invitation: Invitation, successor: Contact, acting_user: AbstractBaseUser | None
) -> Invitation:
    """A draft gathering's invitations are not sent yet: the successor's is created unsent
    (it goes out when the gathering opens, like every other) and nobody is written to now."""
    new = Invitation(
        gathering=invitation.gathering,
        contact=successor,
        organization=invitation.organization,
        invited_via=invitation,
        invited_by=invitation.invited_by,
    )
    save(new, acting_user, reason=HISTORY_REASON)
    invitation.status = Status.REPLACED
    invitation.mode = ""
    invitation.replaced_by = new
    save(invitation, acting_user, reason=HISTORY_REASON)
    return new


def _suppress_queued_reminders(contact: Contact, invitation_ids: list[int]) -> int:
    """Non-essential mail still waiting in the outbox for the departing person about the
    invitations that moved (a reminder in retry, say) is not sent: it is about an invitation
    that is no longer theirs. Rows already in flight are left to finish."""
    if not invitation_ids:
        return 0
    return OutgoingMessage.objects.filter(
        contact=contact,
        essential=False,
        status__in=[OutgoingMessage.Status.QUEUED, OutgoingMessage.Status.RETRY],
        about_type=ContentType.objects.get_for_model(Invitation),
        about_id__in=invitation_ids,
    ).update(
        status=OutgoingMessage.Status.SUPPRESSED,
        last_error=_("The invitation passed to a successor focal point"),
        updated_at=timezone.now(),
    )


@transaction.atomic
def focal_point_succession(
    *,
    organization: Organization,
    successor: Contact,
    acting_user: AbstractBaseUser | None,
    end_date: datetime.date | None = None,
    departing_affiliation: Affiliation | None = None,
    notes: str = "",
) -> FocalPointSuccession:
    """Hand the organisation's focal-point role from its current holder to ``successor``.

    - The departing person's focal-point role ends on ``end_date`` (today by default) and the
      successor's begins that day (the one-focal-point rule of the directory holds). The
      successor may be any existing contact, affiliated with the organisation or not.
    - Their open invitations on behalf of the organisation to gatherings that start after
      ``end_date`` and are still to come pass to the successor through the RSVP engine's
      substitution: the successor gets an invitation of their own, with their own link and
      invitation e-mail, and the departing person's becomes "replaced". This includes
      invitations the departing person had *accepted* — they will not come — and places on a
      waiting list; the successor answers for themselves (mode, needs and guests are
      personal). Declines stay (they are the organisation's answer), as do invitations to
      gatherings the successor is already invited to. A successor without an e-mail address
      cannot be invited: the hand-over still happens and the invitations stay where they are,
      which the record's remarks say (and the back office shows as a warning).
    - Open follow-ups the departing person owns as the partner's owner, about this
      organisation or about none, are reassigned to the successor; done and cancelled ones
      stay theirs.
    - Mail consent is personal and is **not** copied: the successor's own opt-out (or its
      absence) applies to them. Non-essential mail still queued for the departing person
      about the invitations that moved is not sent.
    - The departing person's past records — answers, attendance, consultations, done
      follow-ups — stay theirs.

    All of it happens in one transaction and is recorded in a ``FocalPointSuccession``
    (shown on the organisation's timeline): ``moved`` holds the ids, and under ``remarks``
    what the coordinator should know (what could not move and why); ``notes`` is the
    coordinator's own note.
    """
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    end_date = end_date or timezone.localdate()
    current = current_focal_point(organization)
    if current is None:
        raise ApplicationError(
            _(
                "%(org)s has no current focal point to hand over from. "
                "Name the focal point on the organisation's page instead."
            )
            % {"org": organization},
            field="organization",
        )
    if departing_affiliation is not None and departing_affiliation.pk != current.pk:
        raise ApplicationError(
            _("%(name)s is no longer the focal point of %(org)s; the current one is %(current)s.")
            % {
                "name": departing_affiliation.contact.full_name,
                "org": organization,
                "current": current.contact.full_name,
            },
            field="departing_affiliation",
        )
    departing = current.contact
    if successor.pk == departing.pk:
        raise ApplicationError(
            _("%(name)s is already the focal point; choose the person who takes over.")
            % {"name": successor.full_name},
            field="successor",
        )

    affiliation_end(affiliation=current, acting_user=acting_user, end_date=end_date)
    job_title = (
        Affiliation.objects.current(end_date)
        .filter(contact=successor, organization=organization)
        .exclude(job_title="")
        .values_list("job_title", flat=True)
        .first()
    )
    new_role = affiliation_create(
        contact=successor,
        organization=organization,
        role=Affiliation.Role.FOCAL_POINT,
        acting_user=acting_user,
        job_title=job_title or "",
        start_date=end_date,
    )

    moved_invitations: list[dict] = []
    skipped: list[dict] = []
    invitations = _movable_invitations(
        organization=organization, contact=departing, end_date=end_date
    )
    already_invited = set(
        Invitation.objects.filter(
            contact=successor, gathering_id__in=[i.gathering_id for i in invitations]
        ).values_list("gathering_id", flat=True)
    )
    for invitation in invitations:
        if not successor.email:
            skipped.append({"invitation": invitation.pk, "reason": SKIP_NO_EMAIL})
            continue
        if invitation.gathering_id in already_invited:
            skipped.append({"invitation": invitation.pk, "reason": SKIP_ALREADY_INVITED})
            continue
        if invitation.gathering.status == Gathering.Status.DRAFT:
            new = _hand_over_draft_invitation(invitation, successor, acting_user)
        else:
            new = invitation_substitute(
                invitation=invitation,
                email=successor.email,
                acting_user=acting_user,
                by_coordinator=True,
            )
        moved_invitations.append(
            {
                "from": invitation.pk,
                "to": new.pk,
                "gathering": invitation.gathering_id,
                "was": invitation.status,
            }
        )
    suppressed = _suppress_queued_reminders(departing, [m["from"] for m in moved_invitations])

    followups = list(
        FollowUp.objects.filter(owner_contact=departing, status=FollowUp.Status.OPEN)
        .filter(Q(organization=organization) | Q(organization__isnull=True))
        .order_by("id")
    )
    for followup in followups:
        followup.owner_contact = successor
        save(followup, acting_user, reason=HISTORY_REASON)

    remarks: list[str] = []
    if any(s["reason"] == SKIP_NO_EMAIL for s in skipped):
        remarks.append(
            _(
                "%(name)s has no e-mail address, so the open invitations could not be moved; "
                "they stay with %(departing)s. Add an address and invite %(name)s from the "
                "meeting's page."
            )
            % {"name": successor.full_name, "departing": departing.full_name}
        )
    if any(s["reason"] == SKIP_ALREADY_INVITED for s in skipped):
        remarks.append(
            _("%(name)s was already invited to some of the meetings; those invitations stay.")
            % {"name": successor.full_name}
        )

    record = FocalPointSuccession(
        organization=organization,
        departing=departing,
        successor=successor,
        ended_affiliation=current,
        new_affiliation=new_role,
        end_date=end_date,
        moved={
            "invitations": moved_invitations,
            "follow_ups": [f.pk for f in followups],
            "skipped": skipped,
            "reminders_suppressed": suppressed,
            "remarks": remarks,
        },
        notes=notes.strip(),
        acted_by=acting_user if getattr(acting_user, "pk", None) else None,
    )
    save(record, acting_user)
    return record

"""The life cycle of a gathering: draft → open (invitations sent) → closed → held, or
cancelled. Changes of time or place are announced to those coming, with a calendar update."""

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.exceptions import ApplicationError
from meetings.models import Gathering, Invitation, Meeting, ReminderRule
from meetings.services.capacity import waitlist_fill
from meetings.services.common import save
from meetings.services.mail import mail_invitation

Status = Gathering.Status

# Fields whose change moves the calendar entry: those coming are told, SEQUENCE grows.
SCHEDULE_FIELDS = ("starts_at", "ends_at", "time_zone", "format", "venue", "address")


def reminder_rules_create_defaults(*, gathering: Gathering) -> list[ReminderRule]:
    """Reminders to answer 14 and 3 days before the deadline, and "see you tomorrow" the day
    before to those who accepted. Coordinators edit or switch them off per gathering."""
    rules = [
        ReminderRule(
            gathering=gathering,
            name=_("Reminder 14 days before the deadline"),
            anchor=ReminderRule.Anchor.DEADLINE,
            days=14,
            audience=ReminderRule.Audience.NOT_ANSWERED,
            template=ReminderRule.Template.REMINDER,
        ),
        ReminderRule(
            gathering=gathering,
            name=_("Reminder 3 days before the deadline"),
            anchor=ReminderRule.Anchor.DEADLINE,
            days=3,
            audience=ReminderRule.Audience.NOT_ANSWERED,
            template=ReminderRule.Template.REMINDER,
        ),
        ReminderRule(
            gathering=gathering,
            name=_("See you tomorrow"),
            anchor=ReminderRule.Anchor.START,
            days=1,
            local_time=datetime.time(12, 0),
            audience=ReminderRule.Audience.ACCEPTED,
            template=ReminderRule.Template.SEE_YOU_TOMORROW,
        ),
    ]
    return ReminderRule.objects.bulk_create(rules)


@transaction.atomic
def meeting_create(
    *, acting_user: AbstractBaseUser | None, default_rules: bool = True, **fields: Any
) -> Meeting:
    meeting = Meeting(**fields)
    if getattr(acting_user, "pk", None):
        meeting.created_by = acting_user
    save(meeting, acting_user)
    if default_rules:
        reminder_rules_create_defaults(gathering=meeting)
    return meeting


def _locked(gathering: Gathering) -> Gathering:
    locked = Gathering.objects.select_for_update().get(pk=gathering.pk)
    gathering.status = locked.status
    gathering.sequence = locked.sequence
    return gathering


def _transition(
    gathering: Gathering, allowed: tuple[str, ...], target: str, acting_user, message: str
) -> Gathering:
    _locked(gathering)
    if gathering.status not in allowed:
        raise ApplicationError(
            message % {"status": gathering.get_status_display(), "title": gathering.title},
            field="status",
        )
    gathering.status = target
    save(gathering, acting_user, update_fields=["status"])
    return gathering


@transaction.atomic
def gathering_open(*, gathering: Gathering, acting_user: AbstractBaseUser | None) -> Gathering:
    """Open a draft and send the invitations prepared for it."""
    from meetings.services.invitations import invitations_send

    if gathering.rsvp_deadline <= timezone.now():
        raise ApplicationError(
            _("The deadline for answers has passed; move it before sending invitations."),
            field="rsvp_deadline",
        )
    _transition(
        gathering,
        (Status.DRAFT,),
        Status.OPEN,
        acting_user,
        _("“%(title)s” is %(status)s; only a draft can be opened."),
    )
    invitations_send(gathering=gathering, acting_user=acting_user)
    return gathering


@transaction.atomic
def gathering_close(*, gathering: Gathering, acting_user: AbstractBaseUser | None) -> Gathering:
    """Stop taking answers (the deadline passed, or the coordinator closes early)."""
    return _transition(
        gathering,
        (Status.OPEN,),
        Status.CLOSED,
        acting_user,
        _("“%(title)s” is %(status)s; only an open gathering can be closed."),
    )


@transaction.atomic
def gathering_mark_held(*, gathering: Gathering, acting_user: AbstractBaseUser | None) -> Gathering:
    if gathering.starts_at > timezone.now():
        raise ApplicationError(_("A gathering can be marked as held only once it has started."))
    return _transition(
        gathering,
        (Status.OPEN, Status.CLOSED),
        Status.HELD,
        acting_user,
        _("“%(title)s” is %(status)s; only an open or closed gathering can be marked held."),
    )


@transaction.atomic
def gathering_cancel(
    *, gathering: Gathering, acting_user: AbstractBaseUser | None, reason: str = ""
) -> Gathering:
    """Cancel, and send everyone who was invited a cancellation with a calendar CANCEL."""
    _transition(
        gathering,
        (Status.DRAFT, Status.OPEN, Status.CLOSED),
        Status.CANCELLED,
        acting_user,
        _("“%(title)s” is %(status)s and cannot be cancelled."),
    )
    Gathering.objects.filter(pk=gathering.pk).update(sequence=gathering.sequence + 1)
    gathering.sequence += 1
    invited = (
        gathering.invitations.filter(sent_at__isnull=False)
        .exclude(status=Invitation.Status.REPLACED)
        .select_related("contact", "gathering")
    )
    for invitation in invited:
        invitation.gathering = gathering
        mail_invitation(
            invitation,
            template="cancellation",
            key=f"cancellation:{invitation.pk}",
            extra_text=reason,
        )
    return gathering


def _differs(new: Any, old: Any) -> bool:
    """Aware datetimes compare as moments (10:00 Vienna == 09:00 UTC); time zones by name."""
    if isinstance(new, datetime.datetime) or isinstance(old, datetime.datetime):
        return new != old
    return str(new) != str(old)


@transaction.atomic
def gathering_update(
    *, gathering: Gathering, acting_user: AbstractBaseUser | None, **fields: Any
) -> Gathering:
    """Change a gathering. When the time or place of an announced gathering changes, the
    calendar SEQUENCE grows and everyone who accepted gets the update with a new calendar
    file; reminder rules move with the dates by themselves."""
    _locked(gathering)
    if gathering.status in (Status.HELD, Status.CANCELLED) and (set(fields) & set(SCHEDULE_FIELDS)):
        raise ApplicationError(
            _("“%(title)s” is %(status)s; its time and place can no longer change.")
            % {"title": gathering.title, "status": gathering.get_status_display()}
        )
    before = {name: getattr(gathering, name) for name in SCHEDULE_FIELDS}
    for name, value in fields.items():
        setattr(gathering, name, value)
    moved = any(_differs(getattr(gathering, n), before[n]) for n in SCHEDULE_FIELDS)
    announced = gathering.status in (Status.OPEN, Status.CLOSED)
    if moved and announced:
        gathering.sequence += 1
    save(gathering, acting_user)
    if {"capacity", "format", "waiting_list"} & set(fields):
        waitlist_fill(gathering)  # raised capacity: offer the new places
    if moved and announced:
        coming = gathering.invitations.filter(status=Invitation.Status.ACCEPTED).select_related(
            "contact"
        )
        for invitation in coming:
            invitation.gathering = gathering
            mail_invitation(
                invitation,
                template="update",
                key=f"update:{invitation.pk}:{gathering.sequence}",
            )
    return gathering

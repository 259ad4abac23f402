"""The reminder schedule: every outbox pass asks which (rule, invitee) pairs have become due.

The database is the schedule: a rule's moment is computed from the gathering's dates when the
pass runs, so rescheduling moves it. A pair is written to the outbox under the key
``rule:<rule>:<invitation>``, so it is never written twice — not by a second pass, not by a
second beat process running at the same time.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from meetings.models import Gathering, Invitation, ReminderRule
from meetings.services.mail import mail_invitation

Audience = ReminderRule.Audience

# A rule missed by more than this (the scheduler was down) is skipped, not sent late.
LATE_LIMIT = datetime.timedelta(hours=12)


def audience_of(rule: ReminderRule):
    invitations = rule.gathering.invitations.filter(sent_at__isnull=False)
    if rule.audience == Audience.NOT_ANSWERED:
        return invitations.filter(status=Invitation.Status.PENDING)
    if rule.audience == Audience.ACCEPTED:
        return invitations.filter(status=Invitation.Status.ACCEPTED)
    if rule.audience == Audience.ACCEPTED_ONLINE:
        return invitations.filter(status=Invitation.Status.ACCEPTED, mode=Invitation.Mode.ONLINE)
    return invitations.exclude(status=Invitation.Status.REPLACED)


def rule_is_due(rule: ReminderRule, now: datetime.datetime) -> bool:
    gathering = rule.gathering
    due = rule.due_at(gathering)
    if not rule.active or due > now or now - due > LATE_LIMIT:
        return False
    # A rule added (or switched on) after its moment never sends for that moment.
    if due < rule.created_at:
        return False
    if rule.audience == Audience.NOT_ANSWERED and now >= gathering.rsvp_deadline:
        return False
    return not (rule.anchor != ReminderRule.Anchor.END and now >= gathering.ends_at)


def schedule_due_reminders(now: datetime.datetime | None = None) -> int:
    """Create the outbox rows of every due (rule, invitee) pair. Returns how many were new."""
    now = now or timezone.now()
    rules = ReminderRule.objects.filter(
        active=True,
        gathering__status__in=[Gathering.Status.OPEN, Gathering.Status.CLOSED],
        gathering__ends_at__gt=now - LATE_LIMIT - datetime.timedelta(days=30),
    ).select_related("gathering")
    created = 0
    for rule in rules:
        if not rule_is_due(rule, now):
            continue
        prefix = f"rule:{rule.pk}:"
        done = set(
            OutgoingMessage.objects.filter(key__startswith=prefix).values_list("key", flat=True)
        )
        for invitation in audience_of(rule).select_related("contact"):
            key = f"{prefix}{invitation.pk}"
            if key in done:
                continue
            invitation.gathering = rule.gathering
            with transaction.atomic():
                message = mail_invitation(
                    invitation,
                    template=rule.template,
                    key=key,
                    essential=False,
                    extra_text=rule.extra_text,
                )
            if message is not None:
                created += 1
    return created

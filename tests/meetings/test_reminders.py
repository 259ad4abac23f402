"""Reminder rules: due at the right local moment, to the right people, once per pair."""

import datetime

import pytest
import time_machine
from django.core import mail

from crm.mail.models import OutgoingMessage
from crm.mail.tasks import dispatch_outbox
from meetings import services
from meetings.models import ReminderRule
from meetings.reminders import schedule_due_reminders
from tests.factories import InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting():
    meeting = MeetingFactory()
    services.reminder_rules_create_defaults(gathering=meeting)
    # The rules exist "since before" every moment the tests travel to.
    ReminderRule.objects.update(created_at=meeting.created_at - datetime.timedelta(days=60))
    return meeting


def _rule(meeting, days):
    return meeting.reminder_rules.get(anchor="deadline", days=days)


def test_not_due_before_its_moment_due_after(meeting):
    pending = InvitationFactory(gathering=meeting)
    due = _rule(meeting, 3).due_at()
    with time_machine.travel(due - datetime.timedelta(minutes=1)):
        assert schedule_due_reminders() == 0
    with time_machine.travel(due + datetime.timedelta(minutes=1)):
        assert schedule_due_reminders() == 1
        assert schedule_due_reminders() == 0  # never twice for the same pair
    message = OutgoingMessage.objects.get()
    assert message.key == f"rule:{_rule(meeting, 3).pk}:{pending.pk}"
    assert message.purpose == "reminder"
    assert message.essential is False


def test_due_at_local_time_in_meeting_zone(meeting):
    rule = _rule(meeting, 14)
    due = rule.due_at()
    assert due.tzinfo.key == "Europe/Vienna"
    assert (due.hour, due.minute) == (9, 0)


def test_only_the_audience_gets_it(meeting, django_capture_on_commit_callbacks):
    pending = InvitationFactory(gathering=meeting)
    InvitationFactory(gathering=meeting, status="accepted", mode="in_person")
    InvitationFactory(gathering=meeting, status="declined")
    InvitationFactory(gathering=meeting, sent_at=None)  # not invited yet: no reminder
    with (
        time_machine.travel(_rule(meeting, 14).due_at() + datetime.timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        dispatch_outbox()
    assert [m.to[0] for m in mail.outbox] == [pending.contact.email]
    assert pending.token in mail.outbox[0].body


def test_see_you_tomorrow_to_those_accepted(meeting, django_capture_on_commit_callbacks):
    online = InvitationFactory(gathering=meeting, status="accepted", mode="online")
    InvitationFactory(gathering=meeting)
    rule = meeting.reminder_rules.get(template="see_you_tomorrow")
    with (
        time_machine.travel(rule.due_at() + datetime.timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        dispatch_outbox()
    assert [m.to[0] for m in mail.outbox] == [online.contact.email]
    assert "meet.example.org" in mail.outbox[0].body  # joining details for online


def test_rescheduling_moves_the_rule(meeting, coordinator):
    InvitationFactory(gathering=meeting)
    old_due = _rule(meeting, 3).due_at()
    services.gathering_update(
        gathering=meeting,
        acting_user=coordinator,
        rsvp_deadline=meeting.rsvp_deadline + datetime.timedelta(days=5),
    )
    with time_machine.travel(old_due + datetime.timedelta(minutes=1)):
        assert schedule_due_reminders() == 0
    with time_machine.travel(_rule(meeting, 3).due_at() + datetime.timedelta(minutes=1)):
        assert schedule_due_reminders() == 1


def test_a_new_rule_never_sends_for_a_moment_already_past(meeting):
    InvitationFactory(gathering=meeting)
    rule = _rule(meeting, 3)
    with time_machine.travel(rule.due_at() + datetime.timedelta(hours=1)):
        late = ReminderRule.objects.create(
            gathering=meeting,
            name="Added late",
            anchor="deadline",
            days=3,
            audience="not_answered",
            template="reminder",
        )
        schedule_due_reminders()
    assert not OutgoingMessage.objects.filter(key__startswith=f"rule:{late.pk}:").exists()
    assert OutgoingMessage.objects.filter(key__startswith=f"rule:{rule.pk}:").exists()


def test_missed_by_far_is_skipped_not_sent_late(meeting):
    InvitationFactory(gathering=meeting)
    with time_machine.travel(_rule(meeting, 14).due_at() + datetime.timedelta(days=2)):
        assert schedule_due_reminders() == 0


def test_inactive_rules_and_closed_answers_send_nothing(meeting):
    InvitationFactory(gathering=meeting)
    _rule(meeting, 3).__class__.objects.filter(pk=_rule(meeting, 3).pk).update(active=False)
    with time_machine.travel(_rule(meeting, 3).due_at() + datetime.timedelta(minutes=1)):
        assert schedule_due_reminders() == 0


def test_opted_out_contact_is_suppressed(meeting):
    from django.utils import timezone

    InvitationFactory(gathering=meeting, contact__mail_opt_out_at=timezone.now())
    with time_machine.travel(_rule(meeting, 3).due_at() + datetime.timedelta(minutes=1)):
        schedule_due_reminders()
    assert OutgoingMessage.objects.get().status == "suppressed"


def test_draft_and_cancelled_meetings_get_no_reminders(meeting):
    InvitationFactory(gathering=meeting)
    for status in ("draft", "cancelled"):
        meeting.__class__.objects.filter(pk=meeting.pk).update(status=status)
        with time_machine.travel(_rule(meeting, 3).due_at() + datetime.timedelta(minutes=1)):
            assert schedule_due_reminders() == 0

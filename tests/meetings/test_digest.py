import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from meetings.digest import digest_is_due, schedule_weekly_digest
from meetings.models import FollowUp
from tests.factories import InvitationFactory, MeetingFactory, UserFactory

pytestmark = pytest.mark.django_db

# Monday 2026-11-30, office time.
MONDAY_0800 = datetime.datetime(2026, 11, 30, 8, 0, tzinfo=datetime.UTC) - datetime.timedelta(
    hours=1
)


@pytest.fixture
def coordinators():
    group, _ = Group.objects.get_or_create(name="Coordinators")
    users = [UserFactory(is_staff=True, email=f"c{i}@example.org") for i in range(2)]
    UserFactory(is_staff=True, email="other@example.org")  # not a coordinator
    for user in users:
        user.groups.add(group)
    return users


def test_due_from_monday_morning_for_the_week():
    assert digest_is_due(MONDAY_0800 - datetime.timedelta(minutes=1)) == (False, "2026-W49")
    assert digest_is_due(MONDAY_0800) == (True, "2026-W49")
    assert digest_is_due(MONDAY_0800 + datetime.timedelta(days=3))[0]


def test_one_digest_per_coordinator_per_week(coordinators, django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY_0800 - datetime.timedelta(days=10)):
        meeting = MeetingFactory(
            rsvp_deadline=MONDAY_0800 + datetime.timedelta(days=5),
            starts_at=MONDAY_0800 + datetime.timedelta(days=12),
            ends_at=MONDAY_0800 + datetime.timedelta(days=12, hours=6),
        )
        silent = InvitationFactory(gathering=meeting)
        InvitationFactory(gathering=meeting, status="accepted", mode="in_person")
        FollowUp.objects.create(
            title="Send the survey questionnaire",
            due_date=(MONDAY_0800 - datetime.timedelta(days=2)).date(),
            owner_user=coordinators[0],
        )
    with time_machine.travel(MONDAY_0800 - datetime.timedelta(days=2)):
        OutgoingMessage.objects.create(
            key="x",
            purpose="other",
            to_email="bounced@example.org",
            subject="Lost",
            body_text="x",
            message_id="<x@example.org>",
            status="failed",
        )
    with (
        time_machine.travel(MONDAY_0800 + datetime.timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert schedule_weekly_digest() == 2
        assert schedule_weekly_digest() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["c0@example.org", "c1@example.org"]
    first = next(m for m in mail.outbox if m.to[0] == "c0@example.org")
    assert meeting.title in first.body
    assert "1 of 2 have not answered, 1 accepted" in first.body
    assert silent.contact.full_name in first.body
    assert "Send the survey questionnaire" in first.body
    assert "bounced@example.org" in first.body
    second = next(m for m in mail.outbox if m.to[0] == "c1@example.org")
    assert "Send the survey questionnaire" not in second.body  # owned by someone else
    with time_machine.travel(MONDAY_0800 + datetime.timedelta(days=7, minutes=1)):
        assert schedule_weekly_digest() == 2  # next week


def test_no_digest_before_monday_morning(coordinators):
    with time_machine.travel(MONDAY_0800 - datetime.timedelta(minutes=1)):
        assert schedule_weekly_digest() == 0
    assert not OutgoingMessage.objects.exists()
    assert timezone.now()  # time travel ended cleanly

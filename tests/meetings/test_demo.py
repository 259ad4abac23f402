"""The demo meetings (meetings/demo.py), loaded by ``manage.py seed_demo``."""

import datetime
import io
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from meetings.demo import PAST_NUMBER, UPCOMING_NUMBER
from meetings.models import FollowUp, Gathering, Invitation, Meeting
from members.models import Organization

pytestmark = pytest.mark.django_db

Status = Invitation.Status
Purpose = OutgoingMessage.Purpose


@pytest.fixture
def seed(django_capture_on_commit_callbacks):
    """Run seed_demo as on a fresh machine: e-mails leave when each transaction commits."""

    def run(*args: str) -> str:
        stdout = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", *args, stdout=stdout, stderr=io.StringIO())
        return stdout.getvalue()

    return run


def mail_about(meeting: Meeting):
    return OutgoingMessage.objects.filter(
        about_type=ContentType.objects.get_for_model(Invitation),
        about_id__in=list(meeting.invitations.values_list("pk", flat=True)),
    )


def snapshot() -> dict[str, int]:
    """Row counts of every table of the meetings and mail apps, history included."""
    return {
        f"{label}.{model.__name__}": model._default_manager.count()
        for label in ("meetings", "mail", "members")
        for model in apps.get_app_config(label).get_models()
    }


def answers(meeting: Meeting) -> list[tuple]:
    return sorted(
        (i.contact.email, i.status, i.mode, i.dietary, i.other_needs, i.note, i.attendance)
        for i in meeting.invitations.select_related("contact")
    )


def test_seed_demo_builds_an_upcoming_and_a_past_meeting_once(seed, client):
    output = seed()

    upcoming = Meeting.objects.get(series="AECT", number=UPCOMING_NUMBER)
    past = Meeting.objects.get(series="AECT", number=PAST_NUMBER)
    now = timezone.now()
    assert "Demo meetings:" in output

    # --- the upcoming meeting: open, invitations to every AECT partner's focal point
    assert upcoming.status == Gathering.Status.OPEN
    assert upcoming.format == Gathering.Format.HYBRID
    assert now < upcoming.rsvp_deadline < upcoming.starts_at
    assert 25 <= (upcoming.starts_at - now).days <= 60  # a working day, not in the winter closure
    assert upcoming.seats_per_org == 2
    assert upcoming.online_link.startswith("https://meet.example.org/")
    assert upcoming.description
    assert 5 <= upcoming.agenda_items.count() <= 6
    assert upcoming.agenda_items.filter(organization__isnull=False).count() >= 2
    assert upcoming.reminder_rules.count() == 3
    partners = Organization.objects.filter(
        takes_part_in_aect=True, status=Organization.Status.ACTIVE
    )
    invited_orgs = set(upcoming.invitations.values_list("organization", flat=True))
    assert invited_orgs == set(partners.values_list("pk", flat=True))

    invitations = upcoming.invitations.all()
    states = Counter((i.status, i.mode) for i in invitations)
    assert states[(Status.PENDING, "")] >= 1
    assert states[(Status.ACCEPTED, Invitation.Mode.IN_PERSON)] >= 3
    assert states[(Status.ACCEPTED, Invitation.Mode.ONLINE)] >= 2
    assert states[(Status.DECLINED, "")] >= 1
    assert states[(Status.REPLACED, "")] == 1
    assert any(i.needs for i in invitations.filter(status=Status.ACCEPTED))
    replaced = invitations.get(status=Status.REPLACED)
    assert replaced.replaced_by.invited_via == replaced
    assert replaced.replaced_by.organization == replaced.organization
    colleague = invitations.filter(invited_via__isnull=False).exclude(pk=replaced.replaced_by_id)
    assert colleague.count() == 1
    assert colleague.get().status == Status.ACCEPTED
    assert colleague.get().organization == colleague.get().invited_via.organization
    # the answers came through the RSVP page, recorded in the history
    assert replaced.history.filter(history_change_reason="RSVP page").exists()
    # no organisation has more people coming than its seats
    coming = Counter(
        invitations.filter(status=Status.ACCEPTED).values_list("organization", flat=True)
    )
    assert max(coming.values()) <= upcoming.seats_per_org

    # one invitation e-mail per invitation sent (the colleague is registered, not invited)
    outbox = mail_about(upcoming)
    sent = invitations.exclude(pk=colleague.get().pk)
    assert sorted(outbox.filter(purpose=Purpose.INVITATION).values_list("key", flat=True)) == (
        sorted(f"invitation:{pk}" for pk in sent.values_list("pk", flat=True))
    )
    assert not sent.filter(sent_at__isnull=True).exists()
    assert set(outbox.values_list("status", flat=True)) == {OutgoingMessage.Status.SENT}
    answered = invitations.exclude(status=Status.PENDING).count()
    assert outbox.filter(purpose=Purpose.CONFIRMATION).count() == answered
    assert len(mail.outbox) == OutgoingMessage.objects.count()  # every row was sent once

    # the personal link in an invitation e-mail opens the RSVP page
    pending = invitations.filter(status=Status.PENDING).select_related("contact").first()
    message = next(m for m in mail.outbox if m.to == [pending.contact.email])
    assert pending.rsvp_url in message.body
    assert client.get(pending.rsvp_path).status_code == 200

    # --- the past meeting: held, answered, attendance and minutes, action items, no e-mail
    assert past.status == Gathering.Status.HELD
    assert 140 <= (now - past.starts_at).days <= 160
    assert past.minutes.startswith(f"AECT {PAST_NUMBER}")
    assert not mail_about(past).exists()
    attendance = Counter(past.invitations.values_list("status", "attendance"))
    assert attendance[(Status.ACCEPTED, Invitation.Attendance.ATTENDED)] >= 5
    assert sum(n for (_s, a), n in attendance.items() if a == Invitation.Attendance.ABSENT) >= 1
    assert not past.invitations.filter(attendance=Invitation.Attendance.UNKNOWN).exists()
    assert not past.invitations.filter(sent_at__isnull=True).exists()
    assert past.invitations.filter(status=Status.DECLINED).exists()
    follow_ups = FollowUp.objects.filter(gathering=past)
    assert 3 <= follow_ups.count() <= 5
    assert set(follow_ups.values_list("source", flat=True)) == {FollowUp.Source.MEETING}
    assert not follow_ups.filter(due_date__isnull=True).exists()
    assert {FollowUp.Status.OPEN, FollowUp.Status.DONE} <= set(
        follow_ups.values_list("status", flat=True)
    )
    assert follow_ups.filter(status=FollowUp.Status.OPEN, due_date__lt=now.date()).exists()

    # --- a second run adds nothing: no meeting, invitation, answer or e-mail
    before = snapshot()
    sent_mail = len(mail.outbox)
    second = seed()

    assert snapshot() == before
    assert len(mail.outbox) == sent_mail
    assert "Demo meetings already present: nothing added." in second


def test_seed_demo_meetings_are_the_same_on_every_fresh_seed(seed):
    seed()
    first = {m.number: answers(m) for m in Meeting.objects.all()}
    agenda = {
        m.number: list(m.agenda_items.values_list("title", "presenter"))
        for m in Meeting.objects.all()
    }

    # The same demo built again over the same directory gives the same answers.
    Meeting.objects.all().delete()
    FollowUp.objects.all().delete()
    seed()

    assert {m.number: answers(m) for m in Meeting.objects.all()} == first
    assert {
        m.number: list(m.agenda_items.values_list("title", "presenter"))
        for m in Meeting.objects.all()
    } == agenda


@pytest.mark.parametrize(("deadline_after", "start_after"), [(21, 35), (28, 42)])
def test_demo_deadlines_fall_between_today_and_the_start_on_every_day_of_the_year(
    deadline_after, start_after
):
    # On 3 December the meeting's deadline used to step forwards out of the winter closure
    # onto the start day itself, and `make run` failed.
    from meetings.demo import _deadline_day, _on_weekday

    first = datetime.date(2026, 1, 1)
    for offset in range(366):
        today = first + datetime.timedelta(days=offset)
        start = _on_weekday(today + datetime.timedelta(days=start_after), +1)
        deadline = _deadline_day(today + datetime.timedelta(days=deadline_after), start)
        assert today < deadline <= start - datetime.timedelta(days=3), today
        assert deadline.weekday() < 5, today

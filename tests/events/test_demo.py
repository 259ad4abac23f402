"""The demo events (events/demo.py), loaded by ``manage.py seed_demo``."""

import io
from collections import Counter

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from events.demo import CAPACITY, GUESTS, PAST_CAPACITY, WEBINAR_TITLE
from events.models import Event
from events.selectors import event_counts, waiting_list
from meetings.models import Gathering, Invitation
from meetings.services.capacity import waiting_position
from members.models import Affiliation, Contact, Organization

pytestmark = pytest.mark.django_db

Status = Invitation.Status
Purpose = OutgoingMessage.Purpose
BENCH_DOMAIN = "@bench.example.org"


@pytest.fixture
def seed(django_capture_on_commit_callbacks):
    """Run seed_demo as on a fresh machine: e-mails leave when each transaction commits."""

    def run(*args: str) -> str:
        stdout = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", *args, stdout=stdout, stderr=io.StringIO())
        return stdout.getvalue()

    return run


def mail_about(event: Event):
    return OutgoingMessage.objects.filter(
        about_type=ContentType.objects.get_for_model(Invitation),
        about_id__in=list(event.invitations.values_list("pk", flat=True)),
    )


def snapshot() -> dict[str, int]:
    """Row counts of every table of the events, meetings, mail and members apps."""
    return {
        f"{label}.{model.__name__}": model._default_manager.count()
        for label in ("events", "meetings", "mail", "members")
        for model in apps.get_app_config(label).get_models()
    }


def answers(event: Event) -> list[tuple]:
    return sorted(
        (
            i.contact.email,
            i.status,
            i.mode,
            i.dietary,
            i.note,
            i.offer_running,
            tuple(i.plus_ones.values_list("name", "email")),
        )
        for i in event.invitations.select_related("contact")
    )


def heads_and_focal_points() -> set[int]:
    return set(
        Affiliation.objects.current()
        .filter(
            organization__status=Organization.Status.ACTIVE,
            role__in=[Affiliation.Role.HEAD, Affiliation.Role.FOCAL_POINT],
        )
        .exclude(contact__email="")
        .values_list("contact_id", flat=True)
    )


def test_seed_demo_builds_this_and_last_years_conference_once(seed):
    output = seed()
    now = timezone.now()
    conferences = Event.objects.filter(kind=Event.Kind.CONFERENCE)
    conference = conferences.get(starts_at__gt=now)
    past = conferences.get(starts_at__lt=now)
    assert "Demo events:" in output
    assert conference.title in output
    assert past.title in output

    # --- this year's conference: open, in person in Vienna, a programme, a waiting list
    assert conference.title.startswith("Alliance against Trafficking in Persons Conference ")
    assert conference.title.endswith(str(timezone.localtime(conference.starts_at).year))
    assert conference.status == Gathering.Status.OPEN
    assert conference.format == Gathering.Format.IN_PERSON
    assert "Vienna" in conference.address
    assert now < conference.rsvp_deadline < conference.starts_at
    assert 35 <= (conference.starts_at - now).days <= 70  # ~6 weeks; a working day
    assert timezone.localtime(conference.starts_at).weekday() < 5
    assert conference.capacity == CAPACITY
    assert conference.waiting_list
    assert conference.max_plus_ones == 1
    sessions = conference.sessions.all()
    assert 6 <= sessions.count() <= 8
    assert all(s.room and s.speakers for s in sessions)
    assert any("(" in s.speakers for s in sessions)  # speakers from demo organisations

    # invited: the heads and focal points of every active partner, and the guests
    invitations = conference.invitations.select_related("contact")
    from_directory = invitations.filter(organization__isnull=False)
    assert set(from_directory.values_list("contact_id", flat=True)) == heads_and_focal_points()
    guests = invitations.filter(organization__isnull=True)
    assert guests.count() == len(GUESTS)
    for guest in guests:
        assert guest.contact.needs_review
        assert guest.contact.email.endswith(".example.org")
        assert guest.affiliation_label
    assert not invitations.filter(contact__email__endswith=BENCH_DOMAIN).exists()

    # near capacity, with a waiting list in order and one offer running
    counts = event_counts(conference)
    assert counts["accepted"] + counts["plus_ones"] <= CAPACITY
    assert counts["accepted"] + counts["plus_ones"] >= CAPACITY - 3
    assert counts["places_left"] is not None
    assert counts["places_left"] <= 3
    assert counts["plus_ones"] >= 1
    assert counts["declined"] >= 2
    assert counts["not_answered"] >= 1
    assert counts["waiting"] >= 3
    assert counts["offers"] == 1
    queue = list(waiting_list(conference))
    assert [waiting_position(i) for i in queue] == list(range(1, len(queue) + 1))
    assert [i.waiting_since for i in queue] == sorted(i.waiting_since for i in queue)
    offered = queue[0]  # the freed place went to the first in line
    assert offered.offer_running
    assert offered.offer_expires_at > now
    assert not any(i.offer_running for i in queue[1:])
    assert offered.history.filter(history_change_reason__startswith="Place offered").exists()
    withdrawn = invitations.filter(status=Status.DECLINED, answer_count=2)
    assert withdrawn.count() == 1  # accepted first, then gave the place back
    assert invitations.filter(status=Status.ACCEPTED, plus_ones__isnull=False).exists()

    # the outbox: every invitation, every answer's confirmation, and the offer
    outbox = mail_about(conference)
    assert sorted(outbox.filter(purpose=Purpose.INVITATION).values_list("key", flat=True)) == (
        sorted(f"invitation:{pk}" for pk in invitations.values_list("pk", flat=True))
    )
    assert not invitations.filter(sent_at__isnull=True).exists()
    assert outbox.filter(purpose=Purpose.CONFIRMATION).count() == sum(
        invitations.values_list("answer_count", flat=True)
    )
    offer = outbox.get(key=f"offer:{offered.pk}:1")
    assert offer.purpose == Purpose.OTHER
    assert set(outbox.values_list("status", flat=True)) == {OutgoingMessage.Status.SENT}
    offer_mail = next(
        m for m in mail.outbox if m.to == [offered.contact.email] and m.subject == offer.subject
    )
    assert offered.rsvp_url in offer_mail.body
    second = queue[1]
    confirmation = outbox.get(key=f"confirmation:{second.pk}:1")
    assert "(number 2)" in confirmation.body_text or second.contact.preferred_language != "en"

    # --- last year's conference: held, capacity reached, attendance, no e-mail
    assert past.status == Gathering.Status.HELD
    assert 290 <= (now - past.starts_at).days <= 400  # a year before this year's
    assert past.capacity == PAST_CAPACITY
    assert not mail_about(past).exists()
    past_invitations = past.invitations.all()
    assert not past_invitations.filter(sent_at__isnull=True).exists()
    over = past_invitations.filter(admitted_over_capacity=True)
    assert over.count() == 2
    for invitation in over:
        assert invitation.status == Status.ACCEPTED
        assert invitation.history.filter(
            history_change_reason__startswith="Admitted over capacity: "
        ).exists()
    within = past_invitations.filter(status=Status.ACCEPTED, admitted_over_capacity=False)
    assert within.count() + within.filter(plus_ones__isnull=False).count() == PAST_CAPACITY
    attendance = Counter(past_invitations.values_list("status", "attendance"))
    assert attendance[(Status.ACCEPTED, Invitation.Attendance.ATTENDED)] >= 20
    assert attendance[(Status.ACCEPTED, Invitation.Attendance.ABSENT)] >= 1
    assert not past_invitations.filter(attendance=Invitation.Attendance.UNKNOWN).exists()
    assert past_invitations.filter(status=Status.DECLINED).exists()
    checked_in = past_invitations.filter(checked_in_at__isnull=False)
    assert checked_in.count() >= 10
    assert all(i.checked_in_at < past.starts_at for i in checked_in)
    assert set(checked_in.values_list("attendance", flat=True)) == {"attended"}

    # --- the webinar: online, no capacity, open, a few answers
    webinar = Event.objects.get(kind=Event.Kind.WEBINAR, title=WEBINAR_TITLE)
    assert webinar.status == Gathering.Status.OPEN
    assert webinar.capacity is None
    assert webinar.format == Gathering.Format.ONLINE
    assert webinar.invitations.filter(status=Status.ACCEPTED, mode="online").exists()

    # --- a second run adds nothing: no event, invitation, answer, contact or e-mail
    before = snapshot()
    sent_mail = len(mail.outbox)
    again = seed()
    assert snapshot() == before
    assert len(mail.outbox) == sent_mail
    assert "Demo events already present: nothing added." in again

    # --- with benchmark contacts in the directory, the conference built again is the same
    # (deterministic) and invites none of them
    first = answers(conference)
    seed("--scale", "20")
    assert Contact.objects.filter(email__endswith=BENCH_DOMAIN).count() == 20
    conference.delete()
    seed()
    rebuilt = Event.objects.get(kind=Event.Kind.CONFERENCE, starts_at__gt=now)
    assert not rebuilt.invitations.filter(contact__email__endswith=BENCH_DOMAIN).exists()
    assert answers(rebuilt) == first

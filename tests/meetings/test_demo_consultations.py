"""The demo consultations (meetings/demo_consultations.py), loaded by ``manage.py seed_demo``.

Seeding the whole demo takes most of a minute, so one test checks everything."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from meetings.demo import COORDINATOR_USERNAME
from meetings.demo_consultations import PLAN
from meetings.models import Consultation, FollowUp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Status = FollowUp.Status


def _counts() -> dict[str, int]:
    return {
        "consultations": Consultation.objects.count(),
        "consultation history": Consultation.history.count(),
        "follow-ups": FollowUp.objects.count(),
        "follow-up history": FollowUp.history.count(),
        "mail": OutgoingMessage.objects.count(),
    }


def test_seed_demo_records_consultations_and_follow_ups_once(django_capture_on_commit_callbacks):
    coordinator = UserFactory(username=COORDINATOR_USERNAME, is_staff=True)

    def seed() -> str:
        stdout = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("seed_demo", stdout=stdout, stderr=io.StringIO())
        return stdout.getvalue()

    output = seed()
    assert f"Demo consultations: {len(PLAN)} added" in output
    today = timezone.localdate()
    consultations = Consultation.objects.annotate(n=Count("organizations"))
    assert consultations.count() == len(PLAN)

    bilateral = consultations.filter(kind=Consultation.Kind.BILATERAL)
    multi = consultations.filter(kind=Consultation.Kind.MULTI)
    assert bilateral.exists()
    assert multi.exists()
    assert set(bilateral.values_list("n", flat=True)) == {1}
    assert all(3 <= n <= 6 for n in multi.values_list("n", flat=True))
    assert len(set(consultations.values_list("channel", flat=True))) >= 4
    assert all(c.topics.exists() for c in consultations)
    assert all(c.contacts.exists() for c in consultations)
    assert Consultation.objects.filter(staff=coordinator).count() == len(PLAN)
    dates = sorted(consultations.values_list("held_on", flat=True))
    assert (today - dates[0]).days > 365
    assert dates[-1] <= today
    assert consultations.filter(label__startswith="OSCE survey of commitments ").count() >= 3
    assert 1 <= consultations.filter(confidentiality="restricted").count() <= 2

    followups = FollowUp.objects.filter(source=FollowUp.Source.CONSULTATION)
    assert set(followups.values_list("status", flat=True)) == {
        Status.OPEN,
        Status.DONE,
        Status.CANCELLED,
    }
    open_ones = followups.filter(status=Status.OPEN)
    assert open_ones.filter(due_date__lt=today).exists()
    assert open_ones.filter(
        due_date__gte=today, due_date__lte=today + datetime.timedelta(days=7)
    ).exists()
    assert not followups.filter(status=Status.DONE, done_on__isnull=True).exists()
    assert not followups.filter(status=Status.DONE, done_on__gt=today).exists()
    assert set(followups.values_list("owner_user", flat=True)) == {coordinator.pk}
    assert followups.filter(owner_contact__isnull=False).exists()
    assert followups.first().history.last().history_user == coordinator
    # Reminders are the scheduler's, later: seeding mails nobody about follow-ups.
    assert not OutgoingMessage.objects.filter(purpose=OutgoingMessage.Purpose.FOLLOW_UP).exists()

    before = _counts()
    output = seed()
    assert "Demo consultations already present: nothing added." in output
    assert _counts() == before

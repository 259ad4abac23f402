"""Retention (issue 8 §3): old outbox bodies are purged; inactive contacts are listed as
erasure candidates for a coordinator, never erased by the task itself."""

import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from crm.mail.services import message_create, messages_purge_bodies
from meetings.models import Invitation
from members.models import Affiliation, Contact
from members.selectors import contact_erasure_candidates
from members.tasks import retention_pass, schedule_retention
from tests.factories import AffiliationFactory, ContactFactory, InvitationFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 3, 9, tzinfo=datetime.UTC)


def _ago(days: int) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


def _message(key: str, *, days_ago: int, status=OutgoingMessage.Status.SENT) -> OutgoingMessage:
    with time_machine.travel(_ago(days_ago), tick=False):
        message, _created = message_create(
            key=key,
            purpose=OutgoingMessage.Purpose.OTHER,
            to_email=f"{key}@example.org",
            subject=f"Subject {key}",
            body_text="Dear reader",
            body_html="<p>Dear reader</p>",
            attachments=[{"filename": "a.ics", "mimetype": "text/calendar", "content": "x"}],
        )
        OutgoingMessage.objects.filter(pk=message.pk).update(
            status=status, sent_at=timezone.now() if status == "sent" else None
        )
    return message


def test_bodies_of_old_final_messages_are_purged_once():
    old_sent = _message("old-sent", days_ago=200)
    old_failed = _message("old-failed", days_ago=190, status=OutgoingMessage.Status.FAILED)
    recent = _message("recent", days_ago=100)
    old_queued = _message("old-queued", days_ago=300, status=OutgoingMessage.Status.RETRY)

    with time_machine.travel(NOW, tick=False):
        assert messages_purge_bodies() == 2
        assert messages_purge_bodies() == 0  # idempotent

    for message in (old_sent, old_failed):
        message.refresh_from_db()
        assert (message.body_text, message.body_html, message.attachments) == ("", "", [])
        assert message.subject.startswith("Subject")  # the row and its subject stay
        assert message.to_email
    old_sent.refresh_from_db()
    assert old_sent.status == OutgoingMessage.Status.SENT
    assert old_sent.sent_at == _ago(200)
    for message in (recent, old_queued):
        message.refresh_from_db()
        assert message.body_text == "Dear reader"


def test_the_number_of_days_comes_from_the_settings(settings):
    settings.RETENTION_OUTBOX_BODY_DAYS = 30
    message = _message("forty", days_ago=40)
    with time_machine.travel(NOW, tick=False):
        assert messages_purge_bodies() == 1
    message.refresh_from_db()
    assert message.body_text == ""


def test_defaults():
    assert django_settings.RETENTION_OUTBOX_BODY_DAYS == 180
    assert django_settings.RETENTION_INACTIVE_CONTACT_YEARS == 3


def test_the_retention_task_is_in_the_one_beat_schedule_and_the_embedded_pass():
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "members.tasks.retention_pass"
    assert retention_pass.name == "members.tasks.retention_pass"
    if not django_settings.CELERY_BROKER_URL:
        assert "members.tasks.schedule_retention" in django_settings.OUTBOX_SCHEDULERS


def _contacts():
    """A contact for each case, created four years before NOW."""
    with time_machine.travel(_ago(4 * 365), tick=False):
        inactive = ContactFactory(family_name="Inactive")
        ended = ContactFactory(family_name="Ended")
        AffiliationFactory(
            contact=ended,
            role=Affiliation.Role.EXPERT,
            start_date=datetime.date(2020, 1, 1),
            end_date=datetime.date(2022, 1, 1),
        )
        current = ContactFactory(family_name="Current")
        AffiliationFactory(contact=current, role=Affiliation.Role.EXPERT)
        invited = ContactFactory(family_name="Invited")
        mailed = ContactFactory(family_name="Mailed")
        edited = ContactFactory(family_name="Edited")
    with time_machine.travel(_ago(200), tick=False):
        InvitationFactory(contact=invited, status=Invitation.Status.DECLINED)
        message_create(key="m", purpose="other", contact=mailed, subject="s", body_text="b")
        edited.notes = "Changed"
        edited.save()
    return inactive, ended


def test_inactive_contacts_without_a_current_role_are_candidates():
    _contacts()
    with time_machine.travel(NOW, tick=False):
        names = set(contact_erasure_candidates().values_list("family_name", flat=True))
        assert names == {"Inactive", "Ended"}
        # Five years: nobody yet.
        assert not contact_erasure_candidates(years=5).exists()
        result = retention_pass()
    assert result == {"purged": 0, "candidates": 2}
    # The task lists, it does not erase.
    assert not Contact.objects.filter(erased_at__isnull=False).exists()
    assert schedule_retention() == 0


def test_erased_contacts_are_not_candidates_again():
    inactive, _ended = _contacts()
    Contact.objects.filter(pk=inactive.pk).update(erased_at=_ago(1))
    with time_machine.travel(NOW, tick=False):
        assert list(contact_erasure_candidates().values_list("family_name", flat=True)) == ["Ended"]


def test_the_candidates_filter_on_the_contact_list(coordinator_client):
    _contacts()
    url = reverse("admin:members_contact_changelist")
    with time_machine.travel(NOW, tick=True):
        response = coordinator_client.get(url, {"erasure": "candidates"})
    assert response.status_code == 200
    shown = {c.family_name for c in response.context["cl"].result_list}
    assert shown == {"Inactive", "Ended"}
    assert "Erasure candidates" in response.content.decode()

"""Consultations and follow-ups: the bilateral rule, follow-up states and their reminders."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from meetings import services
from meetings.followup_reminders import schedule_followup_reminders
from meetings.models import Consultation, FollowUp
from members.models import FocusArea
from tests.factories import ContactFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _consultation(coordinator, orgs, kind="multi", **fields):
    return services.consultation_create(
        acting_user=coordinator,
        organizations=orgs,
        kind=kind,
        held_on=datetime.date(2026, 10, 1),
        channel="video",
        title="Survey on commitments: first round",
        **fields,
    )


def test_bilateral_means_exactly_one_partner(coordinator):
    a, b = OrganizationFactory(), OrganizationFactory()
    with pytest.raises(ApplicationError) as exc:
        _consultation(coordinator, [a, b], kind="bilateral")
    assert exc.value.field == "organizations"
    assert "exactly one partner" in exc.value.message
    assert not Consultation.objects.exists()
    with pytest.raises(ApplicationError):
        _consultation(coordinator, [], kind="multi")
    consultation = _consultation(coordinator, [a], kind="bilateral")
    assert list(consultation.organizations.all()) == [a]
    with pytest.raises(ApplicationError):
        services.consultation_update(
            consultation=consultation, acting_user=coordinator, organizations=[a, b]
        )
    services.consultation_update(
        consultation=consultation, acting_user=coordinator, kind="multi", organizations=[a, b]
    )
    assert consultation.organizations.count() == 2


def test_multi_stakeholder_with_people_topics_and_history(coordinator):
    orgs = [OrganizationFactory() for _ in range(3)]
    people = [ContactFactory(), ContactFactory()]
    topics = FocusArea.objects.filter(code__in=["prevention", "labour_exploitation"])
    consultation = _consultation(
        coordinator,
        orgs,
        contacts=people,
        staff=[coordinator],
        topics=topics,
        label="OSCE survey 2026",
        confidentiality="restricted",
    )
    assert consultation.organizations.count() == 3
    assert set(consultation.topics.values_list("code", flat=True)) == {
        "prevention",
        "labour_exploitation",
    }
    assert consultation.created_by == coordinator
    assert consultation.history.first().history_user == coordinator


def test_follow_up_from_a_bilateral_consultation_concerns_its_partner(coordinator):
    org = OrganizationFactory()
    consultation = _consultation(coordinator, [org], kind="bilateral")
    followup = services.followup_create(
        acting_user=coordinator,
        title="Send the questionnaire",
        consultation=consultation,
        owner_user=coordinator,
        due_date=datetime.date(2026, 12, 1),
    )
    assert followup.source == FollowUp.Source.CONSULTATION
    assert followup.organization == org


def test_partner_owned_follow_up_needs_a_staff_member(coordinator):
    with pytest.raises(ApplicationError) as exc:
        services.followup_create(
            acting_user=coordinator, title="Share statistics", owner_contact=ContactFactory()
        )
    assert exc.value.field == "owner_user"


def test_follow_up_states(coordinator):
    followup = services.followup_create(acting_user=coordinator, title="Draft the report")
    services.followup_complete(followup=followup, acting_user=coordinator)
    assert followup.status == "done"
    assert followup.done_on == timezone.localdate()
    with pytest.raises(ApplicationError, match="already"):
        services.followup_cancel(followup=followup, acting_user=coordinator)
    services.followup_reopen(followup=followup, acting_user=coordinator)
    services.followup_cancel(followup=followup, acting_user=coordinator, reason="Not needed")
    assert followup.status == "cancelled"
    assert "Not needed" in followup.notes


def test_reminders_due_in_three_days_and_overdue_each_once(
    coordinator, django_capture_on_commit_callbacks
):
    owner = UserFactory(is_staff=True, email="owner@example.org", first_name="Olga")
    due = datetime.date(2026, 12, 10)
    followup = services.followup_create(
        acting_user=coordinator, title="Send the questionnaire", owner_user=owner, due_date=due
    )
    services.followup_create(acting_user=coordinator, title="Nobody owns this", due_date=due)
    with time_machine.travel(datetime.datetime(2026, 12, 6, 9, tzinfo=datetime.UTC)):
        assert schedule_followup_reminders() == 0  # four days ahead: not yet
    with (
        time_machine.travel(datetime.datetime(2026, 12, 7, 9, tzinfo=datetime.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert schedule_followup_reminders() == 1
        assert schedule_followup_reminders() == 0
    with (
        time_machine.travel(datetime.datetime(2026, 12, 11, 9, tzinfo=datetime.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert schedule_followup_reminders() == 1  # overdue
        assert schedule_followup_reminders() == 0
    assert [m.to for m in mail.outbox] == [["owner@example.org"], ["owner@example.org"]]
    assert mail.outbox[0].subject == "Due soon: Send the questionnaire"
    assert mail.outbox[1].subject == "Overdue: Send the questionnaire"
    assert f"/admin/meetings/followup/{followup.pk}/change/" in mail.outbox[1].body
    # Done ones are not reminded; a moved date earns a new reminder.
    services.followup_complete(followup=followup, acting_user=coordinator)
    with time_machine.travel(datetime.datetime(2026, 12, 20, 9, tzinfo=datetime.UTC)):
        assert schedule_followup_reminders() == 0
    assert OutgoingMessage.objects.filter(purpose="follow_up").count() == 2

"""The domain services emit the webhook events of the catalogue (docs/webhooks.md, "For
developers"): each call records exactly one delivery of the right event for the right object,
in the service's transaction (nothing when it rolls back) — or, on the public RSVP page, once
it has committed."""

import datetime
from contextlib import contextmanager

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.models import ApiClient, WebhookDelivery
from api.webhooks import services as webhooks
from api.webhooks.events import EVENT_TYPES
from api.webhooks.tasks import deliver_webhooks
from crm.exceptions import ApplicationError
from crm.mail import services as mail_services
from events import services as event_services
from meetings import services as meeting_services
from meetings.models import FollowUp, Gathering, Invitation
from members import services as member_services
from members.models import Affiliation, Organization
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    EventFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:9/hooks"


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.CRM_SITE_URL = "https://crm.example.org"


@pytest.fixture(autouse=True)
def enqueued(monkeypatch) -> list[int]:
    """The delivery ids handed to Celery after a commit (no request is made here)."""
    ids: list[int] = []
    monkeypatch.setattr(deliver_webhooks, "delay", lambda batch: ids.extend(batch))
    return ids


def make_client(name: str) -> ApiClient:
    client = ApiClient(name=name, contact_email="owner@partner.example")
    client.set_token(ApiClient.new_token())
    client.save()
    return client


@pytest.fixture(autouse=True)
def subscriptions(db):
    """One subscription per event type, all of one integration."""
    client = make_client("Partner CRM")
    return {
        event: webhooks.webhook_subscription_create(
            client=client, url=URL, event_types=[event], acting_user=None
        )
        for event in EVENT_TYPES
    }


@contextmanager
def recorded():
    """The (event, object id) of the deliveries written inside the block; each must have gone
    to the subscription of its event type only, with a thin payload."""
    before = set(WebhookDelivery.objects.values_list("pk", flat=True))
    got: list[tuple[str, int]] = []
    yield got
    new = (
        WebhookDelivery.objects.exclude(pk__in=before).select_related("subscription").order_by("pk")
    )
    for delivery in new:
        assert delivery.subscription.event_types == [delivery.event_type]
        assert set(delivery.payload) == {"event", "object", "occurred_at"}
        assert delivery.payload["event"] == delivery.event_type
        assert delivery.payload["object"]["id"] == delivery.object_id
        assert delivery.payload["object"]["type"] == delivery.object_type
        got.append((delivery.event_type, delivery.object_id))


@pytest.fixture
def user():
    return UserFactory(is_staff=True)


# --- Contacts and organisations --------------------------------------------------------------


def test_contact_create(user):
    with recorded() as got:
        contact = member_services.contact_create(
            given_name="Ana", family_name="Novak", email="ana@example.org", acting_user=user
        )
    assert got == [("contact.created", contact.pk)]
    delivery = WebhookDelivery.objects.get(object_id=contact.pk)
    assert delivery.payload["object"] == {
        "type": "contact",
        "id": contact.pk,
        "url": f"https://crm.example.org/api/v1/contacts/{contact.pk}/",
    }


def test_contact_update_and_mail_opt_out(user):
    contact = ContactFactory()
    with recorded() as got:
        member_services.contact_update(contact=contact, acting_user=user, notes="Met at AECT 41")
    assert got == [("contact.updated", contact.pk)]
    with recorded() as got:
        member_services.contact_set_mail_opt_out(contact=contact, opted_out=True, acting_user=user)
    assert got == [("contact.updated", contact.pk)]


def test_affiliation_changes_update_the_contact(user):
    contact, organization = ContactFactory(), OrganizationFactory()
    with recorded() as got:
        affiliation = member_services.affiliation_create(
            contact=contact,
            organization=organization,
            role=Affiliation.Role.EXPERT,
            acting_user=user,
        )
    assert got == [("contact.updated", contact.pk)]
    with recorded() as got:
        member_services.affiliation_update(
            affiliation=affiliation, acting_user=user, job_title="Adviser"
        )
    assert got == [("contact.updated", contact.pk)]
    with recorded() as got:
        member_services.affiliation_end(affiliation=affiliation, acting_user=user)
    assert got == [("contact.updated", contact.pk)]


def test_merge_updates_the_target_once(user):
    target, source = ContactFactory(), ContactFactory(email="")
    AffiliationFactory(contact=source)
    AffiliationFactory(contact=source)
    InvitationFactory(contact=source)
    with recorded() as got:
        member_services.contact_merge(source=source, target=target, acting_user=user)
    assert got == [("contact.updated", target.pk)]


def test_organization_create_is_one_event(user):
    with recorded() as got:
        organization = member_services.organization_create(
            name="Safe Harbour",
            kind=Organization.Kind.NGO,
            focus_areas=["prevention"],
            acting_user=user,
        )
    assert got == [("organization.created", organization.pk)]


def test_organization_update_and_focus_areas(user):
    organization = OrganizationFactory()
    with recorded() as got:
        member_services.organization_update(
            organization=organization, acting_user=user, acronym="SH", focus_areas=["prevention"]
        )
    assert got == [("organization.updated", organization.pk)]
    with recorded() as got:
        member_services.organization_set_focus_areas(
            organization=organization, codes=["protection"]
        )
    assert got == [("organization.updated", organization.pk)]


def test_organization_change_status(user):
    organization = OrganizationFactory(status=Organization.Status.ACTIVE)
    with recorded() as got:
        member_services.organization_change_status(
            organization=organization,
            to_status=Organization.Status.SUSPENDED,
            reason="Dues unpaid",
            acting_user=user,
        )
    assert got == [("organization.status_changed", organization.pk)]


# --- Invitations -----------------------------------------------------------------------------


def test_coordinator_answer_is_recorded_in_the_transaction(user):
    invitation = InvitationFactory()
    with recorded() as got:
        meeting_services.invitation_respond(
            invitation=invitation, answer="in_person", acting_user=user, by_coordinator=True
        )
    assert got == [("invitation.answered", invitation.pk)]


def test_invitee_answer_is_recorded_after_the_commit(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    with recorded() as got, django_capture_on_commit_callbacks(execute=True):
        meeting_services.invitation_respond(invitation=invitation, answer="online")
        assert not WebhookDelivery.objects.exists()  # the RSVP page does not wait for webhooks
    assert got == [("invitation.answered", invitation.pk)]


def test_answer_on_the_rsvp_page(client, enqueued, django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    url = reverse("rsvp:page", args=[invitation.token])
    assert url == f"/rsvp/{invitation.token}/"
    with recorded() as got, django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "answer", "answer": "in_person"})
    assert response.status_code == 302
    assert got == [("invitation.answered", invitation.pk)]
    assert enqueued == [WebhookDelivery.objects.get().pk]


def test_decline_on_the_rsvp_page_promotes_the_first_waiting(
    client, django_capture_on_commit_callbacks
):
    event = EventFactory(capacity=1)
    leaving = InvitationFactory(gathering=event, status="accepted", mode="in_person")
    waiting = InvitationFactory(
        gathering=event, status="waiting", mode="in_person", waiting_since=timezone.now()
    )
    with recorded() as got, django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("rsvp:page", args=[leaving.token]), {"action": "answer", "answer": "decline"}
        )
    assert sorted(got) == [
        ("event.waitlist_promoted", waiting.pk),
        ("invitation.answered", leaving.pk),
    ]


def test_waitlist_fill_promotes_each_offered(django_capture_on_commit_callbacks):
    event = EventFactory(capacity=2)
    first, second = (
        InvitationFactory(
            gathering=event, status="waiting", mode="in_person", waiting_since=timezone.now()
        )
        for _ in range(2)
    )
    InvitationFactory(gathering=event, status="accepted", mode="in_person")
    with (
        recorded() as got,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),  # as the board's "offer" button: under the gathering's lock
    ):
        locked = Gathering.objects.select_for_update().get(pk=event.pk).specific
        offered = meeting_services.waitlist_fill(locked)
    assert offered == [first]
    assert got == [("event.waitlist_promoted", first.pk)]
    assert Invitation.objects.get(pk=second.pk).offer_expires_at is None


def test_admit_over_capacity(user):
    event = EventFactory(capacity=1)
    InvitationFactory(gathering=event, status="accepted", mode="in_person")
    waiting = InvitationFactory(
        gathering=event, status="waiting", mode="in_person", waiting_since=timezone.now()
    )
    with recorded() as got:
        meeting_services.invitation_admit_over_capacity(
            invitation=waiting, acting_user=user, reason="Keynote speaker"
        )
    assert got == [("event.waitlist_promoted", waiting.pk)]


def test_attendance_for_each_changed_invitation(user):
    meeting = MeetingFactory()
    came = InvitationFactory(gathering=meeting, status="accepted", mode="in_person")
    known = InvitationFactory(gathering=meeting, attendance="absent")
    with time_machine.travel(meeting.ends_at), recorded() as got:
        changed = meeting_services.invitations_record_attendance(
            gathering=meeting,
            attendance={came.pk: "attended", known.pk: "absent"},
            acting_user=user,
        )
    assert changed == 1
    assert got == [("invitation.attendance_recorded", came.pk)]


def test_check_in(user):
    invitation = InvitationFactory(gathering=EventFactory(), status="accepted", mode="in_person")
    with recorded() as got:
        event_services.invitation_check_in(invitation=invitation, acting_user=user)
    assert got == [("invitation.attendance_recorded", invitation.pk)]
    with recorded() as got:  # checked in already: nothing changed
        event_services.invitation_check_in(invitation=invitation, acting_user=user)
    assert got == []
    with recorded() as got:
        event_services.invitation_check_in(invitation=invitation, acting_user=user, undo=True)
    assert got == [("invitation.attendance_recorded", invitation.pk)]


# --- Consultations and follow-ups ------------------------------------------------------------


def test_consultation_create(user):
    with recorded() as got:
        consultation = meeting_services.consultation_create(
            acting_user=user,
            organizations=[OrganizationFactory()],
            kind="multi",
            held_on=datetime.date(2026, 10, 1),
            channel="video",
            title="Survey on commitments",
        )
    assert got == [("consultation.created", consultation.pk)]


def test_follow_up_lifecycle(user):
    with recorded() as got:
        followup = meeting_services.followup_create(acting_user=user, title="Draft the report")
    assert got == [("follow_up.created", followup.pk)]
    with recorded() as got:
        meeting_services.followup_complete(followup=followup, acting_user=user)
    assert got == [("follow_up.done", followup.pk)]
    with recorded() as got:
        meeting_services.followup_reopen(followup=followup, acting_user=user)
    assert got == [("follow_up.updated", followup.pk)]
    with recorded() as got:
        meeting_services.followup_cancel(followup=followup, acting_user=user, reason="Moot")
    assert got == [("follow_up.updated", followup.pk)]


def test_address_hold_opens_a_follow_up():
    AffiliationFactory(contact__email="gone@example.org")
    with recorded() as got:
        _event, hold = mail_services.delivery_event_record(
            esp="mailgun",
            event_id="evt-1",
            event_type="bounced",
            recipient="gone@example.org",
            description="550 5.1.1 No such user",
            mta_response="550 5.1.1 No such user",
        )
    assert hold is not None
    followup = FollowUp.objects.get()
    assert got == [("follow_up.created", followup.pk)]


# --- Nothing for rolled-back changes, nothing for other subscribers ----------------------


def test_rolled_back_service_call_emits_nothing(user, django_capture_on_commit_callbacks):
    contact = ContactFactory()
    invitation = InvitationFactory()

    def failing_caller():
        with transaction.atomic():
            member_services.contact_update(contact=contact, acting_user=user, notes="x")
            meeting_services.invitation_respond(invitation=invitation, answer="decline")
            raise RuntimeError("the caller's change failed")

    with (
        recorded() as got,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        failing_caller()
    assert callbacks == []
    assert got == []
    assert not WebhookDelivery.objects.exists()


def test_failing_service_emits_nothing(user):
    with recorded() as got, pytest.raises(ApplicationError):
        member_services.organization_create(
            name="Half Made", kind=Organization.Kind.NGO, status="bogus", acting_user=user
        )
    assert got == []
    assert not Organization.objects.filter(name="Half Made").exists()


def test_subscriber_to_other_events_gets_nothing(user, subscriptions):
    other = webhooks.webhook_subscription_create(
        client=make_client("Website"),
        url=URL,
        event_types=["organization.created", "follow_up.done"],
        acting_user=None,
    )
    contact = member_services.contact_create(
        given_name="Ana", family_name="Novak", acting_user=user
    )
    member_services.contact_update(contact=contact, acting_user=user, notes="Met at AECT 41")
    assert not WebhookDelivery.objects.filter(subscription=other).exists()
    assert list(
        WebhookDelivery.objects.order_by("pk").values_list("subscription", "event_type")
    ) == [
        (subscriptions["contact.created"].pk, "contact.created"),
        (subscriptions["contact.updated"].pk, "contact.updated"),
    ]


def test_emit_many_records_an_emit_for_each_object_in_constant_queries():
    contacts = [ContactFactory() for _ in range(12)]
    with CaptureQueriesContext(connection) as two:
        webhooks.webhook_emit_many("contact.updated", contacts[:2])
    with recorded() as got, CaptureQueriesContext(connection) as ten:
        webhooks.webhook_emit_many("contact.updated", contacts[2:])

    assert len(ten.captured_queries) == len(two.captured_queries)
    assert got == [("contact.updated", contact.pk) for contact in contacts[2:]]
    delivery = WebhookDelivery.objects.get(object_id=contacts[2].pk)
    assert delivery.payload["object"] == {
        "type": "contact",
        "id": contacts[2].pk,
        "url": f"https://crm.example.org/api/v1/contacts/{contacts[2].pk}/",
    }


def test_queries_do_not_grow_with_subscriptions(user):
    contact = ContactFactory()
    with CaptureQueriesContext(connection) as few:
        member_services.contact_update(contact=contact, acting_user=user, notes="a")
    for n in range(5):
        webhooks.webhook_subscription_create(
            client=make_client(f"Extra {n}"),
            url=URL,
            event_types=["contact.updated"],
            acting_user=None,
        )
    with CaptureQueriesContext(connection) as many:
        member_services.contact_update(contact=contact, acting_user=user, notes="b")
    assert len(many.captured_queries) == len(few.captured_queries)
    assert WebhookDelivery.objects.filter(event_type="contact.updated").count() == 7

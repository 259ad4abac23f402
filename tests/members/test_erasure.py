"""Erasure on request (issue 8 §3): the acceptance test seeds one person across every feature,
erases them, then searches every text column of every table for their names and addresses."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from api.models import IdempotencyRecord
from api.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.services import api_client_issue_token
from crm.audit import access_log_record
from crm.exceptions import ApplicationError
from crm.mail.models import AddressHold, OutgoingMessage
from crm.mail.services import delivery_event_record, message_create
from crm.models import AccessLogEntry
from meetings.models import (
    Consultation,
    ConsultationAttachment,
    FollowUp,
    GatheringDocument,
    Invitation,
    PlusOne,
)
from meetings.reports.selectors import participation_by_organization
from meetings.services.consultations import consultation_create, followup_create
from meetings.services.invitations import invitation_respond, invitations_create
from members import services
from members.erasure import contact_erase
from members.models import Affiliation, Contact, ContactMerge
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

GIVEN = "Zebulon"
FAMILY = "Quixwellby"
FULL = f"{GIVEN} {FAMILY}"
EMAIL = "zeb.quixwellby@erasure-example.org"
OLD_EMAIL = "zebulon.q@old-erasure-example.org"
DUPLICATE_EMAIL = "z.quixwellby@dup-erasure-example.org"
PHONE = "+436601234567"
GUEST = "Ophelia Grunwaldtova"
GUEST_EMAIL = "ophelia.g@guest-erasure-example.org"
NEEDLES = (GIVEN, FAMILY, FULL, EMAIL, OLD_EMAIL, DUPLICATE_EMAIL, PHONE, GUEST, GUEST_EMAIL)

TEXT_TYPES = {"CharField", "TextField", "JSONField", "EmailField", "SlugField", "URLField"}


def _text_columns():
    """(table, column) of every text-like column of every table, from the database itself."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                try:
                    kind = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:
                    continue
                if kind in TEXT_TYPES:
                    yield table, column.name


def _hits(needles=NEEDLES) -> list[str]:
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            for needle in needles:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} "  # noqa: S608 — names from introspection
                    f"WHERE LOWER(CAST({quote(column)} AS TEXT)) LIKE %s",
                    [f"%{needle.lower()}%"],
                )
                if cursor.fetchone()[0]:
                    found.append(f"{table}.{column} contains {needle!r}")
    return found


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _seed(media):
    """One person across every feature; returns (contact, staff user, organisation)."""
    staff = UserFactory(is_staff=True)
    org = OrganizationFactory(name="Erasure Test NGO")
    other_org = OrganizationFactory(name="Erasure Second Org")
    contact = services.contact_create(
        acting_user=staff,
        given_name=GIVEN,
        family_name=FAMILY,
        email=OLD_EMAIL,
        phone=PHONE,
        notes=f"Met {GIVEN} in Vienna; prefers calls.",
    )
    # History from several edits, one of them changing the address.
    services.contact_update(contact=contact, acting_user=staff, email=EMAIL)
    services.contact_update(contact=contact, acting_user=staff, salutation="Dr")
    services.contact_update(
        contact=contact, acting_user=staff, notes=f"{FULL} asked for the French agenda."
    )
    duplicate = ContactFactory(given_name="Z.", family_name=FAMILY, email=DUPLICATE_EMAIL)
    services.contact_merge(source=duplicate, target=contact, acting_user=staff)
    contact.refresh_from_db()
    AffiliationFactory(
        contact=contact,
        organization=org,
        role=Affiliation.Role.FOCAL_POINT,
        job_title=f"Adviser to {FAMILY} unit",
    )
    AffiliationFactory(contact=contact, organization=other_org, role=Affiliation.Role.EXPERT)

    # A meeting and an event, with answers and a plus-one.
    meeting = MeetingFactory()
    event = EventFactory(max_plus_ones=1, capacity=10)
    (meeting_invitation,) = invitations_create(
        gathering=meeting, invitees=[(contact, org)], acting_user=staff
    )
    (event_invitation,) = invitations_create(
        gathering=event, invitees=[(contact, org)], acting_user=staff
    )
    invitation_respond(
        invitation=meeting_invitation,
        answer="in_person",
        dietary=f"Vegetarian ({GIVEN})",
        accessibility="Step-free access",
        note=f"Regards, {FULL}",
    )
    invitation_respond(
        invitation=event_invitation,
        answer="in_person",
        other_needs="Quiet room",
        plus_ones=[{"name": GUEST, "email": GUEST_EMAIL}],
    )
    Invitation.objects.filter(pk=meeting_invitation.pk).update(
        attendance=Invitation.Attendance.ATTENDED
    )
    GatheringDocument.objects.create(
        gathering=meeting,
        title=f"Slides by {FAMILY}",
        file=ContentFile(b"slides", name=f"slides_{FAMILY}.pdf"),
    )

    # Consultations and follow-ups naming them.
    consultation = consultation_create(
        acting_user=staff,
        organizations=[org],
        contacts=[contact],
        kind=Consultation.Kind.BILATERAL,
        held_on=datetime.date(2026, 5, 4),
        channel=Consultation.Channel.CALL,
        title="Survey call",
        summary=f"{FAMILY} explained the national referral mechanism.",
    )
    ConsultationAttachment.objects.create(
        consultation=consultation,
        title=f"Notes from {FULL}",
        file=ContentFile(b"notes", name=f"notes_{GIVEN}_{FAMILY}.txt"),
    )
    followup_create(
        acting_user=staff,
        title=f"Send {GIVEN} the minutes",
        owner_user=staff,
        owner_contact=contact,
    )
    followup_create(
        acting_user=staff,
        title="Share the report",
        notes=f"Ask {FAMILY} for the figures",
        owner_user=staff,
        consultation=consultation,
    )
    followup_create(
        acting_user=staff,
        title=f"Tell the office that {FULL} moved (write to {EMAIL})",
        owner_user=staff,
        organization=other_org,
    )

    # Mail, delivery events and a hold (the hold opens a follow-up naming them too).
    message, _created = message_create(
        key="erasure-test:1",
        purpose=OutgoingMessage.Purpose.OTHER,
        contact=contact,
        subject=f"Hello {GIVEN}",
        body_text=f"Dear {FULL},",
        body_html=f"<p>Dear {FULL},</p>",
    )
    OutgoingMessage.objects.filter(pk=message.pk).update(status=OutgoingMessage.Status.SENT)
    message_create(
        key="erasure-test:coordinator",
        purpose=OutgoingMessage.Purpose.DIGEST,
        to_email="office@example.org",
        subject="Digest",
        body_text=f"{FAMILY}, {GIVEN} answered; {EMAIL}",
    )
    delivery_event_record(
        esp="mailgun",
        event_type="delivered",
        recipient=EMAIL,
        message_id=message.message_id,
        event_id="ev-1",
        raw={"recipient": EMAIL, "envelope": {"to": FULL}},
    )
    delivery_event_record(
        esp="mailgun",
        event_type="bounced",
        recipient=EMAIL,
        event_id="ev-2",
        description=f"550 {EMAIL} unknown",
        mta_response=f"No mailbox for {EMAIL}",
        raw={"recipient": EMAIL},
    )
    assert AddressHold.objects.filter(email=EMAIL).exists()

    # Webhook logs whose bodies mention them, and an idempotency record.
    client, _token = api_client_issue_token(name="erasure-client", scope="write", acting_user=None)
    subscription = WebhookSubscription.objects.create(
        client=client, url="https://hooks.example.org/erasure", event_types=[]
    )
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event_type="contact.updated",
        object_type="contact",
        object_id=contact.pk,
        payload={"event": "contact.updated", "object": {"type": "contact", "id": contact.pk}},
        response_excerpt=f'{{"ok": true, "name": "{GIVEN}"}}',
        last_error=f"Receiver said: unknown {EMAIL}",
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=timezone.now(),
        status_code=500,
        response_excerpt=f"Error for {FAMILY}",
        outcome="failed",
    )
    IdempotencyRecord.objects.create(
        key="erasure-key",
        owner=f"client:{client.pk}",
        method="POST",
        path="/api/v1/contacts/",
        request_hash="0" * 64,
        response_status=201,
        response_body={
            "id": contact.pk,
            "given_name": GIVEN,
            "family_name": FAMILY,
            "email": EMAIL,
        },
    )
    LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(Contact),
        object_id=str(contact.pk),
        object_repr=FULL,
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["Notes"]}}}}] {FULL}',
    )
    access_log_record(
        action=AccessLogEntry.Action.SUBJECT_ACCESS,
        description="Subject-access export (JSON)",
        acting_user=staff,
        obj=contact,
    )
    return contact, staff, org, [meeting, event]


def _counts(organizations, gatherings):
    per_org = dict(
        Affiliation.objects.filter(organization__in=organizations)
        .values_list("organization")
        .annotate(n=Count("id"))
    )
    attendees = dict(
        Invitation.objects.filter(attendance=Invitation.Attendance.ATTENDED)
        .values_list("organization")
        .annotate(n=Count("id"))
    )
    return {
        "affiliations": per_org,
        "attendees": attendees,
        "invitations": Invitation.objects.count(),
        "accepted": Invitation.objects.filter(status=Invitation.Status.ACCEPTED).count(),
        "plus_ones": PlusOne.objects.count(),
        "consultation contacts": Consultation.contacts.through.objects.count(),
        # The dashboard's figures: per organisation invited, answered, accepted, attended.
        "participation": participation_by_organization([gatherings[0]]),
    }


def test_after_erasure_no_text_column_of_any_table_names_them(media):
    contact, staff, _org, gatherings = _seed(media)
    organizations = list(contact.affiliations.values_list("organization", flat=True))
    assert _hits(), "the seed should mention the person"
    before = _counts(organizations, gatherings)

    erased = contact_erase(contact=contact, acting_user=staff, reason="Request by e-mail")

    assert _hits() == []
    assert _counts(organizations, gatherings) == before
    assert erased.is_erased
    assert erased.full_name == f"Erased contact #{contact.pk}"
    assert Contact.objects.filter(pk=contact.pk).exists()
    # One history row of the erasure, with no personal data and a plain reason.
    last = erased.history.order_by("-history_date").first()
    assert last.history_user == staff
    assert last.history_change_reason == "Personal data erased on request"
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.ERASURE)
    assert entry.object_id == str(contact.pk)
    assert entry.user == staff
    # Renamed files still open.
    attachment = ConsultationAttachment.objects.get()
    assert FAMILY not in attachment.file.name
    assert attachment.file.open("rb").read() == b"notes"
    assert not FollowUp.objects.filter(title__icontains=GIVEN).exists()
    assert ContactMerge.objects.get().target_id == contact.pk


def test_an_erased_contact_is_not_mailed_merged_or_erased_twice():
    staff = UserFactory(is_staff=True)
    contact = ContactFactory()
    other = ContactFactory()
    contact = contact_erase(contact=contact, acting_user=staff, reason="Request")
    with pytest.raises(ApplicationError):
        message_create(
            key="x",
            purpose="other",
            contact=contact,
            to_email="a@example.org",
            subject="s",
            body_text="b",
        )
    with pytest.raises(ApplicationError):
        services.contact_merge(source=other, target=contact, acting_user=staff)
    with pytest.raises(ApplicationError):
        services.contact_merge(source=contact, target=other, acting_user=staff)
    with pytest.raises(ApplicationError):
        contact_erase(contact=contact, acting_user=staff, reason="Again")
    with pytest.raises(ApplicationError):
        services.contact_update(contact=contact, acting_user=staff, given_name="Back")


def test_their_personal_links_stop_working(client):
    invitation = InvitationFactory()
    old_path = invitation.rsvp_path
    assert client.get(old_path).status_code == 200
    contact_erase(contact=invitation.contact, acting_user=None, reason="Asked")
    assert client.get(old_path).status_code == 404


def test_queued_mail_to_them_is_suppressed():
    contact = ContactFactory()
    message, _created = message_create(
        key="queued", purpose="other", contact=contact, subject="s", body_text="b"
    )
    contact_erase(contact=contact, acting_user=None, reason="Request")
    message.refresh_from_db()
    assert message.status == OutgoingMessage.Status.SUPPRESSED
    assert message.to_email == ""


def test_erasure_needs_a_reason():
    with pytest.raises(ApplicationError):
        contact_erase(contact=ContactFactory(), acting_user=None, reason=" ")


def test_other_people_keep_their_names_and_addresses():
    """Only the person goes: a namesake's first name, a longer name or address containing
    theirs, stay."""
    staff = UserFactory(is_staff=True)
    contact = ContactFactory(given_name="Anna", family_name="Berg", email="anna@example.org")
    namesake = ContactFactory(given_name="Anna", family_name="Otherperson")
    longer = ContactFactory(
        given_name="Joanna", family_name="Bergman", email="joanna@example.org.uk"
    )
    followup_create(
        acting_user=staff,
        title="Write to Joanna Bergman (joanna@example.org.uk) and Anna Berg (anna@example.org).",
        owner_user=staff,
    )
    contact_erase(contact=contact, acting_user=staff, reason="Request")
    namesake.refresh_from_db()
    longer.refresh_from_db()
    assert namesake.full_name == "Anna Otherperson"
    assert (longer.full_name, longer.email) == ("Joanna Bergman", "joanna@example.org.uk")
    assert FollowUp.objects.get().title == (
        "Write to Joanna Bergman (joanna@example.org.uk) and [erased] ([erased e-mail])."
    )


# --- The back office ------------------------------------------------------------------------


def _post_erase(client, contact, **extra):
    return client.post(
        reverse("admin:members_contact_changelist"),
        {"action": "erase_personal_data", ACTION_CHECKBOX_NAME: [str(contact.pk)], **extra},
    )


def test_the_confirmation_page_says_what_goes_and_that_it_is_final(coordinator_client):
    contact = ContactFactory(given_name="Hilde", family_name="Confirmsen")
    AffiliationFactory(contact=contact)
    response = _post_erase(coordinator_client, contact)
    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be undone" in page
    assert "roles (kept, job titles cleared): 1" in page
    assert 'name="confirm"' in page
    contact.refresh_from_db()
    assert not contact.is_erased


@pytest.mark.parametrize("word", ["erase", "yes", "0"])
def test_a_wrong_confirmation_erases_nothing(coordinator_client, word):
    contact = ContactFactory()
    response = _post_erase(coordinator_client, contact, apply="1", confirm=word, reason="Asked")
    assert response.status_code == 200
    assert response.context["form"].errors["confirm"]
    contact.refresh_from_db()
    assert not contact.is_erased


@pytest.mark.parametrize("confirmation", ["ERASE", "id"])
def test_erasing_from_the_back_office(coordinator_client, coordinator, confirmation):
    contact = ContactFactory(given_name="Hilde", family_name="Confirmsen")
    word = str(contact.pk) if confirmation == "id" else "ERASE"
    response = _post_erase(coordinator_client, contact, apply="1", confirm=word, reason="Asked")
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.is_erased
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.ERASURE)
    assert entry.user == coordinator
    # Marked in the list, and read-only.
    listing = coordinator_client.get(reverse("admin:members_contact_changelist"))
    assert f"contact #{contact.pk}" in listing.content.decode()
    change = coordinator_client.get(reverse("admin:members_contact_change", args=[contact.pk]))
    assert 'name="_save"' not in change.content.decode()


def test_one_contact_at_a_time(coordinator_client):
    first, second = ContactFactory(), ContactFactory()
    response = coordinator_client.post(
        reverse("admin:members_contact_changelist"),
        {
            "action": "erase_personal_data",
            ACTION_CHECKBOX_NAME: [str(first.pk), str(second.pk)],
            "apply": "1",
            "confirm": "ERASE",
            "reason": "Asked",
        },
    )
    assert response.status_code == 302
    assert not Contact.objects.filter(erased_at__isnull=False).exists()


def test_the_erasure_is_announced_to_webhook_subscribers():
    client, _token = api_client_issue_token(name="hooks", scope="read", acting_user=None)
    WebhookSubscription.objects.create(
        client=client, url="https://hooks.example.org/x", event_types=["contact.erased"]
    )
    contact = ContactFactory()
    contact_erase(contact=contact, acting_user=None, reason="Asked")
    delivery = WebhookDelivery.objects.get(event_type="contact.erased")
    assert delivery.object_id == contact.pk

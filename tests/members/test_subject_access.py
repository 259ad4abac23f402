"""The subject-access export (issue 8 §3): what it holds, its structure, its bounded number of
queries, the readable page in English and Russian, and the access log."""

import datetime
import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from crm.models import AccessLogEntry
from meetings import services as meeting_services
from meetings.models import Consultation, FocalPointSuccession, Invitation, PlusOne
from members import services
from members.models import Contact, ContactMerge
from members.subject_access import (
    SCHEMA_VERSION,
    SECTIONS,
    Section,
    register,
    subject_access_export,
    subject_access_json,
)
from members.subject_access.page import page_language, subject_access_html
from members.subject_access.services import subject_access_produce
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

SECTION_NAMES = [
    "contact",
    "affiliations",
    "consent",
    "invitations",
    "consultations",
    "follow_ups",
    "messages",
    "delivery_events",
    "address_holds",
    "merges",
    "focal_point_successions",
    "history",
]


def _message(contact: Contact, n: int, **fields) -> OutgoingMessage:
    key = f"sar-{contact.pk}-{n}"
    return OutgoingMessage.objects.create(
        key=key,
        purpose=OutgoingMessage.Purpose.INVITATION,
        contact=contact,
        to_email=contact.email,
        subject=f"Invitation number {n}",
        body_text=f"Dear {contact.given_name}, body {n}",
        message_id=OutgoingMessage.message_id_for(key),
        status=OutgoingMessage.Status.SENT,
        sent_at=timezone.now(),
        **fields,
    )


def seed(contact: Contact, n: int, user) -> dict:
    """``n`` rows of every kind about ``contact``, and some about somebody else."""
    org = OrganizationFactory()
    for _i in range(n):
        AffiliationFactory(contact=contact, organization=OrganizationFactory())
    AffiliationFactory(contact=contact, organization=org)
    invitations = []
    for i in range(n):
        invitation = InvitationFactory(
            gathering=MeetingFactory(), contact=contact, organization=org
        )
        invitation.status = Invitation.Status.ACCEPTED
        invitation.mode = Invitation.Mode.ONLINE
        invitation.answered_at = timezone.now()
        invitation.dietary = f"vegetarian {i}"
        invitation.save()
        invitations.append(invitation)
    event_invitation = InvitationFactory(
        gathering=EventFactory(), contact=contact, organization=org
    )
    event_invitation.checked_in_at = timezone.now()
    event_invitation.attendance = Invitation.Attendance.ATTENDED
    event_invitation.save()
    for i in range(n):
        PlusOne.objects.create(invitation=event_invitation, name=f"Guest {i}")
    consultations = [
        meeting_services.consultation_create(
            acting_user=user,
            organizations=[org],
            contacts=[contact],
            kind="bilateral",
            channel="call",
            title=f"Talk {i}",
            held_on=timezone.localdate(),
            summary=f"Summary {i}",
        )
        for i in range(n)
    ]
    restricted = meeting_services.consultation_create(
        acting_user=user,
        organizations=[org],
        contacts=[contact],
        kind="bilateral",
        channel="call",
        title="Closed hearing",
        held_on=timezone.localdate(),
        confidentiality=Consultation.Confidentiality.RESTRICTED,
    )
    meeting_services.followup_create(
        acting_user=user, title="Secret action", consultation=restricted
    )
    for i in range(n):
        meeting_services.followup_create(
            acting_user=user, title=f"Send the report {i}", owner_contact=contact, owner_user=user
        )
    meeting_services.followup_create(
        acting_user=user, title="Agreed in the talk", consultation=consultations[0]
    )
    for i in range(n):
        message = _message(contact, i)
        DeliveryEvent.objects.create(
            esp="test",
            event_type=DeliveryEvent.Type.DELIVERED,
            recipient=contact.email,
            occurred_at=timezone.now(),
            message=message,
        )
    AddressHold.objects.create(
        email=contact.email, reason=AddressHold.Reason.BOUNCES, held_since=timezone.now()
    )
    ContactMerge.objects.create(
        target=contact, source_id_value=900_000 + contact.pk, source_name="Old duplicate"
    )
    FocalPointSuccession.objects.create(
        organization=org,
        departing=contact,
        successor=ContactFactory(),
        end_date=timezone.localdate(),
    )
    # Somebody else's rows, which must not appear.
    other = ContactFactory(given_name="Zebedee", family_name="Elsewhere")
    InvitationFactory(gathering=invitations[0].gathering, contact=other, organization=org)
    _message(other, 99)
    meeting_services.followup_create(acting_user=user, title="Someone else's task", owner_user=user)
    return {"org": org, "invitations": invitations, "event_invitation": event_invitation}


@pytest.fixture
def user():
    return UserFactory(username="sar-coordinator", is_staff=True)


@pytest.fixture
def person(user):
    contact = services.contact_create(
        acting_user=user,
        given_name="Anna",
        family_name="Petrova",
        email="anna.petrova@example.org",
        preferred_language="ru",
    )
    services.contact_update(contact=contact, acting_user=user, notes="Prefers phone calls")
    contact.refresh_from_db()
    return contact


def test_the_export_holds_the_contact_across_every_feature(person, user):
    seeded = seed(person, 2, user)
    export = subject_access_export(person)

    assert export["schema_version"] == SCHEMA_VERSION
    assert export["subject"] == {"type": "contact", "id": person.pk}
    assert list(export["sections"]) == SECTION_NAMES
    sections = export["sections"]
    for name, data in sections.items():
        assert data["count"] == len(data["records"]), name

    assert sections["contact"]["records"][0]["email"] == "anna.petrova@example.org"
    assert sections["contact"]["records"][0]["notes"] == "Prefers phone calls"
    assert sections["affiliations"]["count"] == 3
    assert seeded["org"].name in {a["organization"] for a in sections["affiliations"]["records"]}

    invitations = {i["id"]: i for i in sections["invitations"]["records"]}
    assert set(invitations) == {i.pk for i in seeded["invitations"]} | {
        seeded["event_invitation"].pk
    }
    event = invitations[seeded["event_invitation"].pk]
    assert event["gathering_kind"] == "event"
    assert event["attendance"] == "attended"
    assert event["checked_in_at"] is not None
    assert [g["name"] for g in event["plus_ones"]] == ["Guest 0", "Guest 1"]
    meeting = invitations[seeded["invitations"][0].pk]
    assert meeting["gathering_kind"] == "meeting"
    assert (meeting["status"], meeting["mode"]) == ("accepted", "online")
    assert "token" not in meeting

    titles = {c["title"] for c in sections["consultations"]["records"]}
    assert titles == {"Talk 0", "Talk 1", "Closed hearing"}
    followups = {f["title"]: f for f in sections["follow_ups"]["records"]}
    assert set(followups) == {
        "Send the report 0",
        "Send the report 1",
        "Agreed in the talk",
        "Secret action",
    }
    assert followups["Send the report 0"]["assigned_to_them"] is True
    assert followups["Agreed in the talk"]["assigned_to_them"] is False

    messages = sections["messages"]["records"]
    assert {m["subject"] for m in messages} == {"Invitation number 0", "Invitation number 1"}
    assert all(m["body_text"].startswith("Dear Anna") for m in messages)
    assert sections["delivery_events"]["count"] == 2
    assert sections["address_holds"]["count"] == 1
    assert sections["merges"]["records"][0]["source_name"] == "Old duplicate"
    assert sections["focal_point_successions"]["records"][0]["their_part"] == "departing"

    history = sections["history"]["records"]
    models_in_history = {h["model"] for h in history}
    assert models_in_history == {
        "members.contact",
        "members.affiliation",
        "meetings.invitation",
        "meetings.plusone",
        "meetings.consultation",
        "meetings.followup",
    }
    contact_versions = [h for h in history if h["model"] == "members.contact"]
    assert [v["history_type"] for v in contact_versions] == ["created", "changed"]
    assert contact_versions[1]["changed_fields"] == ["notes"]
    assert contact_versions[1]["history_user"] == "sar-coordinator"
    assert all("token" not in h["values"] for h in history)

    # Nobody else's data.
    dumped = subject_access_json(export)
    assert "Zebedee" not in dumped
    assert "Someone else" not in dumped
    assert "Invitation number 99" not in dumped


def test_restricted_consultations_are_left_out_when_asked(person, user):
    seed(person, 1, user)
    export = subject_access_export(person, include_restricted=False)
    assert export["restricted_included"] is False
    dumped = subject_access_json(export)
    assert "Closed hearing" not in dumped
    assert "Secret action" not in dumped
    assert "Talk 0" in dumped


def test_a_contact_with_nothing_else_has_empty_sections(db):
    contact = ContactFactory(email="")
    export = subject_access_export(contact)
    counts = {name: data["count"] for name, data in export["sections"].items()}
    assert counts.pop("contact") == 1
    assert counts.pop("history") == 1  # the version created with the row
    assert set(counts.values()) == {0}


def test_the_json_file_has_iso_dates_and_a_stable_shape(person, user):
    seed(person, 1, user)
    data = json.loads(subject_access_json(subject_access_export(person)))
    assert set(data) == {
        "schema_version",
        "generated_at",
        "subject",
        "restricted_included",
        "sections",
    }
    datetime.datetime.fromisoformat(data["generated_at"])
    record = data["sections"]["contact"]["records"][0]
    datetime.datetime.fromisoformat(record["created_at"])
    consultation = data["sections"]["consultations"]["records"][0]
    assert consultation["held_on"] == timezone.localdate().isoformat()
    assert data["sections"]["invitations"]["title"] == "Invitations, answers and attendance"


def test_the_number_of_queries_does_not_grow_with_the_rows(
    person, user, django_assert_max_num_queries
):
    """Pinned at two sizes: a contact with a few rows of each kind and one with many run the
    same number of queries, one or two per section."""
    busy = ContactFactory(email="busy@example.org")
    seed(person, 1, user)
    seed(busy, 8, user)
    counts = []
    for contact, n in ((person, 1), (busy, 8)):
        with CaptureQueriesContext(connection) as queries:
            export = subject_access_export(contact)
        counts.append(len(queries))
        assert export["sections"]["invitations"]["count"] == n + 1
        assert export["sections"]["messages"]["count"] == n
        assert export["sections"]["history"]["count"] > 4 * n
    assert counts[0] == counts[1]
    with django_assert_max_num_queries(18):
        subject_access_export(busy)


def test_the_page_is_in_english_and_russian(person, user):
    seed(person, 1, user)
    export = subject_access_export(person)
    english = subject_access_html(export, person, "en")
    assert '<html lang="en">' in english
    assert "Data held about Anna Petrova" in english
    assert "Invitations, answers and attendance" in english
    assert "vegetarian 0" in english
    with translation.override("ru"):
        # The labels come from the models' verbose names, translated already; the page's
        # own new strings are translated by the integrator (locale/ is not edited here).
        russian_field = str(Contact._meta.get_field("given_name").verbose_name)
        russian_yes = translation.gettext("Yes")
    assert russian_field == "имя"
    russian = subject_access_html(export, person, "ru")
    assert '<html lang="ru">' in russian
    assert f'<th scope="row">{russian_field}</th>' in russian
    assert russian_yes in russian  # a boolean: the follow-up assigned to them
    assert '<th scope="row">given name</th>' not in russian
    assert "Anna" in russian


def test_empty_sections_say_nothing_is_held(db):
    contact = ContactFactory()
    page = subject_access_html(subject_access_export(contact), contact, "en")
    assert page.count("Nothing held.") == len(SECTION_NAMES) - 2
    assert 'id="invitations" data-count="0"' in page


def test_the_page_language_falls_back_to_the_contacts_then_english(db):
    assert page_language(ContactFactory(preferred_language="ru")) == "ru"
    assert page_language(ContactFactory(preferred_language="ru"), "en") == "en"
    assert page_language(ContactFactory(preferred_language="de")) == "en"
    assert page_language(ContactFactory(preferred_language="en"), "xx") == "en"


def test_a_section_is_added_by_one_registration(db):
    contact = ContactFactory()
    section = Section(
        name="consent_probe",
        title="Consent",
        build=lambda c, context: [{"purpose": "photos", "given": True, "contact": c.pk}],
    )
    register(section)
    try:
        export = subject_access_export(contact)
        assert export["sections"]["consent_probe"]["records"] == [
            {"purpose": "photos", "given": True, "contact": contact.pk}
        ]
        assert "photos" in subject_access_html(export, contact, "en")
    finally:
        SECTIONS.pop("consent_probe")


@pytest.mark.parametrize("output", ["json", "html"])
def test_producing_an_export_is_logged_without_personal_data(person, user, output):
    content = subject_access_produce(
        contact=person,
        output=output,
        channel="back office",
        include_restricted=True,
        acting_user=user,
    )
    assert "anna.petrova@example.org" in content
    entry = AccessLogEntry.objects.get()
    assert entry.action == AccessLogEntry.Action.SUBJECT_ACCESS
    assert entry.user == user
    assert entry.api_client is None
    assert entry.content_type == ContentType.objects.get_for_model(Contact)
    assert entry.object_id == str(person.pk)
    assert output.upper() in entry.description
    for personal in ("Anna", "Petrova", "anna.petrova"):
        assert personal not in entry.description


def test_consent_statements_and_who_acted_are_in_the_export(db, user):
    from api.services import api_client_issue_token
    from crm.audit import acting_as
    from members.privacy.models import ConsentPurpose, ConsentRecord
    from members.privacy.services import consent_record
    from tests.privacy import ensure_consent_texts

    texts = ensure_consent_texts()
    contact = ContactFactory(preferred_language="ru")
    Method = ConsentRecord.Method
    consent_record(
        contact=contact,
        purpose=ConsentPurpose.PHOTOGRAPHS,
        given=True,
        method=Method.IN_PERSON,
        acting_user=user,
        note="Said yes at the desk",
    )
    consent_record(
        contact=contact,
        purpose=ConsentPurpose.PHOTOGRAPHS,
        given=False,
        method=Method.EMAIL,
        acting_user=None,
    )
    client, _token = api_client_issue_token(name="sync", scope="write", acting_user=None)
    with acting_as(api_client=client):
        services.contact_update(contact=contact, phone="+43 1 514 36 0", acting_user=None)

    export = subject_access_export(contact)

    consent = export["sections"]["consent"]
    assert consent["count"] == 2
    newest, oldest = consent["records"]
    assert (newest["given"], newest["method"], newest["current"]) == (False, "email", True)
    assert (oldest["given"], oldest["current"], oldest["note"]) == (
        True,
        False,
        "Said yes at the desk",
    )
    assert oldest["recorded_by"] == user.get_username()
    assert oldest["text_version"] == texts[ConsentPurpose.PHOTOGRAPHS].version
    assert oldest["text"] == texts[ConsentPurpose.PHOTOGRAPHS].text_ru  # their language
    changes = [
        r for r in export["sections"]["history"]["records"] if r["model"] == "members.contact"
    ]
    assert changes[-1]["history_api_client"] == "sync"
    assert "phone" in changes[-1]["changed_fields"]
    assert list(export["sections"])[:3] == ["contact", "affiliations", "consent"]

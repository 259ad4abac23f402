"""Consent where meetings and events use it: the RSVP page (give or withdraw per purpose,
recorded with the text version shown), and the participant lists (the shared one names only
those who agreed; the internal one shows the photographs consent)."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.html import escape

from meetings.models import Invitation
from members.privacy import services as consent_services
from members.privacy.models import ConsentPurpose, ConsentRecord
from members.privacy.selectors import consent_current
from tests.factories import EventFactory, InvitationFactory, MeetingFactory, OrganizationFactory
from tests.privacy import ensure_consent_texts

pytestmark = pytest.mark.django_db

MAIL = ConsentPurpose.MAIL
LIST = ConsentPurpose.PARTICIPANT_LIST
PHOTOS = ConsentPurpose.PHOTOGRAPHS


@pytest.fixture
def texts():
    return ensure_consent_texts()


def _rsvp(invitation, **params):
    url = reverse("rsvp:page", args=[invitation.token])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


# --- RSVP page -------------------------------------------------------------------------------


def test_the_page_shows_one_checkbox_per_purpose_with_its_text(client, texts):
    invitation = InvitationFactory()
    page = client.get(_rsvp(invitation)).content.decode()
    assert "Your consent" in page
    for purpose, text in texts.items():
        assert f'name="{purpose}"' in page
        assert escape(text.text_en.split(".")[0]) in page
        assert f'name="{purpose}_version" value="{text.version}"' in page
    # Mail is allowed by default (checked); the others are not given until given.
    assert 'name="mail" aria-describedby="id_mail-text" id="id_mail" checked' in page
    assert 'id="id_photographs" checked' not in page
    assert not ConsentRecord.objects.exists()  # a GET records nothing


def test_the_page_shows_the_russian_text(client, texts):
    invitation = InvitationFactory()
    page = client.get(_rsvp(invitation, lang="ru")).content.decode()
    assert escape(texts[LIST].text_ru.split(";")[0]) in page


def test_posting_records_only_what_changed_with_the_text_version_and_invitation(client, texts):
    invitation = InvitationFactory(contact__preferred_language="ru")
    versions = {f"{p}_version": t.version for p, t in texts.items()}
    # Mail unticked (withdrawn), participant list ticked (given), photographs left unticked.
    response = client.post(
        _rsvp(invitation, lang="ru"), {"action": "consent", LIST: "on", **versions}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("saved=consent")

    records = {r.purpose: r for r in ConsentRecord.objects.filter(contact=invitation.contact)}
    assert set(records) == {MAIL, LIST}
    assert records[LIST].given
    assert not records[MAIL].given
    for record in records.values():
        assert record.method == ConsentRecord.Method.RSVP
        assert record.invitation == invitation
        assert record.recorded_by is None
        assert record.language == "ru"
        assert record.text == texts[record.purpose]
    invitation.contact.refresh_from_db()
    assert invitation.contact.has_opted_out

    page = client.get(response["Location"]).content.decode()
    assert 'id="id_participant_list" checked' in page


def test_a_newer_text_published_meanwhile_does_not_change_what_was_agreed(client, texts):
    invitation = InvitationFactory()
    newer = consent_services.consent_text_publish(
        purpose=PHOTOS, text_en="Newer", text_ru="Новее", acting_user=None
    )
    client.post(
        _rsvp(invitation),
        {"action": "consent", MAIL: "on", PHOTOS: "on", f"{PHOTOS}_version": newer.version - 1},
    )
    record = ConsentRecord.objects.get(purpose=PHOTOS)
    assert record.text == texts[PHOTOS]


def test_withdrawing_photographs_after_giving_it(client, texts):
    invitation = InvitationFactory()
    client.post(_rsvp(invitation), {"action": "consent", MAIL: "on", PHOTOS: "on"})
    client.post(_rsvp(invitation), {"action": "consent", MAIL: "on"})
    assert consent_current(invitation.contact_id)[PHOTOS].given is False
    assert ConsentRecord.objects.filter(purpose=PHOTOS).count() == 2


# --- Participant lists -----------------------------------------------------------------------


@pytest.fixture
def office(client, coordinator):
    group = coordinator.groups.get(name="Coordinators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="meetings"))
    client.force_login(coordinator)
    return client


def _accepted(gathering, given_name, organization):
    return InvitationFactory(
        gathering=gathering,
        organization=organization,
        contact__given_name=given_name,
        contact__family_name="Tester",
        status=Invitation.Status.ACCEPTED,
        mode=Invitation.Mode.IN_PERSON,
    )


def _give(invitation, purpose):
    consent_services.consent_record(
        contact=invitation.contact,
        purpose=purpose,
        given=True,
        method=ConsentRecord.Method.IN_PERSON,
        acting_user=None,
    )


def _csv(response):
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("kind", ["meeting", "event"])
def test_the_shared_list_names_only_those_who_agreed_and_counts_the_others(office, texts, kind):
    gathering = MeetingFactory() if kind == "meeting" else EventFactory()
    alpha = OrganizationFactory(name="Alpha Aid", country="AT")
    beta = OrganizationFactory(name="Beta Bureau")
    ann = _accepted(gathering, "Ann", alpha)
    _accepted(gathering, "Bob", alpha)
    _accepted(gathering, "Cat", alpha)
    _accepted(gathering, "Dan", beta)
    InvitationFactory(gathering=gathering, contact__given_name="Pending")  # not accepted
    _give(ann, LIST)
    name = "admin:meetings_meeting" if kind == "meeting" else "admin:events_event"

    rows = _csv(office.get(reverse(f"{name}_export_shared", args=[gathering.pk, "csv"])))
    assert rows[0] == ["Name", "Organisation", "Country"]
    assert rows[1:] == [
        ["Ann Tester", "Alpha Aid", "Austria"],
        ["2 more participants", "Alpha Aid", ""],
        ["1 more participant", "Beta Bureau", ""],
    ]
    content = office.get(reverse(f"{name}_export_shared", args=[gathering.pk, "xlsx"]))
    assert content.status_code == 200
    assert b"Bob" not in content.content


def test_the_internal_list_keeps_everyone_and_shows_the_photographs_consent(office, texts):
    meeting = MeetingFactory()
    org = OrganizationFactory(name="Alpha Aid")
    ann = _accepted(meeting, "Ann", org)
    _accepted(meeting, "Bob", org)
    _give(ann, PHOTOS)
    rows = _csv(office.get(reverse("admin:meetings_meeting_export", args=[meeting.pk, "csv"])))
    header = rows[0]
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_name) == {"Ann Tester", "Bob Tester"}
    assert by_name["Ann Tester"]["Photographs"] == "yes"
    assert by_name["Bob Tester"]["Photographs"] == "no"


def test_the_board_links_both_lists(office):
    meeting = MeetingFactory()
    page = office.get(reverse("admin:meetings_meeting_board", args=[meeting.pk])).content
    assert (
        reverse("admin:meetings_meeting_export_shared", args=[meeting.pk, "csv"]).encode() in page
    )
    assert reverse("admin:meetings_meeting_export", args=[meeting.pk, "csv"]).encode() in page


def test_the_shared_list_is_for_coordinators_not_viewers(client, texts):
    from django.contrib.auth.models import Group

    from crm.roles import VIEWERS, sync_roles
    from tests.factories import UserFactory

    sync_roles()
    viewer = UserFactory(is_staff=True)
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    client.force_login(viewer)
    meeting = MeetingFactory()
    url = reverse("admin:meetings_meeting_export_shared", args=[meeting.pk, "csv"])
    assert client.get(url).status_code == 403

"""Every export of personal data is an entry of the access log: who, which model, how many
rows, and a description naming the list, never a person.

Exports covered: the directory's django-import-export files (organisations, contacts), the
participant lists of meetings and events (CSV, Excel) and the tables of the partnership
report. Not exports: the calendar file of an invitation (no personal data beyond the
invitee's own), the API (reads and sync of an authorised integration, not a file)."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from import_export.formats import base_formats

from crm.models import AccessLogEntry
from crm.roles import COORDINATORS, sync_roles
from meetings.models import Invitation
from members.models import Contact, Organization
from tests.factories import (
    ContactFactory,
    EventFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator(db):
    sync_roles()
    user = UserFactory(username="exporter", is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS))
    return user


@pytest.fixture
def office(client, coordinator):
    client.force_login(coordinator)
    return client


def _format(model, format_class) -> str:
    formats = admin.site.get_model_admin(model).get_export_formats()
    return str(next(i for i, f in enumerate(formats) if f is format_class))


def _only_entry() -> AccessLogEntry:
    return AccessLogEntry.objects.get()


@pytest.mark.parametrize(
    ("model", "url", "description"),
    [
        (Contact, "/admin/members/contact/export/", "Contacts (CSV)"),
        (Organization, "/admin/members/organization/export/", "Organisations (CSV)"),
    ],
)
def test_a_directory_export_is_logged(office, coordinator, model, url, description):
    people = ContactFactory.create_batch(3, given_name="Secretname")
    OrganizationFactory.create_batch(2)
    assert office.get(url).status_code == 200
    assert not AccessLogEntry.objects.exists()  # the form alone exports nothing

    response = office.post(url, {"format": _format(model, base_formats.CSV), "resource": "0"})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    entry = _only_entry()
    assert entry.action == AccessLogEntry.Action.EXPORT
    assert entry.user == coordinator
    assert entry.content_type == ContentType.objects.get_for_model(model)
    assert entry.row_count == model.objects.count()
    assert entry.description == description
    assert "Secretname" not in entry.description
    assert people[0].email not in entry.description


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("kind", ["meeting", "event"])
def test_a_participant_list_is_logged(office, coordinator, fmt, kind):
    gathering = (EventFactory if kind == "event" else MeetingFactory)(title="AECT 52")
    accepted = InvitationFactory.create_batch(
        2,
        gathering=gathering,
        status=Invitation.Status.ACCEPTED,
        mode=Invitation.Mode.IN_PERSON,
        answered_at=timezone.now(),
    )
    InvitationFactory(gathering=gathering)  # pending: not on the list
    name = "events_event" if kind == "event" else "meetings_meeting"
    response = office.get(reverse(f"admin:{name}_export", args=[gathering.pk, fmt]))
    assert response.status_code == 200
    entry = _only_entry()
    assert entry.user == coordinator
    assert entry.content_type == ContentType.objects.get_for_model(Invitation)
    assert entry.row_count == 2
    assert entry.description == f"Participant list of AECT 52 (#{gathering.pk}) ({fmt.upper()})"
    assert accepted[0].contact.family_name not in entry.description


def test_a_refused_export_is_not_logged(client):
    sync_roles()
    viewer = UserFactory(is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewers"))
    client.force_login(viewer)
    meeting = MeetingFactory()
    response = client.get(reverse("admin:meetings_meeting_export", args=[meeting.pk, "csv"]))
    assert response.status_code == 403
    assert not AccessLogEntry.objects.exists()


def test_the_description_is_in_the_site_language_whatever_the_page(office):
    meeting = MeetingFactory(title="AECT 53")
    office.get(
        reverse("admin:meetings_meeting_export", args=[meeting.pk, "csv"]),
        HTTP_ACCEPT_LANGUAGE="ru",
    )
    assert _only_entry().description.startswith("Participant list of AECT 53")


def test_a_report_table_is_logged_but_not_its_chart(office, coordinator):
    url = reverse("reports:figure", args=["followups"])
    assert office.get(url).status_code in (200, 404)  # the SVG chart: not a table
    assert not AccessLogEntry.objects.exists()
    response = office.get(url + "?format=csv")
    assert response.status_code == 200
    entry = _only_entry()
    assert entry.user == coordinator
    assert entry.description == "Partnership report: followups (CSV)"
    assert entry.row_count is not None


def test_the_access_log_admin_lists_and_filters_and_changes_nothing(office, coordinator):
    meeting = MeetingFactory()
    office.get(reverse("admin:meetings_meeting_export", args=[meeting.pk, "csv"]))
    entry = _only_entry()
    url = reverse("admin:crm_accesslogentry_changelist")
    response = office.get(url)
    assert response.status_code == 200
    assert "Participant list of" in response.content.decode()
    for params in (
        {"action": "export"},
        {"user__id__exact": coordinator.pk},
        {"created_at_from": timezone.localdate().isoformat()},
    ):
        filtered = office.get(url, params)
        assert filtered.status_code == 200, params
        assert list(filtered.context["cl"].result_list) == [entry], params
    assert office.get(reverse("admin:crm_accesslogentry_add")).status_code == 403
    change = office.get(reverse("admin:crm_accesslogentry_change", args=[entry.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert (
        office.get(reverse("admin:crm_accesslogentry_delete", args=[entry.pk])).status_code == 403
    )

"""The subject-access export in the back office: the button on the contact's page, the page
offering the export, the HTML page and the JSON download, each logged with the user."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crm.models import AccessLogEntry
from crm.roles import ADMINISTRATORS, COORDINATORS, VIEWERS, sync_roles
from tests.factories import ContactFactory, InvitationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact():
    contact = ContactFactory(given_name="Marta", family_name="Kowalska", preferred_language="ru")
    InvitationFactory(contact=contact)
    return contact


def _client(client, group: str):
    sync_roles()
    user = UserFactory(username=f"sar-{group.lower()}", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def _url(contact, query: str = "") -> str:
    return reverse("admin:members_contact_subject_access", args=[contact.pk]) + query


@pytest.mark.parametrize(
    ("group", "allowed"), [(COORDINATORS, True), (ADMINISTRATORS, True), (VIEWERS, False)]
)
def test_the_roles_hold_the_permission(group, allowed):
    sync_roles()
    permissions = Group.objects.get(name=group).permissions
    assert permissions.filter(codename="export_subject_access").exists() is allowed


def test_the_contact_page_has_the_button_for_coordinators_only(client, contact):
    change = reverse("admin:members_contact_change", args=[contact.pk])
    coordinator = _client(client, COORDINATORS)
    assert _url(contact) in coordinator.get(change).content.decode()
    viewer = _client(client, VIEWERS)
    page = viewer.get(change)
    assert page.status_code == 200
    assert _url(contact) not in page.content.decode()


def test_the_offer_page_links_both_and_logs_nothing(client, contact):
    response = _client(client, COORDINATORS).get(_url(contact))
    assert response.status_code == 200
    content = response.content.decode()
    assert "?as=json" in content
    assert 'name="as" value="html"' in content
    assert '<option value="ru" selected>' in content
    assert not AccessLogEntry.objects.exists()


def test_the_page_opens_in_the_language_chosen_and_is_logged(client, contact):
    coordinator = _client(client, COORDINATORS)
    response = coordinator.get(_url(contact, "?as=html&language=en"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert '<html lang="en">' in response.content.decode()
    assert "Marta Kowalska" in response.content.decode()
    entry = AccessLogEntry.objects.get()
    assert entry.action == AccessLogEntry.Action.SUBJECT_ACCESS
    assert entry.user.username == "sar-coordinators"
    assert entry.object_id == str(contact.pk)
    assert "HTML" in entry.description


def test_the_json_file_is_downloaded_and_logged(client, contact):
    response = _client(client, ADMINISTRATORS).get(_url(contact, "?as=json"))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert "Kowalska" not in response["Content-Disposition"]
    assert response.json()["subject"]["id"] == contact.pk
    entry = AccessLogEntry.objects.get()
    assert entry.user.username == "sar-administrators"
    assert "JSON" in entry.description


@pytest.mark.parametrize("query", ["", "?as=html", "?as=json"])
def test_viewers_are_refused_and_nothing_is_logged(client, contact, query):
    response = _client(client, VIEWERS).get(_url(contact, query))
    assert response.status_code == 403
    assert not AccessLogEntry.objects.exists()


def test_an_unknown_contact_is_a_404(client):
    response = _client(client, COORDINATORS).get(
        reverse("admin:members_contact_subject_access", args=[987654])
    )
    assert response.status_code in (302, 404)

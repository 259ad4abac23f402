"""GET /api/v1/contacts/{id}/subject-access/: the scope privacy:read, JSON and the page, 404 for
an unknown contact, and the access log naming the API client."""

import pytest
from django.contrib.contenttypes.models import ContentType

from api.models import ApiClient
from api.services import api_client_issue_token
from crm.models import AccessLogEntry
from members.models import Contact
from tests.api.conftest import bearer, issue
from tests.factories import AffiliationFactory, ContactFactory, InvitationFactory

pytestmark = pytest.mark.django_db


def _url(pk: int) -> str:
    return f"/api/v1/contacts/{pk}/subject-access/"


@pytest.fixture
def contact():
    contact = ContactFactory(given_name="Irina", family_name="Sokolova", preferred_language="ru")
    AffiliationFactory(contact=contact)
    InvitationFactory(contact=contact)
    return contact


@pytest.fixture
def privacy_api():
    return bearer(issue("privacy-reader", "read", privacy_read=True))


def test_a_privacy_read_token_gets_the_json_export(privacy_api, contact):
    response = privacy_api.get(_url(contact.pk))
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["subject"] == {"type": "contact", "id": contact.pk}
    assert data["sections"]["contact"]["records"][0]["family_name"] == "Sokolova"
    assert data["sections"]["invitations"]["count"] == 1
    # A privacy:read token that is not restricted sees no restricted consultations.
    assert data["restricted_included"] is False


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?format=html", {}), ("", {"HTTP_ACCEPT": "text/html"})],
)
def test_the_page_is_offered_as_html(privacy_api, contact, query, headers):
    response = privacy_api.get(_url(contact.pk) + query, **headers)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert '<html lang="ru">' in content  # the contact's language
    assert "Irina Sokolova" in content


def test_the_page_language_can_be_chosen(privacy_api, contact):
    response = privacy_api.get(_url(contact.pk) + "?format=html&language=en")
    assert '<html lang="en">' in response.content.decode()


@pytest.mark.parametrize(
    "kwargs",
    [{"scope": "read"}, {"scope": "write"}, {"scope": "write", "restricted": True}],
)
def test_no_other_scope_implies_privacy_read(contact, kwargs):
    api = bearer(issue("ordinary", **kwargs))
    response = api.get(_url(contact.pk))
    assert response.status_code == 403
    assert "privacy:read" in response.json()["detail"]
    assert not AccessLogEntry.objects.exists()


def test_privacy_read_is_not_given_by_default_nor_kept_by_a_rotation(db):
    client, _token = api_client_issue_token(name="x", scope="read", acting_user=None)
    assert client.privacy_read is False
    client, _token = api_client_issue_token(
        name="x", scope="read", privacy_read=True, acting_user=None
    )
    assert client.scopes == ["read", "privacy:read"]
    client, _token = api_client_issue_token(name="x", scope="read", acting_user=None)
    assert ApiClient.objects.get(pk=client.pk).privacy_read is False


def test_an_unknown_contact_is_a_404(privacy_api):
    response = privacy_api.get(_url(987654))
    assert response.status_code == 404
    assert set(response.json()) >= {"detail", "code"}
    assert not AccessLogEntry.objects.exists()


def test_an_error_is_json_even_when_the_page_was_asked_for(privacy_api):
    response = privacy_api.get(_url(987654) + "?format=html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("query", ["", "?format=html"])
def test_every_api_export_is_logged_with_the_client(privacy_api, contact, query):
    privacy_api.get(_url(contact.pk) + query)
    entry = AccessLogEntry.objects.get()
    assert entry.action == AccessLogEntry.Action.SUBJECT_ACCESS
    assert entry.api_client == ApiClient.objects.get(name="privacy-reader")
    assert entry.user is None
    assert entry.content_type == ContentType.objects.get_for_model(Contact)
    assert entry.object_id == str(contact.pk)
    assert "API" in entry.description
    assert "Sokolova" not in entry.description


def test_a_coordinators_session_may_export_and_is_logged_as_the_user(callers, contact):
    response = callers["coordinator"].get(_url(contact.pk))
    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert entry.user.username == "coordinator-api"
    assert entry.api_client is None


def test_the_schema_documents_the_endpoint(read_api):
    schema = read_api.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/contacts/{id}/subject-access/"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/html"}
    assert "privacy:read" in operation["description"]

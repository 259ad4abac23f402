"""Consent through the API: the contact shows its current consent per purpose; an integration
records a consent (method "api", attributed to its client); bad input is a 400 on its field."""

import pytest

from api.models import ApiClient
from members.privacy.models import ConsentRecord
from tests.api.conftest import bearer, issue
from tests.factories import ContactFactory
from tests.privacy import ensure_consent_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts():
    return ensure_consent_texts()


def _url(contact):
    return f"/api/v1/contacts/{contact.pk}/consent/"


def test_a_contact_shows_the_defaults_then_the_latest_record(write_api, texts):
    contact = ContactFactory()
    body = write_api.get(f"/api/v1/contacts/{contact.pk}/").json()
    assert body["consent"] == {
        "mail": {"given": True, "recorded_at": None},
        "participant_list": {"given": False, "recorded_at": None},
        "photographs": {"given": False, "recorded_at": None},
    }
    response = write_api.post(
        _url(contact), {"purpose": "photographs", "given": True, "language": "ru"}, format="json"
    )
    assert response.status_code == 200, response.content
    consent = response.json()["consent"]
    assert consent["photographs"]["given"] is True
    assert consent["photographs"]["recorded_at"] is not None


def test_an_integration_records_consent_attributed_to_its_client(db, texts):
    api = bearer(issue("registration-site", "write"))
    contact = ContactFactory()
    response = api.post(
        _url(contact),
        {"purpose": "participant_list", "given": True, "text_version": 1, "note": "web form"},
        format="json",
    )
    assert response.status_code == 200, response.content
    record = ConsentRecord.objects.get(contact=contact)
    assert record.method == ConsentRecord.Method.API
    assert record.api_client == ApiClient.objects.get(name="registration-site")
    assert record.recorded_by is None
    assert record.text == texts["participant_list"]
    assert record.note == "web form"


def test_withdrawing_mail_through_the_api_opts_the_contact_out(write_api, texts):
    contact = ContactFactory()
    response = write_api.post(_url(contact), {"purpose": "mail", "given": False}, format="json")
    assert response.status_code == 200
    assert response.json()["mail_opted_out_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "newsletter", "given": True}, "purpose"),
        ({"given": True}, "purpose"),
        ({"purpose": "mail"}, "given"),
        ({"purpose": "mail", "given": True, "text_version": 99}, "text_version"),
        ({"purpose": "mail", "given": True, "language": "xx"}, "language"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(write_api, texts, body, field):
    contact = ContactFactory()
    response = write_api.post(_url(contact), body, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json())
    assert not ConsentRecord.objects.exists()


def test_an_unknown_contact_is_a_404(write_api):
    response = write_api.post(
        "/api/v1/contacts/987654/consent/", {"purpose": "mail", "given": False}, format="json"
    )
    assert response.status_code == 404


def test_an_id_with_a_newline_is_a_json_404(write_api):
    response = write_api.post(
        "/api/v1/contacts/1%0A2/consent/", {"purpose": "mail", "given": False}, format="json"
    )
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")

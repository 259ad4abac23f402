"""Consent in the back office: the contact page shows the current consent and its history, a
coordinator records a consent given in person, administrators publish new text versions and
cannot edit one people agreed to."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from crm.roles import ADMINISTRATORS, VIEWERS, sync_roles
from members.privacy import services
from members.privacy.models import ConsentRecord, ConsentText
from tests.factories import ContactFactory, UserFactory
from tests.privacy import ensure_consent_texts

pytestmark = pytest.mark.django_db


@pytest.fixture
def texts():
    return ensure_consent_texts()


def _as(group_name: str) -> Client:
    sync_roles()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


def test_a_coordinator_records_consent_given_in_person(coordinator_client, coordinator, texts):
    contact = ContactFactory()
    url = reverse("admin:members_contact_record_consent", args=[contact.pk])
    assert "Record consent" in coordinator_client.get(url).content.decode()
    response = coordinator_client.post(
        url,
        {"purpose": "photographs", "given": "yes", "method": "in_person", "note": "signed form"},
    )
    assert response.status_code == 302
    record = ConsentRecord.objects.get(contact=contact)
    assert record.given
    assert record.purpose == "photographs"
    assert record.method == ConsentRecord.Method.IN_PERSON
    assert record.recorded_by == coordinator
    assert record.text == texts["photographs"]
    assert record.note == "signed form"


def test_an_unknown_purpose_in_the_form_is_a_form_error(coordinator_client, texts):
    contact = ContactFactory()
    url = reverse("admin:members_contact_record_consent", args=[contact.pk])
    response = coordinator_client.post(
        url, {"purpose": "newsletter", "given": "yes", "method": "in_person"}
    )
    assert response.status_code == 200
    assert "purpose" in response.context["form"].errors
    assert not ConsentRecord.objects.exists()


def test_the_contact_page_shows_current_consent_and_history_to_a_viewer(texts):
    contact = ContactFactory()
    services.consent_record(
        contact=contact,
        purpose="participant_list",
        given=True,
        method=ConsentRecord.Method.BACK_OFFICE,
        note="phone call with the focal point",
        acting_user=None,
    )
    viewer = _as(VIEWERS)
    page = viewer.get(reverse("admin:members_contact_change", args=[contact.pk])).content.decode()
    assert "Shared participant lists" in page
    assert "phone call with the focal point" in page
    assert "Back office / phone" in page
    assert reverse("admin:members_contact_record_consent", args=[contact.pk]) not in page
    response = viewer.get(reverse("admin:members_contact_record_consent", args=[contact.pk]))
    assert response.status_code == 403


def test_an_administrator_publishes_a_new_version(texts):
    admin_client = _as(ADMINISTRATORS)
    response = admin_client.post(
        reverse("admin:members_consenttext_add"),
        {
            "purpose": "mail",
            "text_en": "New mail wording",
            "text_ru": "Новый текст",
            "published_at_0": "2026-01-01",
            "published_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = ConsentText.objects.filter(purpose="mail").order_by("-version").first()
    assert latest.text_en == "New mail wording"
    assert latest.version == texts["mail"].version + 1
    assert latest.history.first().history_user is not None


def test_a_text_agreed_to_is_read_only_even_for_an_administrator(texts):
    services.consent_record(
        contact=ContactFactory(),
        purpose="mail",
        given=True,
        method=ConsentRecord.Method.RSVP,
        acting_user=None,
    )
    admin_client = _as(ADMINISTRATORS)
    url = reverse("admin:members_consenttext_change", args=[texts["mail"].pk])
    page = admin_client.get(url).content.decode()
    assert 'name="_save"' not in page
    delete = admin_client.get(reverse("admin:members_consenttext_delete", args=[texts["mail"].pk]))
    assert delete.status_code == 403

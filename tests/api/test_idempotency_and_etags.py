"""Safe retries (Idempotency-Key) and no silent overwrites (ETag, If-Match, If-None-Match)."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from api.models import IdempotencyRecord
from members.models import Contact, Organization
from tests.api.conftest import bearer, issue
from tests.factories import ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

BODY = {"given_name": "Rita", "family_name": "Moreau", "email": "rita@example.org"}


def _post(api, body=BODY, key="key-1", url="/api/v1/contacts/"):
    return api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


# --- Idempotency-Key --------------------------------------------------------------------------


def test_same_key_same_body_replays_the_first_answer_and_creates_once(write_api):
    first = _post(write_api)
    again = _post(write_api, body=dict(reversed(list(BODY.items()))))  # same JSON, other order
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_same_key_other_body_is_422_and_changes_nothing(write_api):
    _post(write_api)
    other = _post(write_api, body={**BODY, "email": "other@example.org"})
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert Contact.objects.count() == 1


def test_errors_are_replayed_too_and_keys_belong_to_their_caller(write_api, db):
    ContactFactory(email="rita@example.org")
    refused = _post(write_api)
    assert refused.status_code == 400
    assert _post(write_api).json() == refused.json()

    # Another client may use the same key for its own request.
    other = bearer(issue("other-integration", "write"))
    assert _post(other, body={**BODY, "email": "x@example.org"}).status_code == 201


def test_workflow_actions_are_idempotent(write_api):
    organization = OrganizationFactory(status="invited")
    url = f"/api/v1/organizations/{organization.pk}/change-status/"
    first = _post(write_api, {"to_status": "active"}, url=url)
    second = _post(write_api, {"to_status": "active"}, url=url)
    assert first.status_code == second.status_code == 200
    assert organization.membership_changes.count() == 1
    # Without the key, the repeated step is refused by the service (already active).
    assert write_api.post(url, {"to_status": "active"}, format="json").status_code == 400


def test_keys_expire_after_a_day(write_api):
    _post(write_api)
    Contact.objects.all().delete()
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        again = _post(write_api)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert Contact.objects.count() == 1


def test_requests_without_a_key_are_not_recorded(write_api):
    write_api.post("/api/v1/contacts/", BODY, format="json")
    assert IdempotencyRecord.objects.count() == 0


# --- ETags ------------------------------------------------------------------------------------


def test_etag_and_if_none_match(write_api):
    contact = ContactFactory()
    url = f"/api/v1/contacts/{contact.pk}/"
    first = write_api.get(url)
    etag = first["ETag"]
    assert etag.startswith('"')

    unchanged = write_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""

    write_api.patch(url, {"salutation": "Ms"}, format="json")
    assert write_api.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_stale_if_match_is_412_and_changes_nothing(write_api):
    organization = OrganizationFactory(acronym="OLD")
    url = f"/api/v1/organizations/{organization.pk}/"
    etag = write_api.get(url)["ETag"]

    # Someone else changes it in the meantime.
    write_api.patch(url, {"description": "edited elsewhere"}, format="json")

    stale = write_api.patch(url, {"acronym": "NEW"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    organization.refresh_from_db()
    assert organization.acronym == "OLD"

    current = write_api.get(url)["ETag"]
    ok = write_api.patch(url, {"acronym": "NEW"}, format="json", HTTP_IF_MATCH=current)
    assert ok.status_code == 200
    assert ok["ETag"] != current
    assert ok["ETag"] == write_api.get(url)["ETag"]


def test_if_match_applies_to_workflow_steps_and_upserts(write_api):
    organization = OrganizationFactory(status="invited", external_ref="o-1")
    step = write_api.post(
        f"/api/v1/organizations/{organization.pk}/change-status/",
        {"to_status": "active"},
        format="json",
        HTTP_IF_MATCH='"stale"',
    )
    assert step.status_code == 412
    upsert = write_api.put(
        "/api/v1/organizations/by-ref/o-1/",
        {"name": "Renamed", "kind": "ngo"},
        format="json",
        HTTP_IF_MATCH='"stale"',
    )
    assert upsert.status_code == 412
    organization.refresh_from_db()
    assert organization.status == "invited"
    assert Organization.objects.get().name != "Renamed"

"""API client tokens: the Bearer scheme, expiry, revocation, last use, the management command,
the back office, and rate limits."""

import datetime
import io

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from api.models import ApiClient, hash_token
from crm.roles import ADMINISTRATORS, sync_roles
from tests.api.conftest import bearer, issue
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _issue_with_command(*args) -> tuple[str, str]:
    out = io.StringIO()
    call_command("issue_api_token", *args, stdout=out)
    text = out.getvalue()
    return text, text.strip().splitlines()[-1]


def test_issue_api_token_prints_a_working_token_as_its_last_line():
    _text, token = _issue_with_command("website", "--scope", "read", "--expires-days", "30")
    client = ApiClient.objects.get(name="website")
    assert client.token_hash == hash_token(token)
    assert token not in client.token_hint
    assert client.scope == "read"
    assert not client.restricted
    assert client.expires_at > timezone.now() + datetime.timedelta(days=29)

    api = bearer(token)
    assert api.get("/api/v1/contacts/").status_code == 200
    assert api.post("/api/v1/contacts/", {}, format="json").status_code == 403


def test_issuing_again_rotates_the_token():
    _text, old = _issue_with_command("bi", "--scope", "read")
    _text, new = _issue_with_command("bi", "--scope", "write", "--restricted")
    assert ApiClient.objects.filter(name="bi").count() == 1
    assert ApiClient.objects.get(name="bi").restricted
    assert bearer(old).get("/api/v1/contacts/").status_code == 401
    assert bearer(new).get("/api/v1/contacts/").status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer acrm_nope", "Token something"],
)
def test_bad_credentials_are_401(header):
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/contacts/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_last_use_is_recorded_at_most_once_a_minute():
    token = issue("busy", "read")
    api = bearer(token)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("/api/v1/contacts/")
    first = ApiClient.objects.get(name="busy").last_used_at
    assert first == start
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        api.get("/api/v1/contacts/")
    assert ApiClient.objects.get(name="busy").last_used_at == first
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        api.get("/api/v1/contacts/")
    assert ApiClient.objects.get(name="busy").last_used_at > first


def test_expired_tokens_stop_working():
    _text, token = _issue_with_command("short", "--scope", "read", "--expires-days", "1")
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2)):
        response = bearer(token).get("/api/v1/contacts/")
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_rate_limit_per_token_answers_429_with_retry_after(settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "client": "3/min"}
    api = bearer(issue("chatty", "read"))
    statuses = [api.get("/api/v1/organizations/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = api.get("/api/v1/organizations/")
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled"
    # Another client has its own budget.
    assert bearer(issue("quiet", "read")).get("/api/v1/organizations/").status_code == 200


def test_anonymous_rate_limit_is_per_ip(settings, rf):
    from api.throttling import AnonymousRateThrottle, ScopedAnonymousRateThrottle

    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "rsvp": "2/min"}

    class View:
        throttle_scope = "rsvp"

    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    def allowed(ip: str) -> bool:
        request = Request(rf.get("/api/v1/rsvp/x/", REMOTE_ADDR=ip))
        request.user = AnonymousUser()
        return ScopedAnonymousRateThrottle().allow_request(request, View())

    assert [allowed("10.0.0.1") for _ in range(3)] == [True, True, False]
    assert allowed("10.0.0.2")
    assert AnonymousRateThrottle.scope == "anonymous"


# --- Back office --------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    sync_roles()
    user = UserFactory(username="admin-api", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    client.force_login(user)
    return client


def test_back_office_creates_a_client_and_shows_the_token_once(admin_client):
    response = admin_client.post(
        reverse("admin:api_apiclient_add"),
        {"name": "partner-crm", "scope": "write", "contact_email": "it@partner.example"},
        follow=True,
    )
    assert response.status_code == 200
    client = ApiClient.objects.get(name="partner-crm")
    shown = [str(m) for m in response.context["messages"]]
    token = next(m for m in shown if "acrm_" in m).split("<code")[1].split(">")[1].split("<")[0]
    assert hash_token(token) == client.token_hash
    assert bearer(token).get("/api/v1/contacts/").status_code == 200

    # Not on the next page any more, nor on the client's page.
    page = admin_client.get(reverse("admin:api_apiclient_change", args=[client.pk]))
    assert token not in page.content.decode()


def test_back_office_revokes(admin_client):
    token = issue("to-revoke", "read")
    client = ApiClient.objects.get(name="to-revoke")
    admin_client.post(
        reverse("admin:api_apiclient_changelist"),
        {"action": "revoke", "_selected_action": [client.pk]},
    )
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert bearer(token).get("/api/v1/contacts/").status_code == 401
    assert admin_client.get(reverse("admin:api_apiclient_changelist")).status_code == 200


def test_schema_and_docs_are_served():
    from rest_framework.test import APIClient

    api = APIClient()
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/contacts/by-ref/{external_ref}/" in paths
    assert "412" in paths["/api/v1/contacts/{id}/"]["patch"]["responses"]
    assert api.get("/api/docs/").status_code == 200

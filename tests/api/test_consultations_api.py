"""Consultations (restricted ones invisible: 404), follow-ups (filters, close, cancel) and an
API client's own webhook subscriptions."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models_webhooks import WebhookSubscription
from crm.roles import VIEWERS
from meetings.models import Consultation, FollowUp
from meetings.services import consultation_create, followup_create
from members.models import FocusArea
from tests.api.conftest import bearer, issue
from tests.api.test_permissions import CALLERS, CHANGE, READ
from tests.factories import ContactFactory, MeetingFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _consultation(confidentiality="normal", **fields) -> Consultation:
    organization = fields.pop("organization", None) or OrganizationFactory()
    return consultation_create(
        acting_user=None,
        organizations=[organization],
        contacts=fields.pop("contacts", [ContactFactory()]),
        topics=fields.pop("topics", []),
        kind=Consultation.Kind.BILATERAL,
        held_on=fields.pop("held_on", datetime.date(2026, 3, 1)),
        channel=Consultation.Channel.CALL,
        title=fields.pop("title", "Call on the OSCE survey"),
        confidentiality=confidentiality,
        **fields,
    )


def _followup(**fields) -> FollowUp:
    return followup_create(
        acting_user=None, title=fields.pop("title", "Send the minutes"), **fields
    )


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/consultations/", "/api/v1/follow-ups/"])
def test_list_query_count_does_not_grow_with_the_page(write_api, url):
    staff = UserFactory(is_staff=True)
    prevention = FocusArea.objects.get(code="prevention")
    for n in range(55):
        consultation = _consultation(topics=[prevention], staff=[staff])
        _followup(
            consultation=consultation,
            owner_user=staff,
            owner_contact=ContactFactory(),
            due_date=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
        )
    write_api.get(url)
    counts = {}
    for size in (5, 100):
        with CaptureQueriesContext(connection) as queries:
            response = write_api.get(f"{url}?page_size={size}")
        assert len(response.json()["results"]) == min(size, 55)
        counts[size] = len(queries)
    assert counts[5] == counts[100]


# --- Consultations --------------------------------------------------------------------------


@pytest.fixture
def viewer(db, roles):
    from rest_framework.test import APIClient

    user = UserFactory(username="viewer-consult", is_staff=True)
    user.groups.add(Group.objects.get(name=VIEWERS))
    client = APIClient()
    client.force_login(user)
    return client


def test_restricted_consultations_are_404_unless_the_caller_may_see_them(
    write_api, read_api, viewer, callers
):
    normal = _consultation()
    secret = _consultation("restricted", title="Sensitive")
    followup = _followup(consultation=secret)

    for client in (write_api, read_api, viewer):
        assert ids(client.get("/api/v1/consultations/")) == [normal.pk] or set(
            ids(client.get("/api/v1/consultations/"))
        ) == {normal.pk}
        assert client.get(f"/api/v1/consultations/{secret.pk}/").status_code == 404
        assert client.get(f"/api/v1/follow-ups/{followup.pk}/").status_code == 404
    assert (
        write_api.patch(
            f"/api/v1/consultations/{secret.pk}/", {"title": "x"}, format="json"
        ).status_code
        == 404
    )

    restricted = callers["restricted_token"]
    assert set(ids(restricted.get("/api/v1/consultations/"))) == {normal.pk, secret.pk}
    assert restricted.get(f"/api/v1/consultations/{secret.pk}/").json()["title"] == "Sensitive"
    assert restricted.get(f"/api/v1/follow-ups/{followup.pk}/").status_code == 200
    coordinator = callers["coordinator"]
    assert coordinator.get(f"/api/v1/consultations/{secret.pk}/").status_code == 200


def test_consultation_filters_and_embedded_names(write_api):
    organization = OrganizationFactory(name="Shelter Vienna")
    contact = ContactFactory()
    target = _consultation(
        organization=organization,
        contacts=[contact],
        topics=[FocusArea.objects.get(code="prevention")],
        held_on=datetime.date(2026, 5, 1),
        label="OSCE survey",
    )
    _consultation(held_on=datetime.date(2025, 5, 1))

    assert ids(write_api.get(f"/api/v1/consultations/?organization={organization.pk}")) == [
        target.pk
    ]
    assert ids(write_api.get(f"/api/v1/consultations/?contact={contact.pk}")) == [target.pk]
    assert ids(write_api.get("/api/v1/consultations/?topic=prevention")) == [target.pk]
    assert ids(write_api.get("/api/v1/consultations/?held_on_after=2026-01-01")) == [target.pk]
    assert ids(write_api.get("/api/v1/consultations/?label=OSCE survey")) == [target.pk]
    row = write_api.get(f"/api/v1/consultations/{target.pk}/").json()
    assert row["organizations"] == [
        {"id": organization.pk, "name": "Shelter Vienna", "acronym": organization.acronym}
    ]
    assert row["contacts"] == [{"id": contact.pk, "full_name": contact.full_name}]
    assert row["topics"] == ["prevention"]


def test_create_and_change_consultations_through_the_service(write_api, callers):
    first, second = OrganizationFactory(), OrganizationFactory()
    body = {
        "kind": "bilateral",
        "held_on": "2026-04-02",
        "channel": "video",
        "title": "Follow-up call",
        "organizations": [first.pk, second.pk],
        "topics": ["prevention"],
    }
    refused = write_api.post("/api/v1/consultations/", body, format="json")
    assert refused.status_code == 400  # bilateral: exactly one partner
    assert "organizations" in refused.json()["errors"]

    response = write_api.post(
        "/api/v1/consultations/", {**body, "organizations": [first.pk]}, format="json"
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    changed = write_api.patch(
        f"/api/v1/consultations/{pk}/", {"outcomes": "Agreed to meet"}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["outcomes"] == "Agreed to meet"

    restricted = {**body, "organizations": [first.pk], "confidentiality": "restricted"}
    assert write_api.post("/api/v1/consultations/", restricted, format="json").status_code == 400
    assert (
        write_api.patch(
            f"/api/v1/consultations/{pk}/", {"confidentiality": "restricted"}, format="json"
        ).status_code
        == 400
    )
    allowed = callers["restricted_token"].post("/api/v1/consultations/", restricted, format="json")
    assert allowed.status_code == 201


# --- Follow-ups -----------------------------------------------------------------------------


def test_followup_filters(write_api):
    owner = UserFactory(is_staff=True)
    organization = OrganizationFactory()
    today = timezone.localdate()
    overdue = _followup(owner_user=owner, due_date=today - datetime.timedelta(days=3))
    later = _followup(organization=organization, due_date=today + datetime.timedelta(days=10))
    done = _followup(due_date=today - datetime.timedelta(days=5), status=FollowUp.Status.DONE)

    assert ids(write_api.get("/api/v1/follow-ups/?overdue=true")) == [overdue.pk]
    assert set(ids(write_api.get("/api/v1/follow-ups/?overdue=false"))) == {later.pk, done.pk}
    assert ids(write_api.get(f"/api/v1/follow-ups/?owner={owner.pk}")) == [overdue.pk]
    assert ids(write_api.get(f"/api/v1/follow-ups/?organization={organization.pk}")) == [later.pk]
    assert ids(write_api.get("/api/v1/follow-ups/?status=done")) == [done.pk]
    window = {"due_date_after": str(today), "due_date_before": str(today + datetime.timedelta(30))}
    assert ids(write_api.get("/api/v1/follow-ups/", window)) == [later.pk]
    row = write_api.get(f"/api/v1/follow-ups/{overdue.pk}/").json()
    assert row["overdue"] is True
    assert row["owner_user"]["id"] == owner.pk


def test_create_close_and_cancel_followups(write_api):
    owner = UserFactory(is_staff=True)
    partner = ContactFactory()
    meeting = MeetingFactory()
    refused = write_api.post(
        "/api/v1/follow-ups/", {"title": "Call back", "owner_contact": partner.pk}, format="json"
    )
    assert refused.status_code == 400
    assert "owner_user" in refused.json()["errors"]

    response = write_api.post(
        "/api/v1/follow-ups/",
        {
            "title": "Call back",
            "owner_contact": partner.pk,
            "owner_user": owner.pk,
            "gathering": meeting.pk,
            "due_date": "2026-12-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert response.json()["gathering"] == meeting.pk

    closed = write_api.post(f"/api/v1/follow-ups/{pk}/close/", {"on": "2026-11-20"}, format="json")
    assert closed.status_code == 200
    assert (closed.json()["status"], closed.json()["done_on"]) == ("done", "2026-11-20")
    assert write_api.post(f"/api/v1/follow-ups/{pk}/close/").status_code == 409
    assert write_api.post(f"/api/v1/follow-ups/{pk}/cancel/").status_code == 409

    other = _followup()
    cancelled = write_api.post(
        f"/api/v1/follow-ups/{other.pk}/cancel/", {"reason": "Not needed"}, format="json"
    )
    assert cancelled.json()["status"] == "cancelled"
    assert "Not needed" in cancelled.json()["notes"]


def test_a_followup_cannot_point_to_an_unseen_consultation(write_api):
    secret = _consultation("restricted")
    response = write_api.post(
        "/api/v1/follow-ups/", {"title": "x", "consultation": secret.pk}, format="json"
    )
    assert response.status_code == 400
    assert "consultation" in response.json()["errors"]


# --- Webhook subscriptions ------------------------------------------------------------------


def test_webhook_subscriptions_are_the_clients_own(settings, callers):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    mine = bearer(issue("hooks-a", "write"))
    theirs = bearer(issue("hooks-b", "write"))
    body = {"url": "http://127.0.0.1:8765/hook", "event_types": ["invitation.answered"]}

    created = mine.post("/api/v1/webhooks/", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["secret"]
    pk = created.json()["id"]
    shown = mine.get(f"/api/v1/webhooks/{pk}/").json()
    assert "secret" not in shown
    assert shown["event_types"] == ["invitation.answered"]

    assert ids(theirs.get("/api/v1/webhooks/")) == []
    assert theirs.get(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert theirs.delete(f"/api/v1/webhooks/{pk}/").status_code == 404
    assert callers["coordinator"].get("/api/v1/webhooks/").status_code == 403

    changed = mine.patch(
        f"/api/v1/webhooks/{pk}/", {"event_types": ["follow_up.done"]}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["event_types"] == ["follow_up.done"]
    bad = mine.post("/api/v1/webhooks/", {**body, "event_types": ["nope"]}, format="json")
    assert bad.status_code == 400

    assert mine.delete(f"/api/v1/webhooks/{pk}/").status_code == 204
    assert not WebhookSubscription.objects.filter(pk=pk).exists()


def test_webhook_urls_on_private_addresses_are_refused(settings, write_api):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    response = write_api.post(
        "/api/v1/webhooks/",
        {"url": "https://127.0.0.1/hook", "event_types": ["contact.created"]},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()["errors"]


# --- Permission matrix of the objects (the list and create rows are in test_permissions) ---

MINE = (401, 403, 403, 404, 200, 404, 401, 401)  # the writer's own subscription
DETAIL_ENDPOINTS = [
    ("get", "/api/v1/consultations/{consultation}/", None, READ),
    ("patch", "/api/v1/consultations/{consultation}/", {"outcomes": "Agreed"}, CHANGE),
    ("get", "/api/v1/consultations/{restricted}/", None, (401, 404, 200, 404, 404, 200, 401, 401)),
    ("get", "/api/v1/follow-ups/{followup}/", None, READ),
    ("post", "/api/v1/follow-ups/{followup}/close/", {}, CHANGE),
    ("post", "/api/v1/follow-ups/{followup}/cancel/", {}, CHANGE),
    ("get", "/api/v1/webhooks/{webhook}/", None, MINE),
    (
        "patch",
        "/api/v1/webhooks/{webhook}/",
        {"event_types": ["follow_up.done"]},
        (401, 403, 403, 403, 200, 404, 401, 401),
    ),
    ("delete", "/api/v1/webhooks/{webhook}/", None, (401, 403, 403, 403, 204, 404, 401, 401)),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "caller", "expected"),
    [
        pytest.param(m, u, b, caller, e[i], id=f"{m.upper()} {u} {caller}")
        for m, u, b, e in DETAIL_ENDPOINTS
        for i, caller in enumerate(CALLERS)
    ],
)
def test_permission_matrix_of_consultations(callers, method, url, body, caller, expected):
    from api.models import ApiClient

    ids = {
        "consultation": _consultation().pk,
        "restricted": _consultation("restricted").pk,
        "followup": _followup().pk,
        "webhook": WebhookSubscription.objects.create(
            client=ApiClient.objects.get(name="writer"),
            url="https://hooks.example.org/in",
            event_types=["contact.created"],
        ).pk,
    }
    response = getattr(callers[caller], method)(url.format(**ids), body, format="json")
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}

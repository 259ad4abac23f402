"""The permission matrix: every directory endpoint, method and caller, with the expected
status, in one table (pretix's test_permissions.py)."""

import pytest

from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

CALLERS = [
    "anonymous",
    "viewer",
    "coordinator",
    "read_token",
    "write_token",
    "restricted_token",
    "expired_token",
    "revoked_token",
]

# Expected status per caller, in the order of CALLERS: the readers' answers and the writers'.
READ = (401, 200, 200, 200, 200, 200, 401, 401)
CREATE = (401, 403, 201, 403, 201, 201, 401, 401)
CHANGE = (401, 403, 200, 403, 200, 200, 401, 401)
UPSERT_NEW = (401, 403, 201, 403, 201, 201, 401, 401)


def _org_body(n):
    return {"name": f"Matrix Org {n}", "kind": "ngo"}


def _contact_body(n):
    return {"given_name": "Mat", "family_name": f"Rix {n}", "email": f"matrix{n}@example.org"}


# (method, url template, body factory, expected statuses)
ENDPOINTS = [
    ("get", "/api/v1/organizations/", None, READ),
    ("get", "/api/v1/organizations/{org}/", None, READ),
    ("post", "/api/v1/organizations/", _org_body, CREATE),
    ("patch", "/api/v1/organizations/{org}/", lambda n: {"acronym": f"M{n}"}, CHANGE),
    (
        "post",
        "/api/v1/organizations/{org}/change-status/",
        lambda n: {"to_status": "suspended", "reason": "test"},
        CHANGE,
    ),
    ("put", "/api/v1/organizations/by-ref/org-{n}/", _org_body, UPSERT_NEW),
    ("get", "/api/v1/contacts/", None, READ),
    ("get", "/api/v1/contacts/{contact}/", None, READ),
    ("post", "/api/v1/contacts/", _contact_body, CREATE),
    ("patch", "/api/v1/contacts/{contact}/", lambda n: {"salutation": "Dr"}, CHANGE),
    ("put", "/api/v1/contacts/by-ref/contact-{n}/", _contact_body, UPSERT_NEW),
    # A withdrawal needs no published text, so the matrix does not depend on the seeded ones.
    (
        "post",
        "/api/v1/contacts/{contact}/consent/",
        lambda n: {"purpose": "mail", "given": False},
        CHANGE,
    ),
    ("get", "/api/v1/affiliations/", None, READ),
    ("get", "/api/v1/affiliations/{affiliation}/", None, READ),
    (
        "post",
        "/api/v1/affiliations/",
        lambda n: {"contact": "{contact}", "organization": "{org}", "role": "expert"},
        CREATE,
    ),
    ("patch", "/api/v1/affiliations/{affiliation}/", lambda n: {"job_title": "Lead"}, CHANGE),
    ("post", "/api/v1/affiliations/{affiliation}/end/", lambda n: {}, CHANGE),
    ("get", "/api/v1/deletions/", None, READ),
    ("get", "/api/v1/meetings/", None, READ),
    (
        "post",
        "/api/v1/meetings/",
        lambda n: {
            "title": f"AECT {n}",
            "starts_at": "2030-05-01T09:00:00Z",
            "ends_at": "2030-05-01T17:00:00Z",
            "rsvp_deadline": "2030-04-01T17:00:00Z",
        },
        CREATE,
    ),
    ("get", "/api/v1/events/", None, READ),
    (
        "post",
        "/api/v1/events/",
        lambda n: {
            "title": f"Workshop {n}",
            "kind": "workshop",
            "starts_at": "2030-05-01T09:00:00Z",
            "ends_at": "2030-05-01T17:00:00Z",
            "rsvp_deadline": "2030-04-01T17:00:00Z",
        },
        CREATE,
    ),
    ("get", "/api/v1/invitations/", None, READ),
    ("get", "/api/v1/consultations/", None, READ),
    ("get", "/api/v1/follow-ups/", None, READ),
    ("post", "/api/v1/follow-ups/", lambda n: {"title": f"Call back {n}"}, CREATE),
    # Everything held about one person: scope privacy:read (tests/api/test_subject_access.py)
    # or members.export_subject_access; no other token, not even a restricted one.
    (
        "get",
        "/api/v1/contacts/{contact}/subject-access/",
        None,
        (401, 403, 200, 403, 403, 403, 401, 401),
    ),
    (
        "get",
        "/api/v1/contacts/987654/subject-access/",
        None,
        (401, 403, 404, 403, 403, 403, 401, 401),
    ),
    # An API client's own subscriptions: staff sessions have none.
    ("get", "/api/v1/webhooks/", None, (401, 403, 403, 200, 200, 200, 401, 401)),
    # Public: no credentials needed (nor checked); an unknown link is a 404 for everyone.
    ("get", "/api/v1/rsvp/no-such-token/", None, (404,) * 8),
    ("post", "/api/v1/rsvp/no-such-token/", lambda n: {"answer": "decline"}, (404,) * 8),
]

MATRIX = [
    pytest.param(method, url, body, caller, expected[i], id=f"{method.upper()} {url} {caller}")
    for method, url, body, expected in ENDPOINTS
    for i, caller in enumerate(CALLERS)
]


@pytest.mark.parametrize(("method", "url", "body", "caller", "expected"), MATRIX)
def test_permission_matrix(callers, method, url, body, caller, expected):
    organization = OrganizationFactory()
    contact = ContactFactory()
    affiliation = AffiliationFactory(organization=organization)
    ids = {
        "org": organization.pk,
        "contact": contact.pk,
        "affiliation": affiliation.pk,
        "n": 7,
    }
    data = None
    if body is not None:
        data = {
            k: v.format(**ids) if isinstance(v, str) and "{" in v else v for k, v in body(7).items()
        }
        if "contact" in data:
            data["contact"], data["organization"] = int(data["contact"]), int(data["organization"])
    response = getattr(callers[caller], method)(url.format(**ids), data, format="json")
    assert response.status_code == expected, response.content
    assert response["Content-Type"].startswith("application/json")
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize("caller", ["anonymous", "read_token", "write_token", "viewer"])
def test_unseen_or_missing_objects_are_404_for_everyone_who_may_read(callers, caller):
    response = callers[caller].get("/api/v1/contacts/987654/")
    assert response.status_code == (401 if caller == "anonymous" else 404)


def test_a_non_staff_session_is_not_let_in(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="member", is_staff=False))
    assert client.get("/api/v1/contacts/").status_code == 401


def test_unknown_paths_under_the_api_are_json_404(write_api):
    response = write_api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("caller", ["coordinator", "viewer"])
def test_staff_can_browse_the_api_with_their_session(callers, caller):
    affiliation = AffiliationFactory()
    for url in (
        "/api/v1/contacts/",
        f"/api/v1/contacts/{affiliation.contact_id}/",
        f"/api/v1/affiliations/{affiliation.pk}/",
        "/api/v1/deletions/",
    ):
        assert callers[caller].get(url, HTTP_ACCEPT="text/html").status_code == 200

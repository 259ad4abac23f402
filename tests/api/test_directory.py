"""The directory resources: filters, search, embedded roles, writes through the services,
upserts by external_ref, the error shape, and list query counts pinned at two page sizes."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from members.models import Contact, FocusArea, Organization
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# --- Query counts ---------------------------------------------------------------------------


def _directory(n: int) -> None:
    prevention = FocusArea.objects.get(code="prevention")
    for _i in range(n):
        organization = OrganizationFactory()
        organization.focus_areas.add(prevention)
        AffiliationFactory(organization=organization, role="head")
        AffiliationFactory(organization=organization, role="expert")


@pytest.mark.parametrize(
    "url", ["/api/v1/organizations/", "/api/v1/contacts/", "/api/v1/affiliations/"]
)
@pytest.mark.parametrize("mode", ["", "&sync=1"])
def test_list_query_count_does_not_grow_with_the_page(write_api, url, mode):
    _directory(60)
    write_api.get(url)  # the token's last use is written once a minute: not in the count

    counts = {}
    for size in (5, 100):
        with CaptureQueriesContext(connection) as queries:
            response = write_api.get(f"{url}?page_size={size}{mode}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, 60 if "organ" in url else 120)
        counts[size] = len(queries)
    assert counts[5] == counts[100]


def test_contact_list_query_count_is_pinned(write_api, django_assert_num_queries):
    _directory(30)
    write_api.get("/api/v1/contacts/")
    for size in (5, 100):
        # token, count, contacts — with their current roles and consent on PostgreSQL, in
        # one more query each elsewhere (api.selectors.contact_rows)
        with django_assert_num_queries(3 if connection.vendor == "postgresql" else 5):
            write_api.get(f"/api/v1/contacts/?page_size={size}")


# --- Filters and search ---------------------------------------------------------------------


def test_organization_filters(write_api):
    target = OrganizationFactory(name="Vienna Shelter", country="AT", kind="ngo")
    target.focus_areas.add(FocusArea.objects.get(code="child_trafficking"))
    Organization.objects.filter(pk=target.pk).update(takes_part_in_aect=True)
    other = OrganizationFactory(country="FR", kind="academia", status="prospective")

    assert ids(write_api.get("/api/v1/organizations/?country=at")) == [target.pk]
    assert ids(write_api.get("/api/v1/organizations/?kind=academia")) == [other.pk]
    assert ids(write_api.get("/api/v1/organizations/?status=prospective")) == [other.pk]
    assert ids(write_api.get("/api/v1/organizations/?focus_area=child_trafficking")) == [target.pk]
    assert ids(write_api.get("/api/v1/organizations/?takes_part_in_aect=true")) == [target.pk]
    assert ids(write_api.get("/api/v1/organizations/?search=shelter")) == [target.pk]
    ordered = ids(write_api.get("/api/v1/organizations/?ordering=-name"))
    assert ordered == sorted(ordered, key=lambda pk: Organization.objects.get(pk=pk).name)[::-1]


def test_contact_filters_and_embedded_current_roles(write_api):
    organization = OrganizationFactory(name="Alpha")
    focal = AffiliationFactory(organization=organization, role="focal_point").contact
    AffiliationFactory(
        contact=focal, role="head", end_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    expert = AffiliationFactory(organization=organization, role="expert").contact
    ContactFactory(preferred_language="ru", email="olga@example.org")

    url = f"/api/v1/contacts/?organization={organization.pk}"
    assert sorted(ids(write_api.get(url))) == sorted([focal.pk, expert.pk])
    assert ids(write_api.get(f"{url}&role=focal_point")) == [focal.pk]
    assert len(ids(write_api.get("/api/v1/contacts/?language=ru"))) == 1
    assert len(ids(write_api.get("/api/v1/contacts/?search=olga@"))) == 1

    row = write_api.get(f"/api/v1/contacts/{focal.pk}/").json()
    assert [(r["organization"]["name"], r["role"]) for r in row["current_roles"]] == [
        ("Alpha", "focal_point")
    ]


def test_affiliation_filters(write_api):
    current = AffiliationFactory()
    ended = AffiliationFactory(end_date=timezone.localdate() - datetime.timedelta(days=3))
    assert ids(write_api.get("/api/v1/affiliations/?current=true")) == [current.pk]
    assert ids(write_api.get("/api/v1/affiliations/?current=false")) == [ended.pk]
    url = f"/api/v1/affiliations/?contact={ended.contact_id}"
    assert ids(write_api.get(url)) == [ended.pk]


def test_updated_since_on_every_list(write_api):
    old = OrganizationFactory()
    Organization.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=2)
    )
    new = OrganizationFactory()
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    response = write_api.get("/api/v1/organizations/", {"updated_since": since})
    assert ids(response) == [new.pk]
    for resource in ("contacts", "affiliations", "deletions"):
        assert write_api.get(f"/api/v1/{resource}/", {"updated_since": since}).status_code == 200


def test_bad_filter_values_are_400_with_field_errors(write_api):
    response = write_api.get("/api/v1/contacts/?updated_since=yesterday&organization=x")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"updated_since", "organization"}


def test_page_size_is_capped(write_api, settings):
    settings.API_MAX_PAGE_SIZE = 3
    OrganizationFactory.create_batch(5)
    assert len(ids(write_api.get("/api/v1/organizations/?page_size=500"))) == 3


# --- Writes -----------------------------------------------------------------------------


def test_create_organization_through_the_service(write_api):
    response = write_api.post(
        "/api/v1/organizations/",
        {
            "name": "  New Partner ",
            "kind": "international",
            "status": "active",
            "focus_areas": ["prevention", "supply_chains"],
            "external_ref": "crm-42",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "New Partner"
    assert body["status"] == "active"
    assert body["member_since"]
    assert sorted(body["focus_areas"]) == ["prevention", "supply_chains"]
    assert response["Location"].endswith(f"/api/v1/organizations/{body['id']}/")
    organization = Organization.objects.get(pk=body["id"])
    assert organization.membership_changes.count() == 1
    assert organization.history.count() >= 1


def test_change_status_returns_the_fresh_organisation_or_a_clear_error(write_api):
    organization = OrganizationFactory(status="active")
    url = f"/api/v1/organizations/{organization.pk}/change-status/"

    refused = write_api.post(url, {"to_status": "withdrawn"}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.json()["errors"]

    done = write_api.post(url, {"to_status": "withdrawn", "reason": "Closed"}, format="json")
    assert done.status_code == 200
    assert done.json()["status"] == "withdrawn"
    assert done.json()["left_on"]


def test_validation_errors_are_400_with_field_errors_never_500(write_api):
    taken = ContactFactory(email="taken@example.org")
    cases = [
        ("/api/v1/organizations/", {"name": "", "kind": "nope"}, {"name", "kind"}),
        ("/api/v1/organizations/", {"name": "X", "kind": "ngo", "focus_areas": ["x"]}, None),
        ("/api/v1/contacts/", {"given_name": "A", "family_name": "B", "email": "x"}, {"email"}),
        (
            "/api/v1/contacts/",
            {"given_name": "A", "family_name": "B", "email": "TAKEN@example.org"},
            {"email"},
        ),
        ("/api/v1/contacts/", {"given_name": "A", "family_name": "B", "phone": "12"}, {"phone"}),
        (
            "/api/v1/contacts/",
            {"given_name": "A", "family_name": "B", "time_zone": "Mars/Base"},
            {"time_zone"},
        ),
        ("/api/v1/affiliations/", {"contact": 999, "organization": "x", "role": "expert"}, None),
    ]
    for url, body, fields in cases:
        response = write_api.post(url, body, format="json")
        assert response.status_code == 400, (body, response.content)
        payload = response.json()
        assert payload["code"] == "invalid"
        assert payload["detail"]
        if fields:
            assert fields <= set(payload["errors"]), payload
    assert Contact.objects.exclude(pk=taken.pk).count() == 0

    malformed = write_api.post("/api/v1/contacts/", "{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "parse_error"


def test_a_second_current_focal_point_is_refused_on_role(write_api):
    organization = OrganizationFactory()
    AffiliationFactory(organization=organization, role="focal_point")
    contact = ContactFactory()
    response = write_api.post(
        "/api/v1/affiliations/",
        {"contact": contact.pk, "organization": organization.pk, "role": "focal_point"},
        format="json",
    )
    assert response.status_code == 400
    assert "role" in response.json()["errors"]


def test_end_an_affiliation(write_api):
    affiliation = AffiliationFactory()
    response = write_api.post(f"/api/v1/affiliations/{affiliation.pk}/end/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["end_date"] == timezone.localdate().isoformat()
    assert response.json()["is_current"] is False
    again = write_api.post(f"/api/v1/affiliations/{affiliation.pk}/end/", {}, format="json")
    assert again.status_code == 400


# --- external_ref ---------------------------------------------------------------------------


def test_upsert_contact_by_external_ref(write_api):
    url = "/api/v1/contacts/by-ref/partner-crm-17/"
    body = {"given_name": "Ines", "family_name": "Novak", "email": "ines@example.org"}

    created = write_api.put(url, body, format="json")
    assert created.status_code == 201, created.content
    contact_id = created.json()["id"]
    assert created.json()["external_ref"] == "partner-crm-17"

    updated = write_api.put(url, {**body, "family_name": "Novak-Horvat"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["id"] == contact_id
    assert updated.json()["family_name"] == "Novak-Horvat"
    assert Contact.objects.count() == 1

    listed = write_api.get("/api/v1/contacts/?external_ref=partner-crm-17")
    assert ids(listed) == [contact_id]


def test_upsert_organization_by_external_ref(write_api):
    url = "/api/v1/organizations/by-ref/org-9/"
    first = write_api.put(url, {"name": "Nine", "kind": "ngo"}, format="json")
    second = write_api.put(url, {"name": "Nine Renamed", "kind": "ngo"}, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert Organization.objects.get().name == "Nine Renamed"


def test_external_ref_is_unique_and_a_clash_is_a_field_error(write_api):
    ContactFactory(external_ref="dup")
    other = ContactFactory()
    clash = write_api.patch(f"/api/v1/contacts/{other.pk}/", {"external_ref": "dup"}, format="json")
    assert clash.status_code == 400
    assert "external_ref" in clash.json()["errors"]
    created = write_api.post(
        "/api/v1/contacts/",
        {"given_name": "A", "family_name": "B", "external_ref": "dup"},
        format="json",
    )
    assert created.status_code == 400
    assert "external_ref" in created.json()["errors"]
    cleared = write_api.patch(f"/api/v1/contacts/{other.pk}/", {"external_ref": ""}, format="json")
    assert cleared.status_code == 200
    assert cleared.json()["external_ref"] is None


def test_an_integrity_error_is_a_409_with_the_field_not_a_500(write_api, monkeypatch):
    # Two requests racing for one reference: the service's check passed for both, the
    # database refuses the second.
    from api import services as api_services

    ContactFactory(external_ref="race")
    contact = ContactFactory()
    monkeypatch.setattr(
        api_services,
        "_save",
        lambda instance, acting_user: type(instance).save(instance),
    )
    from django.db.models.query import QuerySet

    monkeypatch.setattr(QuerySet, "exists", lambda self: False)
    response = write_api.patch(
        f"/api/v1/contacts/{contact.pk}/", {"external_ref": "race"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "external_ref" in response.json()["errors"]


def test_a_bad_host_header_is_a_json_400_under_the_api(client):
    """Found by schemathesis: an empty Host header was refused with Django's HTML page."""
    response = client.get("/api/v1/organizations/", HTTP_HOST="")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "bad_request"
    page = client.get("/admin/", HTTP_HOST="")
    assert page.status_code == 400
    assert page["Content-Type"].startswith("text/html")

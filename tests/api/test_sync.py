"""The sync recipe: keyset pages stay complete and non-overlapping while rows are inserted and
changed between requests, and deletions (including merges) appear in the deletion feed."""

import pytest
from django.utils import timezone

from api.models import Tombstone
from members import services
from members.models import Contact
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def _sync(api, url: str, cursor: str | None = None, between=None) -> tuple[list[dict], str]:
    """Follow ``next`` to the end, calling ``between(page_number)`` after each page."""
    seen: list[dict] = []
    params = f"sync=1&page_size=4{f'&cursor={cursor}' if cursor else ''}"
    next_url = f"{url}?{params}"
    page = 0
    while next_url:
        body = api.get(next_url).json()
        seen.extend(body["results"])
        assert body["count"] is None
        assert body["previous"] is None
        cursor, next_url = body["cursor"], body["next"]
        page += 1
        if between and next_url:
            between(page)
    return seen, cursor


def test_sync_pages_are_complete_and_ordered_while_rows_change(write_api):
    originals = ContactFactory.create_batch(15)
    inserted: list[Contact] = []
    changed: list[Contact] = []

    def between(page: int) -> None:
        inserted.append(ContactFactory())
        # Change a row the client has already read and one it has not read yet.
        for contact in (originals[0], originals[-1]):
            services.contact_update(contact=contact, notes=f"page {page}", acting_user=None)
            changed.append(contact)

    rows, cursor = _sync(write_api, "/api/v1/contacts/", between=between)

    ids = [row["id"] for row in rows]
    keys = [(row["updated_at"], row["id"]) for row in rows]
    assert keys == sorted(keys)  # strictly ascending: no row twice at one version
    assert len(set(keys)) == len(keys)
    # Complete: every row that existed or was inserted meanwhile is there...
    assert {c.pk for c in originals + inserted} <= set(ids)
    # ...and a row appears again only because it changed after it was read.
    repeated = {pk for pk in ids if ids.count(pk) > 1}
    assert repeated <= {c.pk for c in changed}
    # The last version of every row is the one the client ends with.
    latest = {row["id"]: row for row in rows}
    for contact in Contact.objects.all():
        assert (
            latest[contact.pk]["updated_at"]
            == contact.updated_at.astimezone(timezone.get_current_timezone()).isoformat()
        )

    # Later: resuming from the stored cursor gives exactly what changed since.
    assert _sync(write_api, "/api/v1/contacts/", cursor)[0] == []
    fresh = ContactFactory()
    services.contact_update(contact=originals[3], salutation="Dr", acting_user=None)
    again, _cursor = _sync(write_api, "/api/v1/contacts/", cursor)
    assert [row["id"] for row in again] == [fresh.pk, originals[3].pk]


def test_an_invalid_cursor_is_a_400(write_api):
    response = write_api.get("/api/v1/contacts/?cursor=not-a-cursor")
    assert response.status_code == 400
    assert "cursor" in response.json()["errors"]


def test_deletions_feed_lists_deleted_and_merged_rows(write_api):
    since = timezone.now().isoformat()
    organization = OrganizationFactory(external_ref="org-x")
    affiliation = AffiliationFactory(organization=organization)
    source = ContactFactory(external_ref="dup-1")
    target = ContactFactory()
    AffiliationFactory(contact=source, organization=OrganizationFactory())

    services.contact_merge(source=source, target=target, acting_user=None)
    organization_id, affiliation_id = organization.pk, affiliation.pk
    organization.delete()  # cascades to its affiliation

    response = write_api.get("/api/v1/deletions/", {"since": since})
    assert response.status_code == 200
    rows = {(r["object_type"], r["object_id"]): r for r in response.json()["results"]}
    merged = rows[("contact", source.pk)]
    assert merged["reason"] == "merged"
    assert merged["replaced_by_id"] == target.pk
    assert merged["external_ref"] == "dup-1"
    assert rows[("organization", organization_id)]["external_ref"] == "org-x"
    assert rows[("affiliation", affiliation_id)]["reason"] == "deleted"

    only_contacts = write_api.get("/api/v1/deletions/?object_type=contact").json()["results"]
    assert [r["object_id"] for r in only_contacts] == [source.pk]
    later = write_api.get("/api/v1/deletions/", {"since": timezone.now().isoformat()})
    assert later.json()["results"] == []


def test_deletions_in_sync_mode_page_by_deletion_time(write_api):
    for contact in ContactFactory.create_batch(6):
        contact.delete()
    rows, _cursor = _sync(write_api, "/api/v1/deletions/")
    assert len(rows) == 6 == Tombstone.objects.count()
    assert len({r["id"] for r in rows}) == 6

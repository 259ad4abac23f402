"""The sync recipe: keyset pages stay complete and non-overlapping while rows are inserted and
changed between requests, and deletions (including merges) appear in the deletion feed."""

import contextlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from api.models import Tombstone
from api.pagination import encode_cursor
from members import services
from members.models import Contact
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def override_enable_seqscan(db):
    """A handful of rows is cheaper to scan than to look up: make the planner show the plan
    it picks for a large table."""
    db.execute("SET enable_seqscan = off")
    try:
        yield
    finally:
        db.execute("SET enable_seqscan = on")


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


def test_rows_sharing_the_cursor_moment_are_neither_skipped_nor_repeated(read_api):
    moment = timezone.now()
    contacts = ContactFactory.create_batch(9)
    Contact.objects.filter(pk__in=[c.pk for c in contacts]).update(updated_at=moment)

    rows, _cursor = _sync(read_api, "/api/v1/contacts/")

    ids = [row["id"] for row in rows]
    assert ids == sorted(c.pk for c in contacts)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL plans")
def test_a_deep_sync_page_starts_the_index_at_the_cursor(read_api):
    """The keyset condition is an index condition, not a filter over every row before the
    cursor (a page after 90,000 rows read 90,000 rows: bench/api_list.py)."""
    ContactFactory.create_batch(5)
    last = Contact.objects.order_by("updated_at", "pk").last()
    cursor = encode_cursor(last.updated_at, last.pk)

    with CaptureQueriesContext(connection) as captured:
        assert read_api.get(f"/api/v1/contacts/?cursor={cursor}").status_code == 200
    page = next(q["sql"] for q in captured if 'FROM "members_contact"' in q["sql"])
    with connection.cursor() as db, override_enable_seqscan(db):
        db.execute(f"EXPLAIN {page}")
        plan = "\n".join(row[0] for row in db.fetchall())

    assert "Index Cond: (updated_at >=" in plan

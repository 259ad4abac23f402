"""The activity view: every change to every record, newest first, with who made it, what
changed, filters, pages, and only what the reader may see."""

import datetime

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from api.services import api_client_issue_token
from crm.audit import acting_as
from crm.roles import COORDINATORS, VIEWERS, sync_roles
from meetings import services as meeting_services
from meetings.models import Consultation
from members.models import Organization
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    EventFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/admin/activity/"


@pytest.fixture
def coordinator(db):
    sync_roles()
    user = UserFactory(username="coord", first_name="Cora", last_name="Ordinator", is_staff=True)
    user.groups.add(Group.objects.get(name=COORDINATORS))
    return user


@pytest.fixture
def office(client, coordinator):
    client.force_login(coordinator)
    return client


def _rename(organization: Organization, name: str, user=None) -> None:
    organization.name = name
    organization._history_user = user
    organization.save()


def test_the_url_is_named_and_viewers_are_refused(client):
    assert reverse("activity") == URL
    sync_roles()
    viewer = UserFactory(is_staff=True)
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    client.force_login(viewer)
    assert client.get(URL).status_code == 403


def test_lists_every_change_newest_first_with_who_and_the_fields(office, coordinator):
    organization = OrganizationFactory(name="Old Name")
    _rename(organization, "New Name", coordinator)
    client_row, token = api_client_issue_token(name="sync-bot", scope="write", acting_user=None)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    contact = ContactFactory(given_name="Ana", family_name="Api")
    assert (
        api.patch(f"/api/v1/contacts/{contact.pk}/", {"given_name": "Anna"}, format="json")
    ).status_code == 200
    invitation = InvitationFactory(contact__given_name="Ivo", contact__family_name="Invitee")
    with acting_as(invitation=invitation):
        invitation.dietary = "Vegan"
        invitation.save()

    response = office.get(URL)
    assert response.status_code == 200
    rows = response.context["rows"]
    # Newest first: the RSVP answer, then the API change, ..., the first creation last.
    assert rows[0].label == "meetings.invitation"
    assert rows[0].who_kind == "invitation"
    assert "Ivo Invitee" in rows[0].who
    assert [(c.old, c.new) for c in rows[0].changes] == [("—", "Vegan")]
    api_row = next(r for r in rows if r.label == "members.contact" and r.history_type == "~")
    assert api_row.who == "API client sync-bot"
    assert [(c.old, c.new) for c in api_row.changes] == [("Ana", "Anna")]
    renamed = next(r for r in rows if r.label == "members.organization" and r.history_type == "~")
    assert renamed.who == "Cora Ordinator (coord)"
    assert ("Old Name", "New Name") in [(c.old, c.new) for c in renamed.changes]
    assert renamed.object_url == reverse(
        "admin:members_organization_change", args=[organization.pk]
    )
    created = next(r for r in rows if r.label == "members.organization" and r.history_type == "+")
    assert created.who_kind == ""
    assert created.changes == []
    dates = [r.when for r in rows]
    assert dates == sorted(dates, reverse=True)
    html = response.content.decode()
    assert "New Name" in html
    assert "API client sync-bot" in html
    assert f'href="?api_client={client_row.pk}"' in html


def test_a_deletion_and_a_gathering_link_to_the_right_admin(office, coordinator):
    contact = ContactFactory(given_name="Gone", family_name="Away")
    contact_pk = contact.pk
    contact.delete()
    event = EventFactory(title="Summer School")
    response = office.get(URL)
    rows = response.context["rows"]
    deleted = next(r for r in rows if r.object_id == contact_pk and r.history_type == "-")
    assert deleted.object_label == "Gone Away"
    assert deleted.object_url == ""
    event_row = next(r for r in rows if r.label == "events.event")
    assert event_row.object_url == reverse("admin:events_event_change", args=[event.pk])


def test_filters(office, coordinator):
    other = UserFactory(username="other", is_staff=True)
    first = OrganizationFactory(name="First")
    second = OrganizationFactory(name="Second")
    _rename(first, "First renamed", coordinator)
    _rename(second, "Second renamed", other)
    ContactFactory()

    def labels(**params):
        response = office.get(URL, params)
        assert response.status_code == 200, response.context["form"].errors
        return [(r.label, r.object_id, r.history_type) for r in response.context["rows"]]

    assert labels(user=other.pk) == [("members.organization", second.pk, "~")]
    assert labels(type="members.organization", object=first.pk) == [
        ("members.organization", first.pk, "~"),
        ("members.organization", first.pk, "+"),
    ]
    assert {label for label, *_rest in labels(type="members.contact")} == {"members.contact"}
    today = timezone.localdate()
    # The consent texts' first versions are seeded by a migration (today, on a test database).
    todays = labels(date_from=today.isoformat(), date_to=today.isoformat())
    assert len([row for row in todays if row[0] != "members.consenttext"]) == 5
    assert labels(date_from=(today + datetime.timedelta(days=1)).isoformat()) == []
    assert labels(date_to=(today - datetime.timedelta(days=1)).isoformat()) == []
    client_row, _token = api_client_issue_token(name="quiet", scope="read", acting_user=None)
    assert labels(api_client=client_row.pk) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"user": "abc"}, "Select a valid choice"),
        ({"type": "members.nothing"}, "Select a valid choice"),
        ({"object": "12"}, "Choose the object type too."),
        ({"type": "members.contact", "object": "-3"}, "greater than or equal to 1"),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2026-02-02", "date_to": "2026-01-01"}, "The end date is before"),
        ({"per_page": "100000"}, "less than or equal to 200"),
    ],
)
def test_bad_filters_are_a_clear_message_not_a_500(office, params, message):
    response = office.get(URL, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert response.context["rows"] == []


def test_a_page_beyond_the_last_shows_the_last(office):
    OrganizationFactory()
    response = office.get(URL, {"page": "999"})
    assert response.status_code == 200
    assert response.context["page"].number == 1
    assert office.get(URL, {"page": "x"}).status_code == 200


def test_restricted_consultations_only_for_those_who_may_see_them(client, coordinator):
    organization = OrganizationFactory()
    secret = meeting_services.consultation_create(
        acting_user=coordinator,
        organizations=[organization],
        kind="multi",
        channel="video",
        title="Behind closed doors",
        held_on=timezone.localdate(),
        confidentiality=Consultation.Confidentiality.RESTRICTED,
    )
    meeting_services.followup_create(
        acting_user=coordinator, title="Secret follow-up", consultation=secret
    )
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_activity", "view_consultation", "view_followup"]
        )
    )
    client.force_login(reader)
    html = client.get(URL).content.decode()
    assert "Behind closed doors" not in html
    assert "Secret follow-up" not in html
    # Models the reader may not view are not offered or shown either.
    assert "members.organization" not in html

    client.force_login(coordinator)
    html = client.get(URL).content.decode()
    assert "Behind closed doors" in html
    assert "Secret follow-up" in html


def _seed(count: int) -> None:
    """Changes of many kinds: organisations, contacts, affiliations, meetings, invitations,
    with users, API clients and invitations acting."""
    user = UserFactory()
    client_row, _token = api_client_issue_token(name=f"bot{count}", scope="read", acting_user=None)
    for i in range(count):
        organization = OrganizationFactory()
        _rename(organization, f"Renamed {i}", user)
        affiliation = AffiliationFactory(organization=organization)
        with acting_as(api_client=client_row):
            affiliation.contact.given_name = f"Changed {i}"
            affiliation.contact.save()
        invitation = InvitationFactory(gathering=MeetingFactory(), contact=affiliation.contact)
        with acting_as(invitation=invitation):
            invitation.note = f"Note {i}"
            invitation.save()


@pytest.mark.parametrize("per_page", [5, 40])
def test_the_query_count_does_not_grow_with_the_page(
    office, django_assert_max_num_queries, per_page
):
    _seed(6)
    # A count, the union, and three queries per model on the page (its rows, their previous
    # versions, the objects' labels): 18 at 5 rows, 24 at 40 (more models on the page, the
    # consent texts seeded by a migration among them). Bounded by the models, not the rows.
    with django_assert_max_num_queries(25):
        response = office.get(URL, {"per_page": per_page})
    assert response.status_code == 200
    assert len(response.context["rows"]) == per_page


def test_each_history_page_links_to_the_activity_of_its_record(office, client):
    organization = OrganizationFactory()
    url = reverse("admin:members_organization_history", args=[organization.pk])
    html = office.get(url).content.decode()
    assert f"{URL}?type=members.organization&amp;object={organization.pk}" in html
    assert html.count('id="activity-link"') == 1

    viewer = UserFactory(is_staff=True)
    viewer.groups.add(Group.objects.get(name=VIEWERS))
    client.force_login(viewer)
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="activity-link"' not in response.content.decode()


def test_the_object_filter_of_a_meeting_includes_its_gathering_rows(office, coordinator):
    from meetings.models import Gathering

    meeting = MeetingFactory(title="Spring meeting")
    gathering = Gathering.objects.get(pk=meeting.pk)
    gathering.venue = "Hofburg"
    gathering.save()
    response = office.get(URL, {"type": "meetings.meeting", "object": meeting.pk})
    rows = response.context["rows"]
    assert {r.label for r in rows} == {"meetings.meeting", "meetings.gathering"}
    moved = next(r for r in rows if r.label == "meetings.gathering")
    assert moved.object_url == reverse("admin:meetings_meeting_change", args=[meeting.pk])

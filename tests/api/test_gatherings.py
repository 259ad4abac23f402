"""Meetings, events and invitations over the API: filters, embedded counts and names, the
life-cycle and answer steps through the services (refusals as 400/409, never 500), and list
query counts that do not grow with the page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from events.models import Event
from meetings.models import Gathering, Invitation, Meeting
from tests.api.test_permissions import CALLERS, CHANGE, READ
from tests.factories import EventFactory, InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


# --- Query counts ---------------------------------------------------------------------------


def _gatherings(n: int) -> None:
    for _i in range(n):
        meeting = MeetingFactory()
        event = EventFactory(capacity=None)
        for gathering in (meeting, event):
            InvitationFactory(gathering=gathering, status=Invitation.Status.ACCEPTED)
            InvitationFactory(gathering=gathering)
            gathering.agenda_items.create(title="Welcome")
        event.sessions.create(title="Opening", starts_at=event.starts_at)


@pytest.mark.parametrize("url", ["/api/v1/meetings/", "/api/v1/events/", "/api/v1/invitations/"])
@pytest.mark.parametrize("mode", ["", "&sync=1"])
def test_list_query_count_does_not_grow_with_the_page(write_api, url, mode):
    _gatherings(55)
    write_api.get(url)  # the token's last use is written once a minute: not in the count

    counts = {}
    for size in (5, 100):
        with CaptureQueriesContext(connection) as queries:
            response = write_api.get(f"{url}?page_size={size}{mode}")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, 220 if "invit" in url else 55)
        counts[size] = len(queries)
    assert counts[5] == counts[100]


# --- Meetings and events --------------------------------------------------------------------


def test_meeting_embeds_answer_counts_and_agenda(write_api):
    meeting = MeetingFactory()
    meeting.agenda_items.create(title="Opening", position=1)
    InvitationFactory(gathering=meeting, status="accepted", mode="online")
    InvitationFactory(gathering=meeting, status="accepted", mode="in_person")
    InvitationFactory(gathering=meeting, status="declined")
    InvitationFactory(gathering=meeting)
    InvitationFactory(gathering=EventFactory(), status="accepted")  # not counted here

    body = write_api.get(f"/api/v1/meetings/{meeting.pk}/").json()
    assert body["answers"] == {
        "invited": 4,
        "pending": 1,
        "accepted": 2,
        "in_person": 1,
        "online": 1,
        "declined": 1,
        "waiting": 0,
        "replaced": 0,
        "attended": 0,
    }
    assert [item["title"] for item in body["agenda"]] == ["Opening"]
    assert body["time_zone"] == "Europe/Vienna"


def test_gathering_filters(write_api):
    soon = MeetingFactory(format="online")
    later = MeetingFactory(
        starts_at=timezone.now() + datetime.timedelta(days=90),
        ends_at=timezone.now() + datetime.timedelta(days=90, hours=3),
        status=Gathering.Status.DRAFT,
    )
    webinar = EventFactory(kind=Event.Kind.WEBINAR, format="online")
    EventFactory()

    assert ids(write_api.get("/api/v1/meetings/?status=draft")) == [later.pk]
    assert ids(write_api.get("/api/v1/meetings/?gathering_format=online")) == [soon.pk]
    cut = _iso(timezone.now() + datetime.timedelta(days=60))
    assert ids(write_api.get("/api/v1/meetings/", {"starts_after": cut})) == [later.pk]
    assert ids(write_api.get("/api/v1/meetings/", {"starts_before": cut})) == [soon.pk]
    assert ids(write_api.get("/api/v1/events/?kind=webinar")) == [webinar.pk]
    # Meetings and events are separate collections.
    assert webinar.pk not in ids(write_api.get("/api/v1/meetings/"))
    assert write_api.get(f"/api/v1/meetings/{webinar.pk}/").status_code == 404
    assert write_api.get("/api/v1/events/?updated_since=not-a-date").status_code == 400


def _meeting_body(**extra) -> dict:
    start = timezone.now() + datetime.timedelta(days=40)
    return {
        "title": "AECT 60",
        "number": 60,
        "starts_at": _iso(start),
        "ends_at": _iso(start + datetime.timedelta(hours=6)),
        "rsvp_deadline": _iso(start - datetime.timedelta(days=10)),
        "format": "hybrid",
        **extra,
    }


def test_create_and_change_a_meeting_through_the_services(write_api):
    response = write_api.post("/api/v1/meetings/", _meeting_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["answers"]["invited"] == 0
    meeting = Meeting.objects.get(pk=body["id"])
    assert meeting.reminder_rules.count() == 3  # the service's default rules

    response = write_api.patch(
        f"/api/v1/meetings/{meeting.pk}/", {"venue": "Online only"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["venue"] == "Online only"


def test_invalid_gatherings_are_400(write_api):
    late = _meeting_body()
    late["rsvp_deadline"] = _iso(timezone.now() + datetime.timedelta(days=50))
    response = write_api.post("/api/v1/meetings/", late, format="json")
    assert response.status_code == 400
    assert "rsvp_deadline" in response.json()["errors"]

    backwards = _meeting_body()
    backwards["ends_at"] = _iso(timezone.now())
    assert write_api.post("/api/v1/meetings/", backwards, format="json").status_code == 400

    meeting = MeetingFactory()
    response = write_api.patch(
        f"/api/v1/meetings/{meeting.pk}/", {"ends_at": _iso(timezone.now())}, format="json"
    )
    assert response.status_code == 400


def test_create_an_event(write_api):
    body = {**_meeting_body(), "kind": "workshop", "capacity": 20}
    del body["number"]
    response = write_api.post("/api/v1/events/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "workshop"
    assert response.json()["waiting_list"] is True  # the service's default with a capacity


def test_life_cycle_steps_and_their_refusals(write_api):
    meeting = MeetingFactory(status=Gathering.Status.DRAFT)
    InvitationFactory(gathering=meeting, sent_at=None)
    url = f"/api/v1/meetings/{meeting.pk}"

    opened = write_api.post(f"{url}/open/")
    assert opened.status_code == 200, opened.content
    assert opened.json()["status"] == "open"
    assert Invitation.objects.get(gathering=meeting).sent_at is not None

    again = write_api.post(f"{url}/open/")
    assert again.status_code == 400  # the service names the field: status
    assert again.json()["errors"]["status"]

    held = write_api.post(f"{url}/mark-held/")
    assert held.status_code == 409  # not started yet
    assert "started" in held.json()["detail"]

    assert write_api.post(f"{url}/close/").json()["status"] == "closed"
    cancelled = write_api.post(f"{url}/cancel/", {"reason": "Venue flooded"}, format="json")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"


def test_mark_held_once_started(write_api):
    started = timezone.now() - datetime.timedelta(hours=1)
    event = EventFactory(
        starts_at=started,
        ends_at=started + datetime.timedelta(hours=5),
        rsvp_deadline=started - datetime.timedelta(days=1),
        status=Gathering.Status.CLOSED,
    )
    response = write_api.post(f"/api/v1/events/{event.pk}/mark-held/")
    assert response.status_code == 200
    assert response.json()["status"] == "held"


# --- Invitations ----------------------------------------------------------------------------


def test_invitations_filter_by_meeting_or_event_and_embed_names(write_api):
    meeting = MeetingFactory()
    event = EventFactory()
    to_meeting = InvitationFactory(gathering=meeting, status="accepted", mode="in_person")
    other = InvitationFactory(gathering=meeting, attendance="attended")
    to_event = InvitationFactory(gathering=event, organization=to_meeting.organization)

    assert set(ids(write_api.get(f"/api/v1/invitations/?meeting={meeting.pk}"))) == {
        to_meeting.pk,
        other.pk,
    }
    assert ids(write_api.get(f"/api/v1/invitations/?event={event.pk}")) == [to_event.pk]
    # An event's id is not a meeting's.
    assert ids(write_api.get(f"/api/v1/invitations/?meeting={event.pk}")) == []
    assert ids(write_api.get("/api/v1/invitations/?status=accepted")) == [to_meeting.pk]
    assert ids(write_api.get("/api/v1/invitations/?attendance=attended")) == [other.pk]
    assert set(
        ids(write_api.get(f"/api/v1/invitations/?organization={to_meeting.organization_id}"))
    ) == {to_meeting.pk, to_event.pk}
    assert ids(write_api.get(f"/api/v1/invitations/?contact={other.contact_id}")) == [other.pk]

    row = write_api.get(f"/api/v1/invitations/{to_meeting.pk}/").json()
    assert row["meeting"] == meeting.pk
    assert row["event"] is None
    assert row["contact"] == {
        "id": to_meeting.contact_id,
        "full_name": to_meeting.contact.full_name,
    }
    assert row["organization"]["name"] == to_meeting.organization.name
    assert write_api.get(f"/api/v1/invitations/{to_event.pk}/").json()["event"] == event.pk


def test_the_rsvp_token_is_never_shown(write_api, callers):
    invitation = InvitationFactory()
    for caller in ("write_token", "restricted_token", "coordinator"):
        raw = callers[caller].get(f"/api/v1/invitations/{invitation.pk}/").content.decode()
        assert invitation.token not in raw
        listed = callers[caller].get("/api/v1/invitations/").content.decode()
        assert invitation.token not in listed


def test_respond_for_the_invitee(write_api):
    invitation = InvitationFactory(gathering=EventFactory(max_plus_ones=1, capacity=None))
    response = write_api.post(
        f"/api/v1/invitations/{invitation.pk}/respond/",
        {
            "answer": "in_person",
            "dietary": "vegetarian",
            "note": "Arriving late",
            "plus_ones": [{"name": "Ana Guest", "email": "ana@example.org"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert body["mode"] == "in_person"
    assert body["dietary"] == "vegetarian"
    assert body["plus_ones"] == [{"name": "Ana Guest", "email": "ana@example.org"}]

    too_many = write_api.post(
        f"/api/v1/invitations/{invitation.pk}/respond/",
        {"answer": "in_person", "plus_ones": [{"name": "A"}, {"name": "B"}]},
        format="json",
    )
    assert too_many.status_code == 400
    assert "plus_ones" in too_many.json()["errors"]
    assert (
        write_api.post(
            f"/api/v1/invitations/{invitation.pk}/respond/", {"answer": "maybe"}, format="json"
        ).status_code
        == 400
    )


def test_the_office_may_answer_after_the_deadline_but_not_for_a_cancelled_gathering(write_api):
    meeting = MeetingFactory(status=Gathering.Status.CLOSED)
    invitation = InvitationFactory(gathering=meeting)
    url = f"/api/v1/invitations/{invitation.pk}/respond/"
    assert write_api.post(url, {"answer": "decline"}, format="json").status_code == 200

    Gathering.objects.filter(pk=meeting.pk).update(status=Gathering.Status.CANCELLED)
    refused = write_api.post(url, {"answer": "online"}, format="json")
    assert refused.status_code == 409
    assert "cancelled" in refused.json()["detail"]


def test_record_attendance(write_api):
    upcoming = InvitationFactory(status="accepted", mode="in_person")
    refused = write_api.post(
        f"/api/v1/invitations/{upcoming.pk}/record-attendance/",
        {"attendance": "attended"},
        format="json",
    )
    assert refused.status_code == 409

    started = timezone.now() - datetime.timedelta(hours=2)
    past = MeetingFactory(
        starts_at=started,
        ends_at=started + datetime.timedelta(hours=5),
        rsvp_deadline=started - datetime.timedelta(days=3),
        status=Gathering.Status.CLOSED,
    )
    invitation = InvitationFactory(gathering=past, status="accepted", mode="in_person")
    url = f"/api/v1/invitations/{invitation.pk}/record-attendance/"
    response = write_api.post(url, {"attendance": "attended"}, format="json")
    assert response.status_code == 200
    assert response.json()["attendance"] == "attended"
    assert write_api.post(url, {"attendance": "perhaps"}, format="json").status_code == 400


def test_promote_over_capacity_needs_a_reason(write_api):
    event = EventFactory(capacity=1)
    InvitationFactory(gathering=event, status="accepted", mode="in_person")
    waiting = InvitationFactory(
        gathering=event, status="waiting", mode="in_person", waiting_since=timezone.now()
    )
    url = f"/api/v1/invitations/{waiting.pk}/promote/"
    assert write_api.post(url, {}, format="json").status_code == 400
    blank = write_api.post(url, {"reason": "   "}, format="json")
    assert blank.status_code == 400

    response = write_api.post(url, {"reason": "Keynote speaker"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "accepted"
    assert response.json()["admitted_over_capacity"] is True

    replaced = InvitationFactory(gathering=event, status="replaced")
    refused = write_api.post(
        f"/api/v1/invitations/{replaced.pk}/promote/", {"reason": "x"}, format="json"
    )
    assert refused.status_code == 409


def test_read_tokens_cannot_take_steps(read_api):
    invitation = InvitationFactory()
    response = read_api.post(
        f"/api/v1/invitations/{invitation.pk}/respond/", {"answer": "decline"}, format="json"
    )
    assert response.status_code == 403
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


# --- Permission matrix of the objects (the list and create rows are in test_permissions) ---

DETAIL_ENDPOINTS = [
    ("get", "/api/v1/meetings/{meeting}/", None, READ),
    ("patch", "/api/v1/meetings/{meeting}/", {"venue": "Online"}, CHANGE),
    ("post", "/api/v1/meetings/{meeting}/close/", {}, CHANGE),
    ("post", "/api/v1/meetings/{meeting}/cancel/", {"reason": "Storm"}, CHANGE),
    ("get", "/api/v1/events/{event}/", None, READ),
    ("patch", "/api/v1/events/{event}/", {"capacity": 10}, CHANGE),
    ("post", "/api/v1/events/{event}/close/", {}, CHANGE),
    ("get", "/api/v1/invitations/{invitation}/", None, READ),
    ("post", "/api/v1/invitations/{invitation}/respond/", {"answer": "decline"}, CHANGE),
    ("post", "/api/v1/invitations/{invitation}/promote/", {"reason": "Speaker"}, CHANGE),
]


@pytest.mark.parametrize(
    ("method", "url", "body", "caller", "expected"),
    [
        pytest.param(m, u, b, caller, e[i], id=f"{m.upper()} {u} {caller}")
        for m, u, b, e in DETAIL_ENDPOINTS
        for i, caller in enumerate(CALLERS)
    ],
)
def test_permission_matrix_of_gatherings(callers, method, url, body, caller, expected):
    meeting = MeetingFactory()
    event = EventFactory()
    invitation = InvitationFactory(gathering=event)
    ids = {"meeting": meeting.pk, "event": event.pk, "invitation": invitation.pk}
    response = getattr(callers[caller], method)(url.format(**ids), body, format="json")
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert set(response.json()) >= {"detail", "code"}


def test_deleted_gatherings_and_invitations_appear_in_the_deletion_feed(write_api):
    invitation = InvitationFactory()
    meeting_id, invitation_id = invitation.gathering_id, invitation.pk
    Meeting.objects.get(pk=meeting_id).delete()  # the invitation goes with it

    rows = write_api.get("/api/v1/deletions/?since=2000-01-01T00:00:00Z").json()["results"]
    seen = {(row["object_type"], row["object_id"]) for row in rows}
    assert {("meeting", meeting_id), ("invitation", invitation_id)} <= seen


def test_schema_says_an_unanswered_invitation_has_an_empty_mode():
    """A client generated from the schema (openapi-python-client) rejected mode "" of an
    unanswered invitation until the schema listed the blank value."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    mode = schema["components"]["schemas"]["Invitation"]["properties"]["mode"]
    refs = {item["$ref"].rsplit("/", 1)[-1] for item in mode.get("oneOf", [])}
    assert refs == {"ModeEnum", "BlankEnum"}


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/invitations/?status=accepted&status=declined",
        "/api/v1/invitations/?attendance=attended&attendance=absent",
        "/api/v1/meetings/?status=open&status=draft",
        "/api/v1/organizations/?status=active&kind=ngo",
        "/api/v1/affiliations/?role=expert&role=head",
    ],
)
def test_choice_filters_select_without_distinct(write_api, query):
    # DISTINCT over every column sorted all matching rows for a page (bench/indexes.py); a
    # row's own column cannot repeat it, so none is needed.
    meeting = MeetingFactory()
    accepted = InvitationFactory(gathering=meeting, status="accepted", attendance="attended")
    declined = InvitationFactory(gathering=meeting, status="declined", attendance="absent")
    InvitationFactory(gathering=meeting, status="pending")

    with CaptureQueriesContext(connection) as queries:
        found = ids(write_api.get(query))

    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]
    assert len(found) == len(set(found))
    if "invitations" in query:
        assert sorted(found) == sorted([accepted.pk, declined.pk])

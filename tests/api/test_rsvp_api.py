"""RSVP over the API: anonymous, the token in the path is the key; GET changes nothing, POST
answers with exactly the RSVP page's rules; unknown tokens are a 404, throttled callers 429."""

import datetime

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.test import APIClient

from crm.mail.models import OutgoingMessage
from meetings.models import Gathering, Invitation
from tests.factories import EventFactory, InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


def url(invitation: Invitation) -> str:
    return f"/api/v1/rsvp/{invitation.token}/"


def _state(invitation: Invitation) -> dict:
    fresh = Invitation.objects.get(pk=invitation.pk)
    return {
        **model_to_dict(fresh),
        "updated_at": fresh.updated_at,
        "history": fresh.history.count(),
        "outbox": OutgoingMessage.objects.count(),
    }


def test_get_shows_the_page_and_changes_nothing(anon):
    meeting = MeetingFactory()
    meeting.agenda_items.create(title="Opening", position=1)
    invitation = InvitationFactory(gathering=meeting)
    before = _state(invitation)

    response = anon.get(url(invitation))
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "private, no-store"
    body = response.json()
    assert body["status"] == "pending"
    assert body["answer"] is None
    assert body["invitee"]["full_name"] == invitation.contact.full_name
    assert body["invitee"]["organization"] == invitation.organization.name
    gathering = body["gathering"]
    assert gathering["type"] == "meeting"
    assert gathering["time_zone"] == "Europe/Vienna"
    assert gathering["starts_at_local"].endswith(("+01:00", "+02:00"))
    assert gathering["answers_open"] is True
    assert gathering["answer_choices"] == ["in_person", "online", "decline"]
    assert gathering["online_link"] is None  # only for those who accepted online
    assert [item["title"] for item in gathering["agenda"]] == ["Opening"]

    assert _state(invitation) == before


def test_post_answers_with_the_rsvp_page_rules(anon):
    invitation = InvitationFactory()
    response = anon.post(url(invitation), {"answer": "online", "dietary": "vegan"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "accepted"
    assert body["answer"] == "online"
    assert body["gathering"]["online_link"] == "https://meet.example.org/aect"

    fresh = Invitation.objects.get(pk=invitation.pk)
    assert (fresh.status, fresh.mode, fresh.dietary) == ("accepted", "online", "vegan")
    assert fresh.history.first().history_change_reason == "RSVP page"


def test_an_event_with_a_waiting_list_shows_the_position(anon):
    event = EventFactory(capacity=1, max_plus_ones=0)
    InvitationFactory(gathering=event, status="accepted", mode="in_person")
    invitation = InvitationFactory(gathering=event)
    response = anon.post(url(invitation), {"answer": "in_person"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "waiting"
    assert response.json()["waiting_position"] == 1
    assert response.json()["gathering"]["type"] == "event"


def test_after_the_deadline_answers_are_409_with_the_reason(anon):
    meeting = MeetingFactory(
        rsvp_deadline=timezone.now() - datetime.timedelta(minutes=1),
    )
    invitation = InvitationFactory(gathering=meeting)
    assert anon.get(url(invitation)).json()["gathering"]["answers_open"] is False

    response = anon.post(url(invitation), {"answer": "in_person"}, format="json")
    assert response.status_code == 409
    assert "deadline" in response.json()["detail"]
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"


def test_seat_and_guest_rules_are_400_naming_the_field(anon):
    invitation = InvitationFactory(gathering=EventFactory(max_plus_ones=0, capacity=None))
    response = anon.post(
        url(invitation), {"answer": "in_person", "plus_ones": [{"name": "Guest"}]}, format="json"
    )
    assert response.status_code == 400
    assert "plus_ones" in response.json()["errors"]

    online_only = InvitationFactory(gathering=EventFactory(format=Gathering.Format.ONLINE))
    response = anon.post(url(online_only), {"answer": "in_person"}, format="json")
    assert response.status_code == 400
    assert anon.post(url(online_only), {"answer": "later"}, format="json").status_code == 400
    assert anon.post(url(online_only), {"action": "dance"}, format="json").status_code == 400
    assert anon.post(url(online_only), ["answer"], format="json").status_code == 400


def test_substitute(anon):
    invitation = InvitationFactory()
    response = anon.post(
        url(invitation),
        {
            "action": "substitute",
            "given_name": "Sam",
            "family_name": "Stand-In",
            "email": "sam@example.org",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "replaced"
    assert response.json()["replaced_by"] == "Sam Stand-In"
    again = anon.post(url(invitation), {"answer": "in_person"}, format="json")
    assert again.status_code == 409


def test_unknown_token_is_404_in_the_error_shape(anon):
    for method in ("get", "post"):
        response = getattr(anon, method)("/api/v1/rsvp/not-a-real-token/", format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert anon.get(f"/api/v1/rsvp/{'x' * 300}/").status_code == 404


def test_a_bearer_token_or_session_is_not_needed_nor_used(anon):
    invitation = InvitationFactory()
    anon.credentials(HTTP_AUTHORIZATION="Bearer nonsense")
    assert anon.get(url(invitation)).status_code == 200


def test_throttled_per_ip_with_retry_after(anon, settings):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "rsvp": "2/min"}
    invitation = InvitationFactory()
    assert anon.get(url(invitation)).status_code == 200
    assert anon.post(url(invitation), {"answer": "decline"}, format="json").status_code == 200
    limited = anon.get(url(invitation))
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["code"] == "throttled"
    assert anon.get("/api/v1/rsvp/unknown/").status_code == 429  # guessing costs the same

"""The RSVP page for events: plus-ones, the waiting list and offers."""

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Invitation
from tests.factories import EventFactory, InvitationFactory

pytestmark = pytest.mark.django_db


def _url(invitation):
    return reverse("rsvp:page", args=[invitation.token])


def test_plus_ones_through_the_page(client):
    event = EventFactory(capacity=5, max_plus_ones=2)
    invitation = InvitationFactory(gathering=event)
    page = client.get(_url(invitation)).content.decode()
    assert "You may bring up to 2 guests" in page
    assert "Register a colleague" not in page
    response = client.post(
        _url(invitation),
        {
            "action": "answer",
            "answer": "in_person",
            "guest_1_name": "Pat Guest",
            "guest_1_email": "pat@example.org",
        },
    )
    assert response.status_code == 302
    assert [p.name for p in invitation.plus_ones.all()] == ["Pat Guest"]
    page = client.get(_url(invitation)).content.decode()
    assert 'value="Pat Guest"' in page


def test_too_many_guests_for_the_places_is_a_field_error(client):
    event = EventFactory(capacity=2, max_plus_ones=2)
    invitation = InvitationFactory(gathering=event)
    client.post(_url(invitation), {"action": "answer", "answer": "in_person"})
    response = client.post(
        _url(invitation),
        {"action": "answer", "answer": "in_person", "guest_1_name": "A", "guest_2_name": "B"},
    )
    assert response.status_code == 400
    assert "bring fewer guests" in response.content.decode()
    assert invitation.plus_ones.count() == 0


def test_waiting_list_and_offer_on_the_page(client):
    event = EventFactory(capacity=1)
    first, second = InvitationFactory(gathering=event), InvitationFactory(gathering=event)
    services.invitation_respond(invitation=first, answer="in_person")
    client.post(_url(second), {"action": "answer", "answer": "in_person"})
    second.refresh_from_db()
    assert second.status == "waiting"
    page = client.get(_url(second)).content.decode()
    assert "waiting list (number 1)" in page
    services.invitation_respond(invitation=first, answer="decline")
    page = client.get(_url(second)).content.decode()
    assert "A place is free for you." in page
    client.post(_url(second), {"action": "answer", "answer": "in_person"})
    second.refresh_from_db()
    assert second.status == Invitation.Status.ACCEPTED


def test_no_substitutes_where_the_event_forbids_them(client):
    invitation = InvitationFactory(gathering=EventFactory(substitutes_allowed=False))
    assert "Send a colleague" not in client.get(_url(invitation)).content.decode()


def test_programme_on_the_page(client):
    event = EventFactory()
    event.sessions.create(
        starts_at=event.starts_at, title="Opening session", room="Neuer Saal", speakers="Chair"
    )
    invitation = InvitationFactory(gathering=event)
    page = client.get(_url(invitation)).content.decode()
    assert "Opening session" in page
    assert "Neuer Saal" in page


def test_invitation_mail_lists_the_programme_in_the_event_time_zone(
    django_capture_on_commit_callbacks,
):
    import datetime
    import zoneinfo

    from django.core import mail

    from meetings.services import invitations_send

    event = EventFactory(time_zone="Europe/Warsaw")
    start = datetime.datetime(2027, 3, 3, 9, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Warsaw"))
    event.sessions.create(starts_at=start, title="Opening session", room="Hall A")
    InvitationFactory(gathering=event, sent_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        invitations_send(gathering=event, acting_user=None)
    body = mail.outbox[0].body
    assert "09:30 Opening session, Hall A" in body

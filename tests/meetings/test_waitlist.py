"""Capacity and the waiting list in the shared RSVP engine: fill, overflow, free a place,
offer, confirm, expire, pass on; plus-ones count; overrides are recorded."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from meetings import services
from meetings.models import Invitation
from tests.factories import InvitationFactory, MeetingFactory

pytestmark = pytest.mark.django_db

Status = Invitation.Status


@pytest.fixture
def event():
    # In person only, 2 places, a waiting list, one guest each.
    return MeetingFactory(
        format="in_person", capacity=2, waiting_list=True, max_plus_ones=1, seats_per_org=50
    )


def _invite(event, n):
    return [InvitationFactory(gathering=event) for _ in range(n)]


def _accept(invitation, **kwargs):
    return services.invitation_respond(invitation=invitation, answer="in_person", **kwargs)


def _fresh(invitation):
    invitation.refresh_from_db()
    return invitation


def test_overflow_joins_the_waiting_list_in_order(event, django_capture_on_commit_callbacks):
    a, b, c, d = _invite(event, 4)
    _accept(a)
    _accept(b)
    with django_capture_on_commit_callbacks(execute=True):
        _accept(c)
    _accept(d)
    assert [_fresh(i).status for i in (a, b, c, d)] == [
        "accepted",
        "accepted",
        "waiting",
        "waiting",
    ]
    assert _fresh(c).waiting_since < _fresh(d).waiting_since
    assert services.places_free(event) == 0
    waiting_mail = mail.outbox[-1]
    assert waiting_mail.to == [c.contact.email]
    assert "waiting list (number 1)" in waiting_mail.body


def test_a_decline_offers_the_place_to_the_first_waiting(event, django_capture_on_commit_callbacks):
    a, b, c, d = _invite(event, 4)
    for inv in (a, b, c, d):
        _accept(inv)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_respond(invitation=a, answer="decline")
    c, d = _fresh(c), _fresh(d)
    assert c.offer_running
    assert not d.offer_running
    assert c.offer_expires_at == pytest.approx(
        timezone.now() + datetime.timedelta(hours=48), abs=datetime.timedelta(minutes=1)
    )
    offer = next(m for m in mail.outbox if m.to == [c.contact.email])
    assert "A place is free for you" in offer.subject
    assert c.token in offer.body
    # The offered place is held: nobody else can take it meanwhile.
    late = _invite(event, 1)[0]
    _accept(late)
    assert _fresh(late).status == "waiting"
    # Confirming: answering "attend" takes the offered place.
    _accept(c)
    assert _fresh(c).status == "accepted"
    assert Invitation.objects.filter(gathering=event, status="accepted").count() == 2


def test_unconfirmed_offer_expires_and_passes_on(event, django_capture_on_commit_callbacks):
    a, b, c, d = _invite(event, 4)
    for inv in (a, b, c, d):
        _accept(inv)
    services.invitation_respond(invitation=b, answer="decline")
    expires = _fresh(c).offer_expires_at
    with time_machine.travel(expires - datetime.timedelta(minutes=1)):
        assert services.offers_expire() == 0
    mail.outbox.clear()
    with (
        time_machine.travel(expires + datetime.timedelta(minutes=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.offers_expire() == 1
    c, d = _fresh(c), _fresh(d)
    assert c.status == "declined"
    assert c.history.first().history_change_reason == "Offer expired"
    assert d.offer_running
    assert sorted(m.to[0] for m in mail.outbox) == sorted([c.contact.email, d.contact.email])
    assert OutgoingMessage.objects.filter(key__startswith="offer-expired:").count() == 1


def test_plus_ones_count_against_the_capacity(event):
    a, b = _invite(event, 2)
    _accept(a, plus_ones=[{"name": "Guest of A", "email": ""}])
    assert services.places_free(event) == 0
    _accept(b)
    assert _fresh(b).status == "waiting"
    with pytest.raises(ApplicationError) as exc:
        _accept(a, plus_ones=[{"name": "One"}, {"name": "Two"}])
    assert exc.value.field == "plus_ones"
    # Dropping the guest frees a place, which is offered at once.
    _accept(a, plus_ones=[])
    assert _fresh(b).offer_running


def test_a_party_too_large_keeps_its_rank_but_does_not_block_the_place(event):
    a, b, c, d = _invite(event, 4)
    _accept(a)
    _accept(b)
    _accept(c, plus_ones=[{"name": "Guest"}])  # a party of 2: waits
    _accept(d)  # waits behind c
    services.invitation_respond(invitation=a, answer="decline")  # one place frees
    assert not _fresh(c).offer_running  # 2 do not fit into 1
    assert _fresh(d).offer_running  # the place is not left empty
    services.invitation_respond(invitation=d, answer="decline")
    services.invitation_respond(invitation=b, answer="decline")  # now 2 free
    assert _fresh(c).offer_running  # c kept its rank


def test_raising_the_capacity_offers_the_new_places(event, coordinator):
    a, b, c = _invite(event, 3)
    for inv in (a, b, c):
        _accept(inv)
    services.gathering_update(gathering=event, acting_user=coordinator, capacity=3)
    assert _fresh(c).offer_running


def test_online_attendance_at_hybrid_does_not_use_room_places():
    event = MeetingFactory(format="hybrid", capacity=1, waiting_list=True, seats_per_org=50)
    a, b, c = (InvitationFactory(gathering=event) for _ in range(3))
    _accept(a)
    services.invitation_respond(invitation=b, answer="online")
    _accept(c)
    assert [_fresh(i).status for i in (a, b, c)] == ["accepted", "accepted", "waiting"]


def test_without_a_waiting_list_a_full_gathering_refuses(event):
    event.waiting_list = False
    event.save()
    a, b, c = _invite(event, 3)
    _accept(a)
    _accept(b)
    with pytest.raises(ApplicationError, match="every seat"):
        _accept(c)


def test_guests_limits(event):
    (a,) = _invite(event, 1)
    with pytest.raises(ApplicationError, match="at most 1"):
        _accept(a, plus_ones=[{"name": "x"}, {"name": "y"}])
    with pytest.raises(ApplicationError, match="name"):
        _accept(a, plus_ones=[{"name": "", "email": "g@example.org"}])
    event.max_plus_ones = 0
    event.save()
    with pytest.raises(ApplicationError, match="does not allow guests"):
        _accept(a, plus_ones=[{"name": "x"}])


def test_capacity_override_is_recorded(event, coordinator):
    a, b, c = _invite(event, 3)
    _accept(a)
    _accept(b)
    _accept(c)
    with pytest.raises(ApplicationError):
        services.invitation_admit_over_capacity(invitation=c, acting_user=coordinator, reason="")
    services.invitation_admit_over_capacity(
        invitation=c, acting_user=coordinator, reason="Keynote speaker"
    )
    c = _fresh(c)
    assert (c.status, c.admitted_over_capacity) == ("accepted", True)
    record = c.history.first()
    assert record.history_user == coordinator
    assert "Keynote speaker" in record.history_change_reason
    assert Invitation.objects.filter(gathering=event, status="accepted").count() == 3


def test_declining_from_the_waiting_list(event):
    a, b, c = _invite(event, 3)
    for inv in (a, b, c):
        _accept(inv)
    services.invitation_respond(invitation=c, answer="decline")
    c = _fresh(c)
    assert (c.status, c.waiting_since) == ("declined", None)


def test_naming_a_substitute_frees_the_place_for_the_waiting_list(event):
    a, b, c = _invite(event, 3)
    _accept(a, plus_ones=[{"name": "Guest of A"}])
    _accept(b)
    assert _fresh(b).status == "waiting"
    services.invitation_substitute(
        invitation=a, email="deputy@example.org", given_name="Dee", family_name="Puty"
    )
    assert a.plus_ones.count() == 0  # the guests came with the one who passed it on
    assert _fresh(b).offer_running  # first in line gets the freed place
    assert _fresh(c).status == "pending"


def test_no_offers_after_the_deadline(event, coordinator):
    a, b = _invite(event, 2)
    _accept(a, plus_ones=[{"name": "Guest"}])
    _accept(b)
    with time_machine.travel(event.rsvp_deadline + datetime.timedelta(hours=1)):
        services.invitation_respond(invitation=a, answer="decline", by_coordinator=True)
    b = _fresh(b)
    assert b.status == "waiting"
    assert not b.offer_running  # nobody could confirm it any more

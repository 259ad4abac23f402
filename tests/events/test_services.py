import datetime

import pytest
from django.core import mail
from django.utils import timezone

from crm.exceptions import ApplicationError
from events import selectors, services
from events.models import Event
from meetings import services as rsvp
from meetings.models import Invitation
from tests.factories import (
    ContactFactory,
    EventFactory,
    InvitationFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db


def test_event_create_is_a_draft_with_waiting_list_and_rules(coordinator):
    start = timezone.now() + datetime.timedelta(days=60)
    event = services.event_create(
        acting_user=coordinator,
        kind=Event.Kind.CONFERENCE,
        title="Alliance Conference 2027",
        starts_at=start,
        ends_at=start + datetime.timedelta(days=1),
        rsvp_deadline=start - datetime.timedelta(days=14),
        capacity=300,
        max_plus_ones=1,
    )
    assert event.status == "draft"
    assert event.waiting_list is True
    assert event.reminder_rules.count() == 3
    assert event.specific == event
    assert Event.objects.get(pk=event.pk).gathering_ptr.specific == event


def test_guests_are_matched_or_created_for_review(coordinator, django_capture_on_commit_callbacks):
    event = EventFactory()
    known = ContactFactory(email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        created, skipped = services.invitations_create_guests(
            gathering=event,
            guests=[
                {"email": "KNOWN@example.org", "affiliation": "Ministry of Interior"},
                {
                    "given_name": "Lea",
                    "family_name": "Novak",
                    "email": "lea@example.org",
                    "affiliation": "Delegation of a participating State",
                },
                {"given_name": "No", "family_name": "Mail", "email": ""},
                {"email": "nameless@example.org"},
                {"email": "known@example.org"},
            ],
            acting_user=coordinator,
        )
    assert created[0].contact == known
    assert not known.needs_review
    lea = created[1].contact
    assert lea.needs_review
    assert created[1].badge_organization == "Delegation of a participating State"
    assert len(skipped) == 3
    assert "e-mail" in skipped[0]
    assert "nameless@example.org" in skipped[1]
    assert "already invited" in skipped[2]
    assert sorted(m.to[0] for m in mail.outbox) == ["known@example.org", "lea@example.org"]


def test_events_take_plus_ones_not_colleagues():
    event = EventFactory(capacity=10)
    invitation = InvitationFactory(gathering=event)
    rsvp.invitation_respond(
        invitation=invitation, answer="in_person", plus_ones=[{"name": "Guest Person"}]
    )
    with pytest.raises(ApplicationError, match="Colleagues cannot"):
        rsvp.invitation_add_colleague(invitation=invitation, email="c@example.org")
    assert selectors.event_counts(event)["plus_ones"] == 1
    assert selectors.event_counts(event)["places_left"] == 8


def test_substitutes_only_where_allowed():
    event = EventFactory(substitutes_allowed=False)
    invitation = InvitationFactory(gathering=event)
    with pytest.raises(ApplicationError, match="personal"):
        rsvp.invitation_substitute(
            invitation=invitation, email="x@example.org", given_name="X", family_name="Y"
        )


def test_per_organisation_cap():
    event = EventFactory(capacity=10, per_org_cap=1)
    org = OrganizationFactory()
    a, b = (InvitationFactory(gathering=event, organization=org) for _ in range(2))
    rsvp.invitation_respond(invitation=a, answer="in_person")
    with pytest.raises(ApplicationError, match="of your organisation"):
        rsvp.invitation_respond(invitation=b, answer="in_person")


def test_check_in(coordinator):
    event = EventFactory()
    coming = InvitationFactory(gathering=event, status="accepted", mode="in_person")
    not_coming = InvitationFactory(gathering=event, status="declined")
    services.invitation_check_in(invitation=coming, acting_user=coordinator)
    coming.refresh_from_db()
    assert coming.checked_in_at is not None
    assert coming.attendance == "attended"
    with pytest.raises(ApplicationError, match="not registered"):
        services.invitation_check_in(invitation=not_coming, acting_user=coordinator)
    services.invitation_check_in(invitation=coming, acting_user=coordinator, undo=True)
    coming.refresh_from_db()
    assert (coming.checked_in_at, coming.attendance) == (None, "unknown")


def test_counts_waiting_list_and_balance():
    event = EventFactory(capacity=2)
    ngo = OrganizationFactory(kind="ngo", country="AT")
    io = OrganizationFactory(kind="international", country="CH")
    invitations = [
        InvitationFactory(gathering=event, organization=org) for org in (ngo, io, ngo, io)
    ]
    InvitationFactory(gathering=event)  # not answered
    for invitation in invitations:
        rsvp.invitation_respond(invitation=invitation, answer="in_person")
    counts = selectors.event_counts(event)
    assert counts == {
        "invited": 5,
        "accepted": 2,
        "declined": 0,
        "waiting": 2,
        "offers": 0,
        "not_answered": 1,
        "plus_ones": 0,
        "checked_in": 0,
        "places_left": 0,
    }
    assert [i.pk for i in selectors.waiting_list(event)] == [invitations[2].pk, invitations[3].pk]
    balance = selectors.balance(event)
    assert sorted(balance["kind"]) == [("international", 1), ("ngo", 1)]
    assert sorted(balance["country"]) == [("AT", 1), ("CH", 1)]
    assert Invitation.objects.filter(gathering=event).count() == 5

"""Seats under concurrent answers, on PostgreSQL: the gathering's row lock decides one at a
time, so the last seat goes to exactly one of the people who answer at the same moment."""

import threading

import pytest
from django.db import close_old_connections, connection

from crm.exceptions import ApplicationError
from meetings import services
from meetings.models import Invitation
from tests.factories import InvitationFactory, MeetingFactory, OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except ApplicationError:
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_answers_for_the_last_seat_of_an_organisation():
    meeting = MeetingFactory(seats_per_org=1)
    org = OrganizationFactory()
    a, b = (InvitationFactory(gathering=meeting, organization=org) for _ in range(2))
    outcomes = _race(
        [
            lambda: services.invitation_respond(invitation=a, answer="in_person"),
            lambda: services.invitation_respond(invitation=b, answer="online"),
        ]
    )
    assert outcomes == ["ok", "refused"]
    assert Invitation.objects.filter(gathering=meeting, status="accepted").count() == 1


def test_many_answers_never_exceed_the_meeting_total():
    meeting = MeetingFactory(capacity=3, seats_per_org=10)
    invitations = [InvitationFactory(gathering=meeting) for _ in range(8)]
    outcomes = _race(
        [
            (lambda inv=inv: services.invitation_respond(invitation=inv, answer="in_person"))
            for inv in invitations
        ]
    )
    assert outcomes.count("ok") == 3
    assert Invitation.objects.filter(gathering=meeting, status="accepted").count() == 3


def test_colleague_and_answer_race_for_the_last_seat():
    meeting = MeetingFactory(seats_per_org=2)
    org = OrganizationFactory()
    host = InvitationFactory(gathering=meeting, organization=org, status="accepted", mode="online")
    other = InvitationFactory(gathering=meeting, organization=org)
    outcomes = _race(
        [
            lambda: services.invitation_add_colleague(
                invitation=host, email="c@example.org", given_name="C", family_name="D"
            ),
            lambda: services.invitation_respond(invitation=other, answer="in_person"),
        ]
    )
    assert outcomes == ["ok", "refused"]
    accepted = Invitation.objects.filter(gathering=meeting, organization=org, status="accepted")
    assert accepted.count() == 2


def test_concurrent_acceptances_fill_exactly_the_capacity_then_wait():
    event = MeetingFactory(
        format="in_person", capacity=4, waiting_list=True, max_plus_ones=1, seats_per_org=50
    )
    invitations = [InvitationFactory(gathering=event) for _ in range(10)]
    outcomes = _race(
        [
            (
                lambda inv=inv, i=i: services.invitation_respond(
                    invitation=inv,
                    answer="in_person",
                    plus_ones=[{"name": f"Guest {i}"}] if i % 3 == 0 else [],
                )
            )
            for i, inv in enumerate(invitations)
        ]
    )
    assert outcomes == ["ok"] * 10  # nobody refused: the rest wait
    assert services.places_free(event) == 0
    taken = sum(
        1 + inv.plus_ones.count()
        for inv in Invitation.objects.filter(gathering=event, status="accepted")
    )
    assert taken <= 4
    assert Invitation.objects.filter(gathering=event, status="waiting").exists()

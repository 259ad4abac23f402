"""The organisation timeline: what appears, in which order, for whom; and its query budget."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from crm.mail.models import AddressHold, DeliveryEvent, OutgoingMessage
from meetings import services as meeting_services
from meetings.models import Consultation, FollowUp, Gathering, Invitation
from members import services as member_services
from members.models import Affiliation, MembershipChange
from members.timeline import MAX_LIMIT, Kind, organization_timeline
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# The selector's fixed budget: one query per source, three for follow-ups, two for bounces.
SELECTOR_QUERIES = 12
# The page: the selector, the session, the user and their permissions (3), the organisation
# and its focal point (2).
PAGE_QUERIES = SELECTOR_QUERIES + 6


def _ago(days: int, hour: int = 10) -> datetime.datetime:
    moment = timezone.localtime() - datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def _day(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


def _start_of(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def _find(entries, kind, text):
    found = [e for e in entries if e.kind == kind and text in e.title]
    assert found, f"no {kind} entry with {text!r} in {[e.title for e in entries]}"
    return found[0]


@pytest.fixture
def restricted_viewer(coordinator):
    coordinator.user_permissions.add(
        Permission.objects.get(codename="view_restricted_consultation")
    )
    coordinator = type(coordinator).objects.get(pk=coordinator.pk)  # fresh permission cache
    return coordinator


@pytest.fixture
def history(coordinator):
    """A hand-made organisation with one thing of each kind, at known moments."""
    org = member_services.organization_create(
        name="Vienna Shelter Network",
        kind="ngo",
        status="invited",
        status_date=_day(400),
        acting_user=coordinator,
    )
    member_services.organization_change_status(
        organization=org,
        to_status="active",
        effective_date=_day(300),
        reason="Joined at the conference",
        acting_user=coordinator,
    )
    lena = ContactFactory(given_name="Lena", family_name="Hofer", email="lena@example.org")
    AffiliationFactory(contact=lena, organization=org, role="focal_point", start_date=_day(500))
    # Someone who left a year ago: mail to them since belongs to their new place.
    former = ContactFactory(given_name="Otto", family_name="Alt", email="otto@example.org")
    AffiliationFactory(
        contact=former, organization=org, role="expert", start_date=_day(900), end_date=_day(365)
    )
    outsider = ContactFactory(given_name="Nora", family_name="Else", email="nora@example.org")
    AffiliationFactory(contact=outsider, organization=OrganizationFactory(), role="focal_point")

    # A past meeting she attended; a coming one she was invited to, accepted, then declined.
    past = MeetingFactory(
        title="AECT 40",
        starts_at=_ago(60),
        ends_at=_ago(60, 17),
        rsvp_deadline=_ago(70),
        status=Gathering.Status.HELD,
    )
    InvitationFactory(
        gathering=past,
        contact=lena,
        organization=org,
        sent_at=_ago(90),
        status="accepted",
        mode="in_person",
        answered_at=_ago(80),
        attendance="attended",
    )
    coming = MeetingFactory(title="AECT 41")
    invitation = InvitationFactory(gathering=coming, contact=lena, organization=org)
    meeting_services.invitation_respond(invitation=invitation, answer="online")
    meeting_services.invitation_respond(invitation=invitation, answer="decline")
    # Someone else's invitation, to another organisation: not on this timeline.
    InvitationFactory(
        gathering=coming, contact=outsider, organization=outsider.affiliations.get().organization
    )

    normal = meeting_services.consultation_create(
        acting_user=coordinator,
        organizations=[org],
        kind="bilateral",
        held_on=_day(20),
        channel="video",
        title="Survey on commitments",
    )
    meeting_services.consultation_create(
        acting_user=coordinator,
        organizations=[org],
        kind="bilateral",
        held_on=_day(15),
        channel="call",
        title="Confidential case review",
        confidentiality="restricted",
    )
    overdue = FollowUp.objects.create(
        title="Send the shelter statistics",
        organization=org,
        owner_user=coordinator,
        due_date=_day(3),
        consultation=normal,
        source="consultation",
    )
    done = FollowUp.objects.create(
        title="Share the draft report",
        organization=org,
        owner_user=coordinator,
        due_date=_day(12),
        status="done",
        done_on=_day(10),
    )

    sent = OutgoingMessage.objects.create(
        key="t-1",
        purpose="invitation",
        essential=True,
        contact=lena,
        to_email=lena.email,
        subject="Invitation: AECT 41",
        body_text="…",
        message_id="<t-1@example.org>",
        status="sent",
        sent_at=_ago(5),
    )
    for key, contact, status, days in (
        ("t-2", former, "sent", 30),  # after Otto left
        ("t-3", outsider, "sent", 4),  # another organisation's person
        ("t-4", lena, "queued", 0),  # not sent yet
    ):
        OutgoingMessage.objects.create(
            key=key,
            purpose="reminder",
            contact=contact,
            to_email=contact.email,
            subject=f"Message {key}",
            body_text="…",
            message_id=f"<{key}@example.org>",
            status=status,
            sent_at=_ago(days) if status == "sent" else None,
        )
    DeliveryEvent.objects.create(
        esp="test",
        event_type="bounced",
        recipient=lena.email,
        message=sent,
        description="550 mailbox full",
        occurred_at=_ago(4),
    )
    DeliveryEvent.objects.create(
        esp="test",
        event_type="delivered",
        recipient=lena.email,
        message=sent,
        occurred_at=_ago(5, 11),
    )
    AddressHold.objects.create(
        email=lena.email,
        contact=lena,
        reason="bounces",
        detail="3 hard bounces",
        held_since=_ago(3),
        released_at=_ago(2),
    )
    return {
        "org": org,
        "lena": lena,
        "invitation": invitation,
        "overdue": overdue,
        "done": done,
    }


def test_each_kind_appears_with_its_time_and_title(history, restricted_viewer):
    entries = organization_timeline(history["org"], user=restricted_viewer, limit=100)
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)

    added = _find(entries, Kind.MEMBERSHIP, "Added to the directory")
    assert added.when == _start_of(_day(400))
    assert added.all_day
    active = _find(entries, Kind.MEMBERSHIP, "Invited → Active")
    assert active.when == _start_of(_day(300))
    assert "Joined at the conference" in active.detail

    sent = _find(entries, Kind.INVITATION, "AECT 40")
    assert sent.when == _ago(90)
    assert "Lena Hofer" in sent.title
    assert sent.url == reverse(
        "admin:meetings_invitation_change",
        args=[Invitation.objects.get(gathering__title="AECT 40").pk],
    )
    answers = [e for e in entries if e.kind == Kind.ANSWER]
    titles = [e.title for e in answers]
    # Both answers to AECT 41 (the first one changed since), and the one to AECT 40.
    assert "Lena Hofer declined AECT 41" in titles
    assert "Lena Hofer accepted AECT 41 (online)" in titles
    assert "Lena Hofer accepted AECT 40 (in person)" in titles
    history["invitation"].refresh_from_db()
    assert _find(entries, Kind.ANSWER, "declined AECT 41").when == history["invitation"].answered_at
    assert _find(entries, Kind.ANSWER, "declined AECT 41").detail == "Changed answer"

    attended = _find(entries, Kind.ATTENDANCE, "Lena Hofer attended AECT 40")
    assert attended.when == _ago(60)

    consultation = _find(entries, Kind.CONSULTATION, "Survey on commitments")
    assert consultation.when == _start_of(_day(20))
    assert "Bilateral" in consultation.detail
    _find(entries, Kind.CONSULTATION, "Confidential case review")

    opened = _find(entries, Kind.FOLLOW_UP, "opened: Send the shelter statistics")
    assert opened.when == history["overdue"].created_at
    due = _find(entries, Kind.FOLLOW_UP, "due: Send the shelter statistics")
    assert due.when == _start_of(_day(3))
    assert due.detail == "Overdue"
    done = _find(entries, Kind.FOLLOW_UP, "done: Share the draft report")
    assert done.when == _start_of(_day(10))
    # A done follow-up's due date is no longer an event.
    assert not [e for e in entries if e.title == "Follow-up due: Share the draft report"]

    mail = [e for e in entries if e.kind == Kind.MAIL]
    assert [e.title for e in mail] == ["E-mail to Lena Hofer: Invitation: AECT 41"]
    assert mail[0].when == _ago(5)

    bounce = _find(entries, Kind.BOUNCE, "bounced")
    assert bounce.when == _ago(4)
    assert "mailbox full" in bounce.detail
    assert _find(entries, Kind.BOUNCE, "No more mail to lena@example.org").when == _ago(3)
    assert _find(entries, Kind.BOUNCE, "resumed").when == _ago(2)
    assert not [e for e in entries if "delivered" in e.title.lower()]

    # Nothing about another organisation's people.
    assert not [e for e in entries if "Nora" in e.title or "Otto" in e.title]


def test_restricted_consultations_are_hidden_without_the_permission(history, coordinator):
    assert not coordinator.has_perm("meetings.view_restricted_consultation")
    entries = organization_timeline(history["org"], user=coordinator, limit=100)
    titles = [e.title for e in entries]
    assert "Consultation: Survey on commitments" in titles
    assert not [t for t in titles if "Confidential case review" in t]
    # No user at all: the safe side.
    anonymous = organization_timeline(history["org"], limit=100)
    assert not [e for e in anonymous if "Confidential" in e.title]


def test_restricted_consultations_follow_ups_are_hidden_too(history, coordinator):
    restricted = Consultation.objects.get(title="Confidential case review")
    FollowUp.objects.create(
        title="Secret step", organization=history["org"], consultation=restricted, due_date=_day(1)
    )
    hidden = organization_timeline(history["org"], user=coordinator, limit=100)
    assert not [e for e in hidden if "Secret step" in e.title]
    superuser = UserFactory(is_staff=True, is_superuser=True)
    shown = organization_timeline(history["org"], user=superuser, limit=100)
    assert [e for e in shown if "Secret step" in e.title]


def test_filter_by_kind_and_limit(history, coordinator):
    entries = organization_timeline(
        history["org"], kinds=[Kind.CONSULTATION, Kind.MEMBERSHIP], user=coordinator
    )
    assert {e.kind for e in entries} == {Kind.CONSULTATION, Kind.MEMBERSHIP}
    assert len(entries) == 3
    newest = organization_timeline(history["org"], user=coordinator, limit=2)
    everything = organization_timeline(history["org"], user=coordinator, limit=100)
    assert newest == everything[:2]
    assert organization_timeline(history["org"], kinds=["nonsense"], user=coordinator, limit=100)


def _build(org, n: int, user) -> None:
    """About ``n`` entries of every kind."""
    contact = ContactFactory()
    AffiliationFactory(contact=contact, organization=org, role="expert")
    per_kind = max(1, n // 9)
    for i in range(per_kind):
        MembershipChange.objects.create(
            organization=org, from_status="active", to_status="active", effective_date=_day(i)
        )
        meeting = MeetingFactory(
            starts_at=_ago(i + 1), ends_at=_ago(i + 1, 17), rsvp_deadline=_ago(i + 2)
        )
        InvitationFactory(
            gathering=meeting,
            contact=contact,
            organization=org,
            sent_at=_ago(i + 3),
            status="accepted",
            mode="online",
            answered_at=_ago(i + 2),
            attendance="attended",
        )
        consultation = Consultation.objects.create(
            kind="bilateral", held_on=_day(i), channel="call", title=f"Call {i}"
        )
        consultation.organizations.add(org)
        FollowUp.objects.create(
            title=f"Step {i}", organization=org, due_date=_day(i), status="done", done_on=_day(i)
        )
        message = OutgoingMessage.objects.create(
            key=f"b-{i}",
            purpose="other",
            contact=contact,
            to_email=contact.email,
            subject=f"Note {i}",
            body_text="…",
            message_id=f"<b-{i}@example.org>",
            status="sent",
            sent_at=_ago(i),
        )
        DeliveryEvent.objects.create(
            esp="test",
            event_type="bounced",
            recipient=contact.email,
            message=message,
            occurred_at=_ago(i),
        )
        AddressHold.objects.create(
            email=f"old{i}@example.org",
            contact=contact,
            reason="bounces",
            held_since=_ago(i),
            released_at=_ago(i, 12),
        )


@pytest.mark.parametrize("size", [10, 200])
def test_the_selector_reads_a_fixed_number_of_queries(
    size, coordinator, django_assert_max_num_queries
):
    org = OrganizationFactory()
    _build(org, size, coordinator)
    user = UserFactory(is_superuser=True, is_staff=True)
    with django_assert_max_num_queries(SELECTOR_QUERIES):
        entries = organization_timeline(org, user=user, limit=MAX_LIMIT)
    assert len(entries) >= size
    assert {e.kind for e in entries} >= set(Kind.values) - {Kind.SUCCESSION}


@pytest.mark.parametrize("size", [10, 200])
def test_the_page_has_one_query_budget(
    size, coordinator, coordinator_client, django_assert_max_num_queries
):
    org = OrganizationFactory()
    _build(org, size, coordinator)
    url = reverse("admin:members_organization_timeline", args=[org.pk])
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = coordinator_client.get(url, {"limit": MAX_LIMIT})
    assert response.status_code == 200
    assert response.content.decode().count('data-kind="') >= size


def test_page_for_a_coordinator_filters_and_shows_more(history, coordinator_client):
    org = history["org"]
    url = reverse("admin:members_organization_timeline", args=[org.pk])
    response = coordinator_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Survey on commitments" in page
    assert "Confidential case review" not in page
    assert 'id="show-more"' not in page

    response = coordinator_client.get(url, {"kind": "consultation"})
    page = response.content.decode()
    assert 'data-kind="consultation"' in page
    assert 'data-kind="membership"' not in page

    for i in range(60):
        MembershipChange.objects.create(
            organization=org, from_status="active", to_status="active", effective_date=_day(i)
        )
    response = coordinator_client.get(url, {"kind": "membership"})
    page = response.content.decode()
    assert page.count('data-kind="membership"') == 50
    assert 'id="show-more"' in page
    assert "kind=membership&amp;limit=100" in page
    response = coordinator_client.get(url, {"kind": "membership", "limit": 100})
    assert response.content.decode().count('data-kind="membership"') == 62


def test_the_change_page_links_to_the_timeline(history, coordinator_client):
    org = history["org"]
    response = coordinator_client.get(reverse("admin:members_organization_change", args=[org.pk]))
    assert (
        reverse("admin:members_organization_timeline", args=[org.pk]) in response.content.decode()
    )


def test_page_refuses_staff_without_view_permission(history, client):
    org = history["org"]
    client.force_login(UserFactory(is_staff=True))
    url = reverse("admin:members_organization_timeline", args=[org.pk])
    assert client.get(url).status_code == 403


def test_page_for_an_unknown_organisation_is_404(coordinator_client):
    url = reverse("admin:members_organization_timeline", args=[999999])
    assert coordinator_client.get(url).status_code == 404
    assert Affiliation.objects.count() == 0

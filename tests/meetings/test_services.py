import datetime

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from meetings import services
from meetings.models import Gathering, Invitation, Meeting, ReminderRule
from members.models import Affiliation, Contact, Organization
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
)

pytestmark = pytest.mark.django_db

Status = Invitation.Status


def _keys(prefix: str) -> list[str]:
    return sorted(
        OutgoingMessage.objects.filter(key__startswith=prefix).values_list("key", flat=True)
    )


# --- Meeting life cycle -------------------------------------------------------------------


def test_meeting_create_adds_default_rules(coordinator):
    start = timezone.now() + datetime.timedelta(days=40)
    meeting = services.meeting_create(
        acting_user=coordinator,
        title="AECT 41",
        number=41,
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=6),
        rsvp_deadline=start - datetime.timedelta(days=10),
    )
    assert meeting.status == Meeting.Status.DRAFT
    assert meeting.seats_per_org == 2
    assert str(meeting.time_zone) == "Europe/Vienna"
    rules = list(meeting.reminder_rules.order_by("anchor", "-days"))
    assert [(r.anchor, r.days, r.audience) for r in rules] == [
        ("deadline", 14, "not_answered"),
        ("deadline", 3, "not_answered"),
        ("start", 1, "accepted"),
    ]
    assert meeting.history.first().history_user == coordinator


def test_meeting_create_refuses_deadline_after_start(coordinator):
    start = timezone.now() + datetime.timedelta(days=40)
    with pytest.raises(ApplicationError) as exc:
        services.meeting_create(
            acting_user=coordinator,
            title="AECT 41",
            starts_at=start,
            ends_at=start + datetime.timedelta(hours=6),
            rsvp_deadline=start + datetime.timedelta(days=1),
        )
    assert exc.value.field == "rsvp_deadline"


def test_open_sends_each_invitation_once(coordinator, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)
    invitations = [InvitationFactory(gathering=meeting, sent_at=None) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        services.gathering_open(gathering=meeting, acting_user=coordinator)
    assert meeting.status == Meeting.Status.OPEN
    assert len(mail.outbox) == 3
    assert {m.to[0] for m in mail.outbox} == {i.contact.email for i in invitations}
    message = mail.outbox[0]
    assert meeting.title in message.subject
    invitation = next(i for i in invitations if i.contact.email == message.to[0])
    assert invitation.token in message.body
    assert message.attachments[0][0] == "invite.ics"
    # Sending again (a double click, a replay) adds nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invitations_send(gathering=meeting, acting_user=coordinator) == 0
    assert len(mail.outbox) == 3
    assert all(i.sent_at for i in Invitation.objects.all())


@pytest.mark.parametrize(
    ("start", "action", "target"),
    [
        ("draft", "close", None),
        ("open", "close", "closed"),
        ("closed", "close", None),
        ("held", "cancel", None),
        ("cancelled", "cancel", None),
        ("open", "cancel", "cancelled"),
        ("draft", "cancel", "cancelled"),
        ("closed", "cancel", "cancelled"),
        ("open", "open", None),
        ("draft", "held", None),
    ],
)
def test_meeting_transitions(coordinator, start, action, target):
    meeting = MeetingFactory(status=start)
    service = {
        "open": services.gathering_open,
        "close": services.gathering_close,
        "cancel": services.gathering_cancel,
        "held": services.gathering_mark_held,
    }[action]
    if target is None:
        with pytest.raises(ApplicationError):
            service(gathering=meeting, acting_user=coordinator)
        meeting.refresh_from_db()
        assert meeting.status == start
    else:
        service(gathering=meeting, acting_user=coordinator)
        meeting.refresh_from_db()
        assert meeting.status == target


def test_mark_held_only_after_start(coordinator):
    meeting = MeetingFactory(status="closed")
    with pytest.raises(ApplicationError):
        services.gathering_mark_held(gathering=meeting, acting_user=coordinator)
    with time_machine.travel(meeting.starts_at + datetime.timedelta(hours=1)):
        services.gathering_mark_held(gathering=meeting, acting_user=coordinator)
    assert meeting.status == "held"


def test_open_refuses_past_deadline(coordinator):
    meeting = MeetingFactory(status="draft")
    with (
        time_machine.travel(meeting.rsvp_deadline + datetime.timedelta(minutes=1)),
        pytest.raises(ApplicationError) as exc,
    ):
        services.gathering_open(gathering=meeting, acting_user=coordinator)
    assert exc.value.field == "rsvp_deadline"


def test_reschedule_sends_update_to_accepted_only(coordinator, django_capture_on_commit_callbacks):
    meeting = MeetingFactory()
    coming = InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="in_person")
    InvitationFactory(gathering=meeting)  # not answered
    InvitationFactory(gathering=meeting, status=Status.DECLINED)
    with django_capture_on_commit_callbacks(execute=True):
        services.gathering_update(
            gathering=meeting,
            acting_user=coordinator,
            starts_at=meeting.starts_at + datetime.timedelta(days=1),
            ends_at=meeting.ends_at + datetime.timedelta(days=1),
        )
        # A change that does not move the calendar entry sends nothing.
        services.gathering_update(gathering=meeting, acting_user=coordinator, description="x")
    assert meeting.sequence == 1
    assert [m.to[0] for m in mail.outbox] == [coming.contact.email]
    ics = mail.outbox[0].attachments[0][1]
    assert "SEQUENCE:1" in ics
    assert "METHOD:REQUEST" in ics


def test_cancel_sends_cancellation_to_everyone_invited(
    coordinator, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory()
    sent = [
        InvitationFactory(gathering=meeting, status=s)
        for s in (Status.ACCEPTED, Status.PENDING, Status.DECLINED)
    ]
    InvitationFactory(gathering=meeting, sent_at=None)  # never invited: nothing to cancel
    with django_capture_on_commit_callbacks(execute=True):
        services.gathering_cancel(gathering=meeting, acting_user=coordinator, reason="Floods")
    with pytest.raises(ApplicationError):
        services.gathering_cancel(gathering=meeting, acting_user=coordinator)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.contact.email for i in sent)
    assert all("METHOD:CANCEL" in m.attachments[0][1] for m in mail.outbox)
    assert "Floods" in mail.outbox[0].body


# --- Building the list --------------------------------------------------------------------


def _partner(name: str, *, aect=True, status=Organization.Status.ACTIVE, email=True):
    org = OrganizationFactory(name=name, takes_part_in_aect=aect, status=status)
    contact = ContactFactory(email=f"fp.{name.lower()}@example.org" if email else "")
    AffiliationFactory(contact=contact, organization=org, role=Affiliation.Role.FOCAL_POINT)
    return org, contact


def test_preview_focal_points_of_active_aect_partners(coordinator):
    meeting = MeetingFactory(status="draft")
    _a_org, a = _partner("Alpha")
    _b_org, b = _partner("Beta")
    _partner("Gamma", aect=False)
    _partner("Delta", status=Organization.Status.SUSPENDED)
    _e_org, e = _partner("Epsilon", email=False)
    InvitationFactory(gathering=meeting, contact=b)
    preview = services.invitees_preview(gathering=meeting, focal_points_of_aect_partners=True)
    assert [c for c, _ in preview.to_invite] == [a]
    assert [c for c, _ in preview.already_invited] == [b]
    assert [c for c, _ in preview.no_address] == [e]


def test_preview_by_kind_and_hand_picked(coordinator):
    meeting = MeetingFactory(status="draft")
    org = OrganizationFactory(kind=Organization.Kind.ACADEMIA)
    fp = ContactFactory()
    AffiliationFactory(contact=fp, organization=org, role=Affiliation.Role.FOCAL_POINT)
    picked = ContactFactory()
    other_org = OrganizationFactory()
    AffiliationFactory(contact=picked, organization=other_org)
    preview = services.invitees_preview(
        gathering=meeting, kinds=[Organization.Kind.ACADEMIA], contacts=[picked]
    )
    assert preview.to_invite == [(fp, org), (picked, other_org)]


def test_invitations_create_skips_already_invited_and_sends_when_open(
    coordinator, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory()
    org, contact = _partner("Alpha")
    with django_capture_on_commit_callbacks(execute=True):
        created = services.invitations_create(
            gathering=meeting, invitees=[(contact, org)], acting_user=coordinator
        )
        again = services.invitations_create(
            gathering=meeting, invitees=[(contact, org)], acting_user=coordinator
        )
    assert len(created) == 1
    assert again == []
    assert created[0].invited_by == coordinator
    assert len(mail.outbox) == 1


# --- Answers ------------------------------------------------------------------------------


def test_respond_accept_change_and_decline(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_respond(invitation=invitation, answer="online", dietary="vegan")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode, invitation.dietary) == (
        "accepted",
        "online",
        "vegan",
    )
    assert invitation.answered_at is not None
    assert "meet.example.org" in mail.outbox[0].body  # online: the joining link
    assert "PARTSTAT=ACCEPTED" in mail.outbox[0].attachments[0][1]
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_respond(invitation=invitation, answer="decline")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode) == ("declined", "")
    assert len(mail.outbox) == 2
    assert "METHOD:CANCEL" in mail.outbox[1].attachments[0][1]
    assert invitation.history.first().history_change_reason == "RSVP page"


def test_respond_refused_after_deadline_but_coordinator_may():
    invitation = InvitationFactory()
    with time_machine.travel(invitation.gathering.rsvp_deadline + datetime.timedelta(seconds=1)):
        with pytest.raises(ApplicationError, match="no longer"):
            services.invitation_respond(invitation=invitation, answer="in_person")
        services.invitation_respond(invitation=invitation, answer="in_person", by_coordinator=True)
    invitation.refresh_from_db()
    assert invitation.status == "accepted"


def test_respond_refused_when_cancelled_or_wrong_mode():
    meeting = MeetingFactory(format=Meeting.Format.ONLINE)
    invitation = InvitationFactory(gathering=meeting)
    with pytest.raises(ApplicationError, match="online only"):
        services.invitation_respond(invitation=invitation, answer="in_person")
    with pytest.raises(ApplicationError):
        services.invitation_respond(invitation=invitation, answer="maybe")
    Gathering.objects.filter(pk=meeting.pk).update(status="cancelled")
    with pytest.raises(ApplicationError, match="cancelled"):
        services.invitation_respond(invitation=invitation, answer="online")


def test_seats_per_organisation():
    meeting = MeetingFactory(seats_per_org=2)
    org = OrganizationFactory()
    a, b, c = (InvitationFactory(gathering=meeting, organization=org) for _ in range(3))
    services.invitation_respond(invitation=a, answer="in_person")
    services.invitation_respond(invitation=b, answer="online")
    with pytest.raises(ApplicationError, match="of your organisation"):
        services.invitation_respond(invitation=c, answer="in_person")
    # Changing an accepted answer does not need a new seat.
    services.invitation_respond(invitation=a, answer="online")
    # A decline frees the seat.
    services.invitation_respond(invitation=b, answer="decline")
    services.invitation_respond(invitation=c, answer="in_person")
    assert Invitation.objects.filter(status="accepted").count() == 2


def test_meeting_total_capacity():
    meeting = MeetingFactory(capacity=1)
    a, b = InvitationFactory(gathering=meeting), InvitationFactory(gathering=meeting)
    services.invitation_respond(invitation=a, answer="in_person")
    with pytest.raises(ApplicationError, match="every seat"):
        services.invitation_respond(invitation=b, answer="in_person")


def test_add_colleague_existing_and_new(django_capture_on_commit_callbacks):
    meeting = MeetingFactory(seats_per_org=3)
    org = OrganizationFactory()
    invitation = InvitationFactory(gathering=meeting, organization=org)
    with pytest.raises(ApplicationError, match="Accept"):
        services.invitation_add_colleague(invitation=invitation, email="x@example.org")
    services.invitation_respond(invitation=invitation, answer="in_person")
    known = ContactFactory(email="known@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        first = services.invitation_add_colleague(invitation=invitation, email="KNOWN@example.org")
        second = services.invitation_add_colleague(
            invitation=invitation,
            email="new@example.org",
            given_name="Ana",
            family_name="Lee",
            mode="online",
        )
    assert first.contact == known
    assert not known.needs_review
    assert first.status == "accepted"
    assert first.invited_via == invitation
    new = second.contact
    assert (new.full_name, new.needs_review) == ("Ana Lee", True)
    assert new.affiliations.get().organization == org
    assert second.mode == "online"
    assert {m.to[0] for m in mail.outbox} == {"known@example.org", "new@example.org"}
    assert all(Invitation.objects.get(contact__email=m.to[0]).token in m.body for m in mail.outbox)
    with pytest.raises(ApplicationError, match="seats"):
        services.invitation_add_colleague(
            invitation=invitation, email="third@example.org", given_name="A", family_name="B"
        )
    with pytest.raises(ApplicationError, match="already invited"):
        services.invitation_add_colleague(invitation=invitation, email="known@example.org")


def test_substitute(django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    services.invitation_respond(invitation=invitation, answer="in_person")
    with django_capture_on_commit_callbacks(execute=True):
        substitute = services.invitation_substitute(
            invitation=invitation, email="deputy@example.org", given_name="Dana", family_name="Ek"
        )
    invitation.refresh_from_db()
    assert invitation.status == Status.REPLACED
    assert invitation.replaced_by == substitute
    assert substitute.status == Status.PENDING
    assert substitute.organization == invitation.organization
    assert substitute.contact.needs_review
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == sorted([invitation.contact.email, "deputy@example.org"])
    to_deputy = next(m for m in mail.outbox if m.to[0] == "deputy@example.org")
    assert substitute.token in to_deputy.body
    assert invitation.token not in to_deputy.body
    # The replaced invitation can no longer answer; the substitute can.
    with pytest.raises(ApplicationError, match="colleague"):
        services.invitation_respond(invitation=invitation, answer="in_person")
    services.invitation_respond(invitation=substitute, answer="in_person")
    with pytest.raises(ApplicationError, match="not yourself"):
        services.invitation_substitute(invitation=substitute, email=substitute.contact.email)


def test_substitute_refuses_incomplete_new_person():
    invitation = InvitationFactory()
    with pytest.raises(ApplicationError) as exc:
        services.invitation_substitute(invitation=invitation, email="nobody@example.org")
    assert exc.value.field == "name"
    assert not Contact.objects.filter(email="nobody@example.org").exists()


def test_reissue_token_revokes_old_link(coordinator, django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    old = invitation.token
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_reissue_token(invitation=invitation, acting_user=coordinator)
    invitation.refresh_from_db()
    assert invitation.token != old
    assert len(invitation.token) >= 40
    assert not Invitation.objects.filter(token=old).exists()
    assert invitation.token in mail.outbox[0].body


def test_send_link_once_a_day_only_for_coming_gatherings(django_capture_on_commit_callbacks):
    invitation = InvitationFactory(contact__email="me@example.org")
    past = MeetingFactory(
        starts_at=timezone.now() - datetime.timedelta(days=9),
        ends_at=timezone.now() - datetime.timedelta(days=8),
        rsvp_deadline=timezone.now() - datetime.timedelta(days=10),
        status="held",
    )
    InvitationFactory(gathering=past, contact=invitation.contact)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.invitation_send_link(email=" ME@example.org ") == 1
        services.invitation_send_link(email="me@example.org")
        assert services.invitation_send_link(email="unknown@example.org") == 0
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body


def test_remind_only_pending_once_a_day(coordinator, django_capture_on_commit_callbacks):
    meeting = MeetingFactory()
    pending = InvitationFactory(gathering=meeting)
    answered = InvitationFactory(gathering=meeting, status=Status.DECLINED)
    with django_capture_on_commit_callbacks(execute=True):
        n = services.invitations_remind(
            gathering=meeting, invitations=[pending, answered], acting_user=coordinator
        )
        services.invitations_remind(
            gathering=meeting, invitations=[pending], acting_user=coordinator
        )
    assert n == 1
    assert [m.to[0] for m in mail.outbox] == [pending.contact.email]


def test_record_attendance(coordinator):
    meeting = MeetingFactory()
    a, b = InvitationFactory(gathering=meeting), InvitationFactory(gathering=meeting)
    with pytest.raises(ApplicationError):
        services.invitations_record_attendance(
            gathering=meeting, attendance={a.pk: "attended"}, acting_user=coordinator
        )
    with time_machine.travel(meeting.ends_at):
        changed = services.invitations_record_attendance(
            gathering=meeting,
            attendance={a.pk: "attended", b.pk: "absent"},
            acting_user=coordinator,
        )
        with pytest.raises(ApplicationError):
            services.invitations_record_attendance(
                gathering=meeting, attendance={a.pk: "bogus"}, acting_user=coordinator
            )
    assert changed == 2
    a.refresh_from_db()
    assert a.attendance == "attended"
    assert a.history.first().history_user == coordinator


def test_default_rule_moments_follow_the_meeting(coordinator):
    meeting = MeetingFactory()
    services.reminder_rules_create_defaults(gathering=meeting)
    rule = meeting.reminder_rules.get(days=14)
    local_deadline = meeting.rsvp_deadline.astimezone(meeting.tz)
    assert rule.due_at().date() == local_deadline.date() - datetime.timedelta(days=14)
    assert rule.due_at().hour == 9
    assert isinstance(rule, ReminderRule)


def test_same_moment_in_another_time_zone_is_not_a_move(
    coordinator, django_capture_on_commit_callbacks
):
    import zoneinfo

    meeting = MeetingFactory()
    InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="in_person")
    same = meeting.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    with django_capture_on_commit_callbacks(execute=True):
        services.gathering_update(gathering=meeting, acting_user=coordinator, starts_at=same)
    assert meeting.sequence == 0
    assert mail.outbox == []


def test_remind_refused_when_answers_closed(coordinator):
    meeting = MeetingFactory(status="closed")
    pending = InvitationFactory(gathering=meeting)
    with pytest.raises(ApplicationError, match="not being taken"):
        services.invitations_remind(
            gathering=meeting, invitations=[pending], acting_user=coordinator
        )

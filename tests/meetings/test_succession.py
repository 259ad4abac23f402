"""Focal-point succession: exactly what moves to the successor, what stays, and the record."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from crm.exceptions import ApplicationError
from crm.mail.models import OutgoingMessage
from meetings.models import FocalPointSuccession, FollowUp, Gathering, Invitation
from meetings.services.mail import mail_invitation
from meetings.services.succession import focal_point_succession
from members.models import Affiliation
from members.selectors import current_focal_point
from members.timeline import Kind, organization_timeline
from tests.factories import (
    AffiliationFactory,
    ContactFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Status = Invitation.Status


def _ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


@pytest.fixture
def setting(coordinator):
    """An organisation whose focal point Lena leaves: invitations and follow-ups of every
    state, and Max, who takes over (he is not affiliated yet)."""
    org = OrganizationFactory(name="Vienna Shelter Network", coordinator=coordinator)
    lena = ContactFactory(given_name="Lena", family_name="Hofer", email="lena@example.org")
    role = AffiliationFactory(
        contact=lena,
        organization=org,
        role=Affiliation.Role.FOCAL_POINT,
        start_date=timezone.localdate() - datetime.timedelta(days=700),
    )
    max_ = ContactFactory(given_name="Max", family_name="Berg", email="max@example.org")

    def invite(title, *, status=Status.PENDING, gathering_status=Gathering.Status.OPEN, **kw):
        meeting = MeetingFactory(title=title, status=gathering_status, **kw)
        return InvitationFactory(
            gathering=meeting,
            contact=lena,
            organization=org,
            status=status,
            mode="in_person" if status == Status.ACCEPTED else "",
            answered_at=None if status == Status.PENDING else _ago(1),
        )

    past_start = _ago(90)
    invitations = {
        "pending": invite("AECT 50"),
        "accepted": invite("AECT 51", status=Status.ACCEPTED),
        "declined": invite("AECT 52", status=Status.DECLINED),
        "draft": invite("AECT 53", gathering_status=Gathering.Status.DRAFT),
        "cancelled": invite("AECT 54", gathering_status=Gathering.Status.CANCELLED),
        "past": invite(
            "AECT 49",
            status=Status.ACCEPTED,
            gathering_status=Gathering.Status.HELD,
            starts_at=past_start,
            ends_at=past_start + datetime.timedelta(hours=7),
            rsvp_deadline=past_start - datetime.timedelta(days=10),
        ),
    }
    Invitation.objects.filter(pk=invitations["draft"].pk).update(sent_at=None)
    Invitation.objects.filter(pk=invitations["past"].pk).update(attendance="attended")
    # Lena's invitation on behalf of another organisation she also works for stays hers.
    other_org = OrganizationFactory(name="Other Network")
    AffiliationFactory(contact=lena, organization=other_org, role=Affiliation.Role.EXPERT)
    elsewhere = InvitationFactory(
        gathering=invitations["pending"].gathering, contact=ContactFactory(), organization=org
    )
    other = InvitationFactory(
        gathering=MeetingFactory(title="AECT 55"), contact=lena, organization=other_org
    )

    followups = {
        "open": FollowUp.objects.create(
            title="Send statistics", organization=org, owner_contact=lena, owner_user=coordinator
        ),
        "open_no_org": FollowUp.objects.create(
            title="Check the brochure", owner_contact=lena, owner_user=coordinator
        ),
        "done": FollowUp.objects.create(
            title="Share draft",
            organization=org,
            owner_contact=lena,
            owner_user=coordinator,
            status=FollowUp.Status.DONE,
            done_on=timezone.localdate(),
        ),
        "other_org": FollowUp.objects.create(
            title="Other network task",
            organization=other_org,
            owner_contact=lena,
            owner_user=coordinator,
        ),
    }
    return {
        "org": org,
        "lena": lena,
        "max": max_,
        "role": role,
        "invitations": invitations,
        "followups": followups,
        "colleague": elsewhere,
        "other": other,
    }


def _refresh(objects: dict) -> dict:
    for obj in objects.values():
        obj.refresh_from_db()
    return objects


def test_succession_moves_exactly_what_it_should(
    setting, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        record = focal_point_succession(
            organization=setting["org"], successor=setting["max"], acting_user=coordinator
        )
    lena, max_ = setting["lena"], setting["max"]
    invitations = _refresh(setting["invitations"])

    # Open invitations to coming, open meetings pass to Max, with his own link and e-mail.
    for key in ("pending", "accepted"):
        old = invitations[key]
        assert old.status == Status.REPLACED, key
        new = old.replaced_by
        assert new.contact == max_
        assert new.organization == setting["org"]
        assert new.status == Status.PENDING
        assert new.invited_via == old
        assert new.sent_at is not None
        assert new.token != old.token
    invitation_mail = [m for m in mail.outbox if m.to == ["max@example.org"]]
    assert len(invitation_mail) == 2
    for key in ("pending", "accepted"):
        new = invitations[key].replaced_by
        assert any(new.token in m.body for m in invitation_mail)

    # A draft meeting's invitation passes too, unsent: it goes out when the meeting opens.
    draft = invitations["draft"]
    assert draft.status == Status.REPLACED
    assert draft.replaced_by.contact == max_
    assert draft.replaced_by.sent_at is None
    assert not [m for m in mail.outbox if "AECT 53" in m.subject]

    # What stays Lena's: her decline, a cancelled meeting, the past meeting she attended, and
    # her invitation on behalf of another organisation.
    assert invitations["declined"].status == Status.DECLINED
    assert invitations["cancelled"].status == Status.PENDING
    assert invitations["past"].status == Status.ACCEPTED
    assert invitations["past"].attendance == "attended"
    assert invitations["past"].contact == lena
    setting["other"].refresh_from_db()
    assert setting["other"].status == Status.PENDING
    assert setting["other"].contact == lena
    setting["colleague"].refresh_from_db()
    assert setting["colleague"].status == Status.PENDING
    assert Invitation.objects.filter(contact=max_).count() == 3

    followups = _refresh(setting["followups"])
    assert followups["open"].owner_contact == max_
    assert followups["open_no_org"].owner_contact == max_
    assert followups["done"].owner_contact == lena
    assert followups["other_org"].owner_contact == lena
    assert followups["open"].history.first().history_user == coordinator

    # The roles: Lena's ended today, Max's began today; the one-focal-point rule holds.
    setting["role"].refresh_from_db()
    assert setting["role"].end_date == timezone.localdate()
    assert current_focal_point(setting["org"]).contact == max_
    assert Affiliation.objects.filter(organization=setting["org"], role="focal_point").count() == 2
    assert Affiliation.objects.filter(contact=lena, organization__name="Other Network").exists()

    # The record: who, when, what moved.
    assert record.departing == lena
    assert record.successor == max_
    assert record.acted_by == coordinator
    assert record.end_date == timezone.localdate()
    assert record.ended_affiliation == setting["role"]
    assert record.new_affiliation.contact == max_
    assert record.invitations_moved == 3
    assert record.followups_moved == 2
    moved = {m["from"]: m for m in record.moved["invitations"]}
    assert set(moved) == {invitations[k].pk for k in ("pending", "accepted", "draft")}
    assert moved[invitations["accepted"].pk]["was"] == Status.ACCEPTED
    assert moved[invitations["accepted"].pk]["to"] == invitations["accepted"].replaced_by_id
    assert sorted(record.moved["follow_ups"]) == sorted(
        [followups["open"].pk, followups["open_no_org"].pk]
    )
    assert record.moved["skipped"] == []

    entries = organization_timeline(setting["org"], kinds=[Kind.SUCCESSION], user=coordinator)
    assert [e.title for e in entries] == ["Focal point handed over: Lena Hofer → Max Berg"]
    assert "3 invitations moved" in entries[0].detail
    assert "2 follow-ups moved" in entries[0].detail


def test_consent_is_not_copied(setting, coordinator):
    lena, max_ = setting["lena"], setting["max"]
    lena.mail_opt_out_at = timezone.now()
    lena.save()
    focal_point_succession(organization=setting["org"], successor=max_, acting_user=coordinator)
    max_.refresh_from_db()
    assert max_.mail_opt_out_at is None

    opted_out = ContactFactory(mail_opt_out_at=timezone.now())
    focal_point_succession(
        organization=setting["org"], successor=opted_out, acting_user=coordinator
    )
    opted_out.refresh_from_db()
    assert opted_out.mail_opt_out_at is not None


def test_queued_reminders_for_moved_invitations_are_not_sent(setting, coordinator):
    pending = setting["invitations"]["pending"]
    reminder = mail_invitation(pending, template="reminder", key="remind:test", essential=False)
    assert reminder.status == OutgoingMessage.Status.QUEUED
    focal_point_succession(
        organization=setting["org"], successor=setting["max"], acting_user=coordinator
    )
    reminder.refresh_from_db()
    assert reminder.status == OutgoingMessage.Status.SUPPRESSED


def test_a_successor_already_affiliated_keeps_other_roles_and_already_invited_is_skipped(
    setting, coordinator
):
    max_ = setting["max"]
    AffiliationFactory(
        contact=max_, organization=setting["org"], role="expert", job_title="Legal adviser"
    )
    pending = setting["invitations"]["pending"]
    InvitationFactory(gathering=pending.gathering, contact=max_, organization=setting["org"])
    record = focal_point_succession(
        organization=setting["org"], successor=max_, acting_user=coordinator
    )
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert record.moved["skipped"] == [
        {"invitation": pending.pk, "reason": "successor_already_invited"}
    ]
    assert record.invitations_moved == 2
    assert "already invited" in " ".join(record.remarks)
    assert record.new_affiliation.job_title == "Legal adviser"
    assert Affiliation.objects.filter(contact=max_, role="expert", end_date=None).exists()


def test_a_successor_without_email_takes_the_role_but_not_the_invitations(setting, coordinator):
    nomail = ContactFactory(given_name="Ida", family_name="Ohne", email="")
    record = focal_point_succession(
        organization=setting["org"], successor=nomail, acting_user=coordinator
    )
    assert current_focal_point(setting["org"]).contact == nomail
    assert record.invitations_moved == 0
    assert {s["reason"] for s in record.moved["skipped"]} == {"successor_has_no_email"}
    assert len(record.moved["skipped"]) == 3
    assert "Ida Ohne has no e-mail address" in record.remarks[0]
    assert "stay with Lena Hofer" in record.remarks[0]
    setting["invitations"]["pending"].refresh_from_db()
    assert setting["invitations"]["pending"].status == Status.PENDING
    assert record.followups_moved == 2


def test_an_end_date_in_the_future_moves_only_meetings_after_it(setting, coordinator):
    pending = setting["invitations"]["pending"]  # in 30 days
    end = timezone.localdate() + datetime.timedelta(days=40)
    record = focal_point_succession(
        organization=setting["org"], successor=setting["max"], end_date=end, acting_user=coordinator
    )
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    assert record.invitations_moved == 0
    setting["role"].refresh_from_db()
    assert setting["role"].end_date == end
    assert current_focal_point(setting["org"]).contact == setting["lena"]
    assert record.new_affiliation.start_date == end


def test_errors(setting, coordinator):
    org, lena = setting["org"], setting["lena"]
    with pytest.raises(ApplicationError) as exc:
        focal_point_succession(organization=org, successor=lena, acting_user=coordinator)
    assert exc.value.field == "successor"
    assert "already the focal point" in exc.value.message

    with pytest.raises(ApplicationError) as exc:
        focal_point_succession(
            organization=OrganizationFactory(name="No Focal"),
            successor=setting["max"],
            acting_user=coordinator,
        )
    assert "has no current focal point" in exc.value.message

    with pytest.raises(ApplicationError) as exc:
        focal_point_succession(
            organization=org,
            successor=setting["max"],
            end_date=setting["role"].start_date - datetime.timedelta(days=1),
            acting_user=coordinator,
        )
    assert "end date cannot be before the start date" in exc.value.message

    stale = AffiliationFactory(
        contact=ContactFactory(),
        organization=org,
        role="focal_point",
        end_date=_ago(400).date(),
        start_date=_ago(800).date(),
    )
    with pytest.raises(ApplicationError) as exc:
        focal_point_succession(
            organization=org,
            successor=setting["max"],
            departing_affiliation=stale,
            acting_user=coordinator,
        )
    assert "no longer the focal point" in exc.value.message

    # Nothing half-done.
    setting["role"].refresh_from_db()
    assert setting["role"].end_date is None
    assert not FocalPointSuccession.objects.exists()
    assert not Invitation.objects.filter(contact=setting["max"]).exists()


# --- The back office ---------------------------------------------------------------------------


@pytest.fixture
def succession_client(client, coordinator):
    coordinator.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="meetings",
            codename__in=["change_invitation", "change_followup", "view_invitation"],
        )
    )
    client.force_login(coordinator)
    return client


def test_the_page_hands_over_and_shows_the_timeline(
    setting, succession_client, django_capture_on_commit_callbacks
):
    org = setting["org"]
    url = reverse("admin:members_organization_hand_over", args=[org.pk])
    change = succession_client.get(reverse("admin:members_organization_change", args=[org.pk]))
    assert url in change.content.decode()
    page = succession_client.get(url)
    assert page.status_code == 200
    assert "Lena Hofer is the focal point" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = succession_client.post(
            url,
            {"successor": setting["max"].pk, "end_date": timezone.localdate().isoformat()},
            follow=True,
        )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(
        "admin:members_organization_timeline", args=[org.pk]
    )
    body = response.content.decode()
    assert "Max Berg is now the focal point" in body
    assert "Focal point handed over: Lena Hofer → Max Berg" in body
    assert FocalPointSuccession.objects.get().acted_by.username == "coord"


def test_the_page_shows_a_refusal_on_the_form(setting, succession_client):
    url = reverse("admin:members_organization_hand_over", args=[setting["org"].pk])
    response = succession_client.post(
        url, {"successor": setting["lena"].pk, "end_date": timezone.localdate().isoformat()}
    )
    assert response.status_code == 200
    assert "already the focal point" in response.content.decode()
    assert not FocalPointSuccession.objects.exists()


def test_the_page_without_a_focal_point_redirects_with_a_message(succession_client):
    org = OrganizationFactory()
    response = succession_client.get(
        reverse("admin:members_organization_hand_over", args=[org.pk]), follow=True
    )
    assert "has no current focal point" in response.content.decode()


def test_the_page_needs_the_permissions(setting, coordinator_client):
    # Directory permissions alone do not move invitations and follow-ups.
    url = reverse("admin:members_organization_hand_over", args=[setting["org"].pk])
    assert coordinator_client.get(url).status_code == 403
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_organization"))
    coordinator_client.force_login(viewer)
    assert coordinator_client.get(url).status_code == 403


def test_the_page_warns_when_the_invitations_could_not_move(setting, succession_client):
    nomail = ContactFactory(given_name="Ida", family_name="Ohne", email="")
    url = reverse("admin:members_organization_hand_over", args=[setting["org"].pk])
    response = succession_client.post(
        url,
        {
            "successor": nomail.pk,
            "end_date": timezone.localdate().isoformat(),
            "notes": "Lena moved to the ministry.",
        },
        follow=True,
    )
    body = response.content.decode()
    assert "Ida Ohne has no e-mail address" in body
    record = FocalPointSuccession.objects.get()
    assert record.notes == "Lena moved to the ministry."
    assert "Lena moved to the ministry." in body  # on the timeline

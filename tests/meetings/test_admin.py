"""The meetings back office, through the Django test client as a coordinator."""

import csv
import datetime
import io
import zoneinfo

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.mail.models import OutgoingMessage
from meetings.models import FollowUp, Invitation, Meeting, ReminderRule
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
VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")


@pytest.fixture
def office(client, coordinator):
    """A coordinator whose group also holds the meetings permissions (the shared fixture
    grants the directory's only)."""
    group = coordinator.groups.get(name="Coordinators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="meetings"))
    client.force_login(coordinator)
    return client


def _url(name: str, *args) -> str:
    return reverse(f"admin:meetings_meeting_{name}", args=args)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _started_meeting(**kwargs) -> Meeting:
    now = timezone.now()
    return MeetingFactory(
        starts_at=now - datetime.timedelta(hours=2),
        ends_at=now + datetime.timedelta(hours=3),
        rsvp_deadline=now - datetime.timedelta(days=3),
        **kwargs,
    )


def _inlines(**initial) -> dict:
    data = {}
    for prefix in ("agenda_items", "documents", "reminder_rules", "follow_ups"):
        data[f"{prefix}-TOTAL_FORMS"] = str(initial.get(prefix, 0))
        data[f"{prefix}-INITIAL_FORMS"] = str(initial.get(prefix, 0))
    return data


def _meeting_data(start: datetime.datetime, **overrides) -> dict:
    """The change form's fields, times as wall-clock times in Vienna."""
    start = start.astimezone(VIENNA)
    end = start + datetime.timedelta(hours=7)
    deadline = start - datetime.timedelta(days=10)
    data = {
        "title": "AECT 50",
        "series": "AECT",
        "number": "50",
        "time_zone": "Europe/Vienna",
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": end.strftime("%Y-%m-%d"),
        "ends_at_1": end.strftime("%H:%M:%S"),
        "rsvp_deadline_0": deadline.strftime("%Y-%m-%d"),
        "rsvp_deadline_1": deadline.strftime("%H:%M:%S"),
        "format": "hybrid",
        "venue": "Hofburg, Vienna",
        "address": "Heldenplatz 1, 1010 Vienna",
        "online_link": "https://meet.example.org/aect",
        "seats_per_org": "2",
        "description": "",
        "invitation_message": "",
        "minutes": "",
        **_inlines(),
    }
    data.update(overrides)
    return data


# --- Pages ------------------------------------------------------------------------------


def test_meeting_and_invitation_pages_answer(office):
    meeting = MeetingFactory(title="Spring AECT")
    invitation = InvitationFactory(gathering=meeting)
    year = timezone.localtime(meeting.starts_at).year
    pages = [
        reverse("admin:meetings_meeting_changelist"),
        reverse("admin:meetings_meeting_changelist") + f"?status=open&format=hybrid&year={year}",
        reverse("admin:meetings_meeting_changelist") + "?q=spring",
        _url("add"),
        _url("change", meeting.pk),
        _url("history", meeting.pk),
        _url("board", meeting.pk),
        _url("invite", meeting.pk),
        _url("open_meeting", meeting.pk),
        _url("close_answers", meeting.pk),
        _url("mark_held", meeting.pk),
        _url("cancel_meeting", meeting.pk),
        reverse("admin:meetings_invitation_changelist"),
        reverse("admin:meetings_invitation_changelist")
        + f"?gathering__id__exact={meeting.pk}&status=pending&q={invitation.contact.family_name}",
        reverse("admin:meetings_invitation_change", args=[invitation.pk]),
        reverse("admin:meetings_invitation_record_answer", args=[invitation.pk]),
        reverse("admin:meetings_invitation_new_link", args=[invitation.pk]),
    ]
    for url in pages:
        assert office.get(url).status_code == 200, url
    listing = office.get(reverse("admin:meetings_meeting_changelist")).content.decode()
    assert "Spring AECT" in listing
    assert "0 / 1" in listing  # accepted / invited
    assert _url("board", meeting.pk) in listing


def test_adding_a_meeting_goes_through_the_service(office, coordinator):
    start = timezone.now() + datetime.timedelta(days=60)
    data = _meeting_data(start, time_zone="America/New_York")
    response = office.post(_url("add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    meeting = Meeting.objects.get(number=50)
    assert meeting.status == Meeting.Status.DRAFT
    assert meeting.created_by == coordinator
    assert meeting.reminder_rules.count() == 3
    assert set(meeting.reminder_rules.values_list("anchor", flat=True)) == {"deadline", "start"}
    # The times typed are wall-clock times of the meeting's own time zone.
    local = meeting.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
    assert local.strftime("%H:%M") == start.astimezone(VIENNA).strftime("%H:%M")


def test_moving_an_open_meeting_tells_those_who_accepted(
    office, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory(number=50)
    coming = InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="in_person")
    InvitationFactory(gathering=meeting)  # not answered: not told
    later = meeting.starts_at + datetime.timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(
            _url("change", meeting.pk),
            _meeting_data(later, title=meeting.title),
            follow=True,
        )
    assert response.status_code == 200
    assert any("1 person who accepted" in m for m in _messages(response))
    meeting.refresh_from_db()
    assert meeting.starts_at == later
    assert meeting.sequence == 1
    assert [m.to for m in mail.outbox] == [[coming.contact.email]]


def test_changing_the_minutes_tells_nobody(office, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(number=50)
    InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="online")
    start = meeting.starts_at
    with django_capture_on_commit_callbacks(execute=True):
        office.post(
            _url("change", meeting.pk),
            _meeting_data(start, title=meeting.title, minutes="We agreed."),
        )
    meeting.refresh_from_db()
    assert (meeting.minutes, meeting.sequence, mail.outbox) == ("We agreed.", 0, [])


def test_action_items_are_saved_as_meeting_follow_ups(office, coordinator):
    meeting = MeetingFactory(number=50)
    data = _meeting_data(meeting.starts_at, title=meeting.title)
    data.update(
        {
            "follow_ups-TOTAL_FORMS": "1",
            "follow_ups-0-title": "Circulate the survey",
            "follow_ups-0-owner_user": coordinator.pk,
            "follow_ups-0-due_date": "2030-01-15",
            "follow_ups-0-status": "open",
        }
    )
    response = office.post(_url("change", meeting.pk), data)
    assert response.status_code == 302
    item = FollowUp.objects.get()
    assert (item.gathering_id, item.source, item.owner_user) == (
        meeting.pk,
        FollowUp.Source.MEETING,
        coordinator,
    )


# --- Invite… ------------------------------------------------------------------------------


def test_invite_previews_three_groups_then_creates(office, django_capture_on_commit_callbacks):
    meeting = MeetingFactory()

    def partner(name, email):
        organization = OrganizationFactory(name=name, takes_part_in_aect=True)
        contact = ContactFactory(family_name=name, email=email)
        AffiliationFactory(contact=contact, organization=organization, role="focal_point")
        return contact

    new = partner("Newcomer", "new@example.org")
    known = partner("Known", "known@example.org")
    partner("Silent", "")
    outsider = ContactFactory(family_name="Outsider")
    AffiliationFactory(contact=outsider, role="focal_point")  # not an AECT partner
    InvitationFactory(gathering=meeting, contact=known)

    data = {"focal_points_of_aect_partners": "on", "roles": ["focal_point"], "preview": "1"}
    response = office.post(_url("invite", meeting.pk), data)
    preview = response.context["preview"]
    assert [c.family_name for c, _org in preview.to_invite] == ["Newcomer"]
    assert [c.family_name for c, _org in preview.already_invited] == ["Known"]
    assert [c.family_name for c, _org in preview.no_address] == ["Silent"]
    page = response.content.decode()
    assert "new@example.org" in page
    assert "Outsider" not in page
    assert meeting.invitations.count() == 1  # nothing created by the preview

    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(_url("invite", meeting.pk), {**data, "confirm": "1"}, follow=True)
    assert any("1 person invited" in m for m in _messages(response))
    invitation = meeting.invitations.get(contact=new)
    assert invitation.organization.name == "Newcomer"
    assert [m.to for m in mail.outbox] == [["new@example.org"]]


def test_invite_needs_a_selection(office):
    meeting = MeetingFactory()
    response = office.post(_url("invite", meeting.pk), {"preview": "1"})
    assert response.context["preview"] is None
    assert "Choose whom to invite" in response.content.decode()


def test_invite_hand_picked_contact(office):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)
    picked = ContactFactory()
    office.post(_url("invite", meeting.pk), {"contacts": [picked.pk], "confirm": "1"})
    invitation = meeting.invitations.get()
    assert (invitation.contact, invitation.sent_at) == (picked, None)


def test_invite_to_a_held_meeting_is_refused_with_a_message(office):
    meeting = _started_meeting(status=Meeting.Status.HELD)
    response = office.post(
        _url("invite", meeting.pk),
        {"contacts": [ContactFactory().pk], "confirm": "1"},
        follow=True,
    )
    assert response.status_code == 200
    assert any("nobody can be invited" in m for m in _messages(response))
    assert not meeting.invitations.exists()


# --- Response board -----------------------------------------------------------------------


@pytest.fixture
def answered():
    meeting = MeetingFactory()
    alpha = OrganizationFactory(name="Alpha Aid")
    beta = OrganizationFactory(name="Beta Help")
    people = {
        "in_person": InvitationFactory(
            gathering=meeting,
            organization=alpha,
            status=Status.ACCEPTED,
            mode="in_person",
            dietary='=HYPERLINK("http://evil.example")',
            contact__family_name="Anders",
        ),
        "online": InvitationFactory(
            gathering=meeting,
            organization=beta,
            status=Status.ACCEPTED,
            mode="online",
            contact__family_name="Berger",
        ),
        "declined": InvitationFactory(
            gathering=meeting,
            organization=alpha,
            status=Status.DECLINED,
            note="Next time!",
            contact__family_name="Clark",
        ),
        "pending_a": InvitationFactory(
            gathering=meeting, organization=alpha, contact__family_name="Dorn"
        ),
        "pending_b": InvitationFactory(
            gathering=meeting, organization=beta, contact__family_name="Ebner"
        ),
    }
    return meeting, people


def test_board_counts_and_lists_per_organisation(office, answered):
    meeting, people = answered
    response = office.get(_url("board", meeting.pk))
    counts = response.context["counts"]
    assert (counts["total"], counts["in_person"], counts["online"]) == (5, 1, 1)
    assert (counts["declined"], counts["pending"], counts["replaced"]) == (1, 2, 0)
    bars = {str(b["label"]): b for b in response.context["bars"]}
    assert bars["Not answered"]["width"] == "40.0"
    groups = {str(g["organization"].name): g for g in response.context["organisations"]}
    assert [i.contact.family_name for i in groups["Alpha Aid"]["answered"]] == ["Anders", "Clark"]
    assert [i.contact.family_name for i in groups["Alpha Aid"]["pending"]] == ["Dorn"]
    assert [i.contact.family_name for i in groups["Beta Help"]["pending"]] == ["Ebner"]
    needs = [i.contact.family_name for i in response.context["needs"]]
    assert needs == ["Anders", "Clark"]
    page = response.content.decode()
    assert "Next time!" in page
    assert people["online"].rsvp_path in page
    assert f'name="invitation" value="{people["pending_a"].pk}" checked' in page


def test_board_query_count_does_not_grow_with_invitations(office, django_assert_max_num_queries):
    meeting = MeetingFactory()

    def fill(n):
        for index in range(n):
            InvitationFactory(
                gathering=meeting, status=[Status.PENDING, Status.ACCEPTED][index % 2], mode=""
            )

    fill(3)
    with django_assert_max_num_queries(20) as few:
        assert office.get(_url("board", meeting.pk)).status_code == 200
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert office.get(_url("board", meeting.pk)).status_code == 200


def test_remind_sends_only_to_the_chosen_who_have_not_answered(
    office, answered, django_capture_on_commit_callbacks
):
    meeting, people = answered
    chosen = [people["pending_a"].pk, people["online"].pk]  # one has answered already
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(_url("remind", meeting.pk), {"invitation": chosen}, follow=True)
    assert any("1 person" in m for m in _messages(response))
    assert [m.to for m in mail.outbox] == [[people["pending_a"].contact.email]]
    assert OutgoingMessage.objects.get().key.startswith(f"remind:{people['pending_a'].pk}:")


def test_remind_on_a_closed_meeting_is_refused(office, answered):
    meeting, people = answered
    Meeting.objects.filter(pk=meeting.pk).update(status=Meeting.Status.CLOSED)
    response = office.post(
        _url("remind", meeting.pk), {"invitation": [people["pending_a"].pk]}, follow=True
    )
    assert any("only while the meeting takes answers" in m for m in _messages(response))
    assert not OutgoingMessage.objects.exists()


def test_participant_list_exports_as_csv_and_excel_without_formulas(office, answered):
    meeting, people = answered
    response = office.get(_url("export", meeting.pk, "csv"))
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Name", "Organisation", "Attends"]
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {
        people["in_person"].contact.full_name,
        people["online"].contact.full_name,
    }
    anders = by_name[people["in_person"].contact.full_name]
    assert anders[1:4] == ["Alpha Aid", "In person", '\'=HYPERLINK("http://evil.example")']
    assert anders[-1] == people["in_person"].contact.email

    response = office.get(_url("export", meeting.pk, "xlsx"))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 3
    cells = [v for row in values[1:] for v in row if v]
    assert not any(str(v).startswith("=") for v in cells)
    assert '\'=HYPERLINK("http://evil.example")' in cells
    assert office.get(_url("export", meeting.pk, "pdf")).status_code == 404


def test_attendance_is_recorded_after_the_start(office, coordinator):
    meeting = _started_meeting(status=Meeting.Status.CLOSED)
    came = InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="in_person")
    missed = InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="online")
    page = office.get(_url("board", meeting.pk)).content.decode()
    assert f'name="attendance-{came.pk}"' in page
    response = office.post(
        _url("attendance", meeting.pk),
        {f"attendance-{came.pk}": "attended", f"attendance-{missed.pk}": "absent"},
        follow=True,
    )
    assert any("2 changes" in m for m in _messages(response))
    came.refresh_from_db()
    missed.refresh_from_db()
    assert (came.attendance, missed.attendance) == ("attended", "absent")
    assert came.history.first().history_user == coordinator


def test_attendance_before_the_start_is_refused_with_a_message(office):
    meeting = MeetingFactory()
    invitation = InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="online")
    response = office.post(
        _url("attendance", meeting.pk), {f"attendance-{invitation.pk}": "attended"}, follow=True
    )
    assert response.status_code == 200
    assert any("once the gathering has started" in m for m in _messages(response))
    invitation.refresh_from_db()
    assert invitation.attendance == "unknown"


def test_new_link_from_the_board_revokes_the_old_one(office, django_capture_on_commit_callbacks):
    invitation = InvitationFactory()
    old = invitation.token
    with django_capture_on_commit_callbacks(execute=True):
        office.post(_url("new_link", invitation.gathering_id), {"invitation": invitation.pk})
    invitation.refresh_from_db()
    assert invitation.token != old
    assert [m.to for m in mail.outbox] == [[invitation.contact.email]]
    assert office.get(reverse("rsvp:page", args=[old])).status_code == 404


# --- Life cycle -----------------------------------------------------------------------------


def test_open_asks_first_then_sends_the_invitations(office, django_capture_on_commit_callbacks):
    meeting = MeetingFactory(status=Meeting.Status.DRAFT)
    invitation = InvitationFactory(gathering=meeting, sent_at=None)
    ask = office.get(_url("open_meeting", meeting.pk))
    assert "sent to 1 person" in ask.content.decode()
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.DRAFT  # a GET changes nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(_url("open_meeting", meeting.pk), follow=True)
    assert any("The meeting is open" in m for m in _messages(response))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.OPEN
    assert [m.to for m in mail.outbox] == [[invitation.contact.email]]


def test_close_then_mark_held(office):
    meeting = _started_meeting()
    office.post(_url("close_answers", meeting.pk))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CLOSED
    office.post(_url("mark_held", meeting.pk))
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.HELD


def test_refused_transitions_show_a_message_not_an_error(office):
    draft = MeetingFactory(status=Meeting.Status.DRAFT)
    response = office.post(_url("close_answers", draft.pk), follow=True)
    assert response.status_code == 200
    assert any("only an open gathering can be closed" in m for m in _messages(response))
    future = MeetingFactory()
    response = office.post(_url("mark_held", future.pk), follow=True)
    assert any("only once it has started" in m for m in _messages(response))
    for meeting in (draft, future):
        status = meeting.status
        meeting.refresh_from_db()
        assert meeting.status == status


def test_cancel_warns_then_tells_everyone_invited_with_the_reason(
    office, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory()
    invited = [
        InvitationFactory(gathering=meeting),
        InvitationFactory(gathering=meeting, status=Status.ACCEPTED, mode="online"),
    ]
    ask = office.get(_url("cancel_meeting", meeting.pk))
    assert "2 people who were invited will be told" in ask.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        office.post(_url("cancel_meeting", meeting.pk), {"reason": "The venue is closed."})
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert sorted(m.to[0] for m in mail.outbox) == sorted(i.contact.email for i in invited)
    assert all("The venue is closed." in m.body for m in mail.outbox)


def test_schedule_of_a_cancelled_meeting_is_read_only(office):
    meeting = MeetingFactory(status=Meeting.Status.CANCELLED)
    form = office.get(_url("change", meeting.pk)).context["adminform"].form
    assert "starts_at" not in form.fields
    assert "minutes" in form.fields


# --- Invitations ----------------------------------------------------------------------------


def test_coordinator_records_an_answer_given_by_phone(
    office, coordinator, django_capture_on_commit_callbacks
):
    meeting = _started_meeting(status=Meeting.Status.CLOSED)  # past the deadline
    invitation = InvitationFactory(gathering=meeting)
    url = reverse("admin:meetings_invitation_record_answer", args=[invitation.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(url, {"answer": "online", "dietary": "Vegan"}, follow=True)
    assert any("is recorded" in m for m in _messages(response))
    invitation.refresh_from_db()
    assert (invitation.status, invitation.mode, invitation.dietary) == (
        "accepted",
        "online",
        "Vegan",
    )
    assert invitation.history.first().history_user == coordinator
    assert [m.to for m in mail.outbox] == [[invitation.contact.email]]


def test_phone_answer_refused_by_the_service_is_a_message(office):
    meeting = MeetingFactory(seats_per_org=1)
    organization = OrganizationFactory()
    InvitationFactory(
        gathering=meeting, organization=organization, status=Status.ACCEPTED, mode="online"
    )
    second = InvitationFactory(gathering=meeting, organization=organization)
    url = reverse("admin:meetings_invitation_record_answer", args=[second.pk])
    response = office.post(url, {"answer": "online"}, follow=True)
    assert response.status_code == 200
    assert any("seat of your organisation is taken" in m for m in _messages(response))
    second.refresh_from_db()
    assert second.status == Status.PENDING


def test_invitation_token_is_read_only(office):
    invitation = InvitationFactory()
    response = office.get(reverse("admin:meetings_invitation_change", args=[invitation.pk]))
    assert invitation.token in response.content.decode()
    assert "token" not in response.context["adminform"].form.fields


# --- Permissions ----------------------------------------------------------------------------


def _protected(meeting, invitation):
    return [
        ("get", _url("board", meeting.pk)),
        ("get", _url("invite", meeting.pk)),
        ("get", _url("export", meeting.pk, "csv")),
        ("get", _url("export", meeting.pk, "xlsx")),
        ("post", _url("remind", meeting.pk)),
        ("post", _url("attendance", meeting.pk)),
        ("post", _url("new_link", meeting.pk)),
        ("post", _url("open_meeting", meeting.pk)),
        ("post", _url("cancel_meeting", meeting.pk)),
        ("post", reverse("admin:meetings_invitation_record_answer", args=[invitation.pk])),
    ]


def test_staff_without_meetings_permissions_get_403(coordinator_client):
    invitation = InvitationFactory()
    meeting = invitation.gathering
    bare = Client()
    bare.force_login(UserFactory(is_staff=True))
    # Both a bare staff user and a coordinator with the directory's permissions only.
    for user_client in (bare, coordinator_client):
        for method, url in _protected(meeting, invitation):
            response = getattr(user_client, method)(url)
            assert response.status_code == 403, (method, url)
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.OPEN


def test_viewer_sees_the_board_but_cannot_remind(client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_meeting", "view_invitation"])
    )
    client.force_login(viewer)
    invitation = InvitationFactory()
    response = client.get(_url("board", invitation.gathering_id))
    assert response.status_code == 200
    assert _url("remind", invitation.gathering_id) not in response.content.decode()
    assert client.post(_url("remind", invitation.gathering_id)).status_code == 403


def test_default_rules_are_editable_inline(office):
    meeting = MeetingFactory()
    ReminderRule.objects.create(
        gathering=meeting,
        name="Nudge",
        anchor="deadline",
        days=5,
        audience="not_answered",
        template="reminder",
    )
    page = office.get(_url("change", meeting.pk)).content.decode()
    assert "Nudge" in page


def test_change_page_shows_times_in_the_meeting_time_zone_and_the_buttons(office):
    start = datetime.datetime(2031, 3, 4, 15, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
    meeting = MeetingFactory(
        time_zone="America/New_York",
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=2),
        rsvp_deadline=start - datetime.timedelta(days=7),
    )
    page = office.get(_url("change", meeting.pk)).content.decode()
    assert 'value="15:30:00"' in page
    for name in ("board", "invite", "open_meeting", "close_answers", "mark_held", "cancel_meeting"):
        assert _url(name, meeting.pk) in page, name
    listing = office.get(reverse("admin:meetings_meeting_changelist")).content.decode()
    assert "EST" in listing


def test_contact_autocomplete_of_the_invite_form(office):
    ContactFactory(family_name="Zeller")
    response = office.get(
        reverse("admin:autocomplete"),
        {
            "term": "zell",
            "app_label": "meetings",
            "model_name": "invitation",
            "field_name": "contact",
        },
    )
    assert response.status_code == 200
    assert "Zeller" in response.content.decode()

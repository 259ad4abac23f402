"""Consultations and follow-ups in the back office, through the Django test client."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from meetings import services
from meetings.models import Consultation, FollowUp
from members.models import FocusArea
from tests.factories import ContactFactory, MeetingFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

Status = FollowUp.Status
RESTRICTED = Consultation.Confidentiality.RESTRICTED


@pytest.fixture
def office(client, coordinator):
    """A coordinator whose group holds every meetings permission, the restricted one too."""
    group = coordinator.groups.get(name="Coordinators")
    group.permissions.add(*Permission.objects.filter(content_type__app_label="meetings"))
    client.force_login(coordinator)
    return client


@pytest.fixture
def viewer_client():
    """A staff account that may look at and edit consultations, but not restricted ones."""
    viewer = UserFactory(is_staff=True, username="viewer")
    viewer.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["meetings", "members"],
            codename__startswith="view_",
        ).exclude(codename="view_restricted_consultation"),
        *Permission.objects.filter(
            codename__in=["add_consultation", "change_consultation", "change_followup"]
        ),
    )
    client = Client()
    client.force_login(viewer)
    return client


def _url(model: str, name: str, *args) -> str:
    return reverse(f"admin:meetings_{model}_{name}", args=args)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _today() -> datetime.date:
    return timezone.localdate()


def _consultation(user, orgs, kind="multi", **fields) -> Consultation:
    fields.setdefault("title", "Survey of commitments: first round")
    fields.setdefault("held_on", _today() - datetime.timedelta(days=10))
    return services.consultation_create(
        acting_user=user, organizations=orgs, kind=kind, channel="video", **fields
    )


def _followup(user, title, due_in=None, **fields) -> FollowUp:
    due = _today() + datetime.timedelta(days=due_in) if due_in is not None else None
    return services.followup_create(acting_user=user, title=title, due_date=due, **fields)


def _form_data(orgs, **overrides) -> dict:
    data = {
        "title": "Consultation on the survey of commitments",
        "kind": "multi",
        "channel": "video",
        "held_on": "2026-03-12",
        "label": "OSCE survey of commitments 2026",
        "confidentiality": "normal",
        "organizations": [o.pk for o in orgs],
        "summary": "Partners commented on the questionnaire.",
        "outcomes": "Two partners review the chapter on victim identification.",
        "follow_ups-TOTAL_FORMS": "0",
        "follow_ups-INITIAL_FORMS": "0",
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


# --- Pages ------------------------------------------------------------------------------


def test_pages_answer_for_a_coordinator(office, coordinator):
    orgs = [OrganizationFactory(name="Lantern Shelter Network"), OrganizationFactory()]
    consultation = _consultation(coordinator, orgs, topics=FocusArea.objects.all()[:2])
    followup = _followup(coordinator, "Send the questionnaire", 3, consultation=consultation)
    _followup(coordinator, "Agenda item", 3, gathering=MeetingFactory(), source="meeting")
    topic = FocusArea.objects.first()
    pages = [
        _url("consultation", "changelist"),
        _url("consultation", "changelist")
        + f"?kind=multi&channel=video&confidentiality=normal&topics__id__exact={topic.pk}"
        + f"&year={consultation.held_on.year}&organizations__id__exact={orgs[0].pk}",
        _url("consultation", "changelist") + "?q=lantern",
        _url("consultation", "add"),
        _url("consultation", "change", consultation.pk),
        _url("consultation", "history", consultation.pk),
        _url("followup", "changelist"),
        _url("followup", "changelist")
        + f"?status=open&source=consultation&owner_user__id__exact={coordinator.pk}&overdue=no",
        _url("followup", "changelist") + "?overdue=yes&q=questionnaire",
        _url("followup", "add"),
        _url("followup", "change", followup.pk),
        _url("followup", "history", followup.pk),
        _url("followup", "my_followups"),
    ]
    for url in pages:
        response = office.get(url)
        assert response.status_code == 200, url
    listing = office.get(_url("followup", "changelist")).content.decode()
    assert _url("followup", "my_followups") in listing
    assert _url("consultation", "change", consultation.pk) in listing


def test_consultation_list_shows_partners_and_open_follow_ups(office, coordinator):
    a = OrganizationFactory(acronym="LSN")
    b = OrganizationFactory(acronym="RCA")
    consultation = _consultation(coordinator, [a, b], label="OSCE survey of commitments 2026")
    _followup(coordinator, "One", 3, consultation=consultation)
    _followup(coordinator, "Two", 5, consultation=consultation)
    done = _followup(coordinator, "Three", -5, consultation=consultation)
    services.followup_complete(followup=done, acting_user=coordinator)
    response = office.get(_url("consultation", "changelist") + "?q=RCA")
    [row] = response.context["cl"].result_list
    assert row == consultation
    assert row.n_open_followups == 2
    content = response.content.decode()
    assert "LSN, RCA" in content
    assert "OSCE survey of commitments 2026" in content


# --- The bilateral rule and saving through the services -----------------------------------


def test_bilateral_with_two_partners_is_a_field_error_and_saves_nothing(office):
    orgs = [OrganizationFactory(), OrganizationFactory()]
    response = office.post(_url("consultation", "add"), _form_data(orgs, kind="bilateral"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "exactly one partner organisation" in " ".join(errors["organizations"])
    assert not Consultation.objects.exists()
    assert not FollowUp.objects.exists()


def test_changing_to_bilateral_with_two_partners_is_refused_on_the_field(office, coordinator):
    orgs = [OrganizationFactory(), OrganizationFactory()]
    consultation = _consultation(coordinator, orgs)
    response = office.post(
        _url("consultation", "change", consultation.pk),
        _form_data(orgs, kind="bilateral", title=consultation.title),
    )
    assert response.status_code == 200
    assert "organizations" in response.context["adminform"].form.errors
    consultation.refresh_from_db()
    assert consultation.kind == "multi"


def test_multi_stakeholder_with_three_partners_and_two_follow_ups(office, coordinator):
    orgs = [OrganizationFactory() for _ in range(3)]
    partner = ContactFactory()
    topics = list(FocusArea.objects.filter(code__in=["prevention", "labour_exploitation"]))
    data = _form_data(
        orgs,
        topics=[t.pk for t in topics],
        contacts=[partner.pk],
        staff=[coordinator.pk],
    )
    data.update(
        {
            "follow_ups-TOTAL_FORMS": "2",
            "follow_ups-0-title": "Circulate the revised questionnaire",
            "follow_ups-0-owner_user": coordinator.pk,
            "follow_ups-0-due_date": "2026-04-01",
            "follow_ups-0-status": "open",
            "follow_ups-1-title": "Comment on the chapter on victim identification",
            "follow_ups-1-owner_user": coordinator.pk,
            "follow_ups-1-owner_contact": partner.pk,
            "follow_ups-1-organization": orgs[1].pk,
            "follow_ups-1-due_date": "2026-04-15",
            "follow_ups-1-status": "open",
        }
    )
    response = office.post(_url("consultation", "add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    consultation = Consultation.objects.get()
    assert set(consultation.organizations.all()) == set(orgs)
    assert set(consultation.topics.all()) == set(topics)
    assert list(consultation.contacts.all()) == [partner]
    assert list(consultation.staff.all()) == [coordinator]
    assert consultation.created_by == coordinator
    assert consultation.history.first().history_user == coordinator
    followups = list(consultation.follow_ups.order_by("due_date"))
    assert [(f.source, f.status, f.owner_user) for f in followups] == [
        (FollowUp.Source.CONSULTATION, Status.OPEN, coordinator),
        (FollowUp.Source.CONSULTATION, Status.OPEN, coordinator),
    ]
    assert followups[1].owner_contact == partner
    assert followups[1].organization == orgs[1]
    assert followups[0].history.first().history_user == coordinator


def test_follow_up_owned_by_a_partner_needs_an_office_member(office):
    orgs = [OrganizationFactory()]
    data = _form_data(orgs, kind="bilateral")
    data.update(
        {
            "follow_ups-TOTAL_FORMS": "1",
            "follow_ups-0-title": "Send the country data",
            "follow_ups-0-owner_contact": ContactFactory().pk,
            "follow_ups-0-status": "open",
        }
    )
    response = office.post(_url("consultation", "add"), data)
    assert response.status_code == 200
    assert "office member responsible" in response.content.decode()
    assert not Consultation.objects.exists()


def test_status_changed_in_the_inline_goes_through_the_services(office, coordinator):
    org = OrganizationFactory()
    consultation = _consultation(coordinator, [org], kind="bilateral")
    followup = _followup(coordinator, "Send the report", 5, consultation=consultation)
    assert followup.organization == org  # the service names the only partner
    data = _form_data([org], kind="bilateral", title=consultation.title)
    data.update(
        {
            "follow_ups-TOTAL_FORMS": "1",
            "follow_ups-INITIAL_FORMS": "1",
            "follow_ups-0-id": followup.pk,
            "follow_ups-0-consultation": consultation.pk,
            "follow_ups-0-title": "Send the annual report",
            "follow_ups-0-owner_user": coordinator.pk,
            "follow_ups-0-organization": org.pk,
            "follow_ups-0-due_date": followup.due_date.isoformat(),
            "follow_ups-0-status": "done",
        }
    )
    response = office.post(_url("consultation", "change", consultation.pk), data)
    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.title, followup.status, followup.done_on) == (
        "Send the annual report",
        Status.DONE,
        _today(),
    )


# --- Restricted consultations ------------------------------------------------------------


def test_restricted_consultations_are_invisible_without_the_permission(
    viewer_client, office, coordinator
):
    org = OrganizationFactory()
    normal = _consultation(coordinator, [org], kind="bilateral", title="Open talk")
    secret = _consultation(
        coordinator, [org], kind="bilateral", title="Confidential talk", confidentiality=RESTRICTED
    )
    hidden_followup = _followup(coordinator, "Confidential step", 2, consultation=secret)
    _followup(coordinator, "Open step", 2, consultation=normal)

    listing = viewer_client.get(_url("consultation", "changelist"))
    assert list(listing.context["cl"].result_list) == [normal]
    assert "Confidential talk" not in listing.content.decode()
    for url in (
        _url("consultation", "change", secret.pk),
        _url("consultation", "history", secret.pk),
        _url("followup", "change", hidden_followup.pk),
        _url("followup", "history", hidden_followup.pk),
    ):
        response = viewer_client.get(url)
        assert response.status_code == 302, url
        assert response.url == reverse("admin:index")
    assert viewer_client.get(_url("consultation", "change", normal.pk)).status_code == 200
    followups = viewer_client.get(_url("followup", "changelist"))
    assert [f.title for f in followups.context["cl"].result_list] == ["Open step"]
    autocomplete = viewer_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "meetings",
            "model_name": "followup",
            "field_name": "consultation",
            "term": "talk",
        },
    )
    assert [r["text"] for r in autocomplete.json()["results"]] == [str(normal)]

    # The coordinator sees both.
    listing = office.get(_url("consultation", "changelist"))
    assert set(listing.context["cl"].result_list) == {normal, secret}
    assert office.get(_url("consultation", "change", secret.pk)).status_code == 200


def test_only_those_who_may_see_restricted_can_choose_it(viewer_client, office):
    org = OrganizationFactory()
    form = viewer_client.get(_url("consultation", "add")).context["adminform"].form
    assert [value for value, _label in form.fields["confidentiality"].choices] == ["normal"]
    response = viewer_client.post(
        _url("consultation", "add"),
        _form_data([org], kind="bilateral", confidentiality="restricted"),
    )
    assert response.status_code == 200
    assert "confidentiality" in response.context["adminform"].form.errors
    assert not Consultation.objects.exists()

    response = office.post(
        _url("consultation", "add"),
        _form_data([org], kind="bilateral", confidentiality="restricted"),
    )
    assert response.status_code == 302
    assert Consultation.objects.get().confidentiality == RESTRICTED


# --- The follow-up list and its actions ---------------------------------------------------


def test_follow_up_list_flags_overdue_and_links_the_source(office, coordinator):
    org = OrganizationFactory()
    consultation = _consultation(coordinator, [org], kind="bilateral")
    late = _followup(coordinator, "Late step", -3, consultation=consultation)
    meeting = MeetingFactory(title="AECT 49")
    _followup(coordinator, "Circulate minutes", 4, gathering=meeting, source="meeting")
    response = office.get(_url("followup", "changelist"))
    content = response.content.decode()
    assert content.count('class="overdue"') == 1
    assert _url("consultation", "change", consultation.pk) in content
    assert reverse("admin:meetings_meeting_change", args=[meeting.pk]) in content
    overdue = office.get(_url("followup", "changelist") + "?overdue=yes")
    assert list(overdue.context["cl"].result_list) == [late]


def test_mark_done_and_cancel_actions_call_the_services(office, coordinator):
    one = _followup(coordinator, "One", 1)
    two = _followup(coordinator, "Two", 2)
    three = _followup(coordinator, "Three", 3)
    url = _url("followup", "changelist")
    response = office.post(
        url, {"action": "mark_done", "_selected_action": [one.pk, two.pk]}, follow=True
    )
    assert "2 follow-ups marked done." in _messages(response)
    response = office.post(
        url, {"action": "cancel", "_selected_action": [two.pk, three.pk]}, follow=True
    )
    assert "1 follow-up cancelled." in _messages(response)
    assert any("already Done" in m for m in _messages(response))
    statuses = dict(FollowUp.objects.values_list("title", "status"))
    assert statuses == {"One": Status.DONE, "Two": Status.DONE, "Three": Status.CANCELLED}
    one.refresh_from_db()
    assert one.done_on == _today()
    assert one.history.first().history_user == coordinator


def test_adding_a_follow_up_goes_through_the_service(office, coordinator):
    org = OrganizationFactory()
    consultation = _consultation(coordinator, [org], kind="bilateral")
    response = office.post(
        _url("followup", "add"),
        {
            "title": "Share the country data",
            "status": "open",
            "due_date": "2026-05-02",
            "owner_user": coordinator.pk,
            "consultation": consultation.pk,
            "notes": "",
        },
    )
    assert response.status_code == 302
    followup = FollowUp.objects.get()
    assert (followup.source, followup.organization) == (FollowUp.Source.CONSULTATION, org)
    response = office.post(
        _url("followup", "change", followup.pk),
        {
            "title": followup.title,
            "status": "cancelled",
            "due_date": "2026-05-09",
            "owner_user": coordinator.pk,
            "organization": org.pk,
            "notes": "Data published anyway.",
        },
    )
    assert response.status_code == 302
    followup.refresh_from_db()
    assert (followup.status, followup.due_date) == (Status.CANCELLED, datetime.date(2026, 5, 9))


# --- My follow-ups ------------------------------------------------------------------------


def test_my_follow_ups_lists_only_mine_open_by_due_date(office, coordinator):
    colleague = UserFactory(is_staff=True)
    later = _followup(coordinator, "Later", 10, owner_user=coordinator)
    overdue = _followup(coordinator, "Overdue", -2, owner_user=coordinator)
    undated = _followup(coordinator, "Undated", None, owner_user=coordinator)
    soon = _followup(coordinator, "Soon", 1, owner_user=coordinator)
    _followup(coordinator, "Not mine", -5, owner_user=colleague)
    finished = _followup(coordinator, "Finished", -1, owner_user=coordinator)
    services.followup_complete(followup=finished, acting_user=coordinator)

    response = office.get(_url("followup", "my_followups"))
    rows = response.context["rows"]
    assert [row["followup"] for row in rows] == [overdue, soon, later, undated]
    assert [row["overdue"] for row in rows] == [True, False, False, False]
    content = response.content.decode()
    assert "Not mine" not in content
    assert content.count('class="overdue"') == 1

    response = office.post(_url("followup", "my_followups"), {"done": overdue.pk}, follow=True)
    assert response.status_code == 200
    overdue.refresh_from_db()
    assert (overdue.status, overdue.done_on) == (Status.DONE, _today())
    assert [row["followup"] for row in response.context["rows"]] == [soon, later, undated]


def test_my_follow_ups_done_refuses_someone_elses(office, coordinator):
    theirs = _followup(coordinator, "Theirs", 2, owner_user=UserFactory(is_staff=True))
    response = office.post(_url("followup", "my_followups"), {"done": theirs.pk})
    assert response.status_code == 404
    assert office.get(_url("followup", "my_followups") + f"?done={theirs.pk}").status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == Status.OPEN


# --- Query counts -------------------------------------------------------------------------


def _fill(user, n: int) -> None:
    meeting = MeetingFactory()
    for i in range(n):
        orgs = [OrganizationFactory() for _ in range(3)]
        consultation = _consultation(user, orgs, title=f"Consultation {i}", label="Survey")
        _followup(user, f"From consultation {i}", i - 2, consultation=consultation)
        _followup(
            user,
            f"From meeting {i}",
            i,
            gathering=meeting,
            source="meeting",
            owner_user=user,
            owner_contact=ContactFactory(),
            organization=orgs[0],
        )


@pytest.mark.parametrize(("model", "queries"), [("consultation", 10), ("followup", 8)])
def test_change_list_query_count_does_not_grow_with_rows(
    office, coordinator, model, queries, django_assert_num_queries
):
    url = _url(model, "changelist")
    _fill(coordinator, 3)
    with django_assert_num_queries(queries):
        office.get(url)
    _fill(coordinator, 30)
    with django_assert_num_queries(queries):
        office.get(url)

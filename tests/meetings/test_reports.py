"""The partnership dashboard: figures against hand-made data, the CSV and SVG behind each chart,
who may see it, and a query count that does not grow with the directory."""

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET
import zoneinfo

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.urls import reverse

from meetings.models import Consultation, FollowUp, Gathering, Invitation
from meetings.reports import selectors
from members.models import FocusArea, MembershipChange, Organization
from tests.factories import (
    ContactFactory,
    InvitationFactory,
    MeetingFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")
TODAY = datetime.date(2025, 6, 15)
SVG = "{http://www.w3.org/2000/svg}"
Answer, Presence = Invitation.Status, Invitation.Attendance
Kind = Organization.Kind
OrgStatus = Organization.Status


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(datetime.datetime(2025, 6, 15, 10, tzinfo=VIENNA), tick=False):
        yield


@pytest.fixture
def office(client, coordinator):
    """A coordinator who may also see restricted consultations."""
    coordinator.groups.get(name="Coordinators").permissions.add(
        *Permission.objects.filter(content_type__app_label="meetings")
    )
    client.force_login(coordinator)
    return client


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, tzinfo=VIENNA)


def held(day: datetime.date, **kwargs):
    start = at(day)
    return MeetingFactory(
        starts_at=start,
        ends_at=start + datetime.timedelta(hours=6),
        rsvp_deadline=start - datetime.timedelta(days=7),
        status=Gathering.Status.HELD,
        **kwargs,
    )


def invite(meeting, organization, status=Answer.PENDING, attendance=Presence.UNKNOWN, **kw):
    answered = None if status == Answer.PENDING else meeting.starts_at - datetime.timedelta(days=9)
    return InvitationFactory(
        gathering=meeting,
        organization=organization,
        status=status,
        attendance=attendance,
        answered_at=kw.pop("answered_at", answered),
        **kw,
    )


def history(organization, *steps: tuple[str, str]):
    previous = ""
    for day, to_status in steps:
        MembershipChange.objects.create(
            organization=organization,
            from_status=previous,
            to_status=to_status,
            effective_date=datetime.date.fromisoformat(day),
        )
        previous = to_status


def consultation(day: str, *codes: str, organizations=(), restricted=False) -> Consultation:
    item = Consultation.objects.create(
        kind=Consultation.Kind.MULTI if len(organizations) != 1 else Consultation.Kind.BILATERAL,
        held_on=datetime.date.fromisoformat(day),
        channel=Consultation.Channel.CALL,
        title=f"Consultation of {day}",
        confidentiality=(
            Consultation.Confidentiality.RESTRICTED
            if restricted
            else Consultation.Confidentiality.NORMAL
        ),
    )
    item.topics.set(FocusArea.objects.filter(code__in=codes))
    item.organizations.set(organizations)
    return item


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def figure_url(slug: str, **query) -> str:
    url = reverse("reports:figure", args=[slug])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def parse_svg(content: bytes | str) -> ET.Element:
    """Our own output, parsed to prove it is well-formed XML."""
    return ET.fromstring(content)  # noqa: S314


def svg_texts(root: ET.Element) -> str:
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


# --- 1. Membership over time --------------------------------------------------------------


@pytest.fixture
def membership_data():
    ngo_a = OrganizationFactory(acronym="", name="Alpha", kind=Kind.NGO, status=OrgStatus.ACTIVE)
    history(
        ngo_a,
        ("2023-01-10", OrgStatus.INVITED),
        ("2023-02-15", OrgStatus.ACTIVE),
        ("2024-05-01", OrgStatus.SUSPENDED),
        ("2024-09-01", OrgStatus.ACTIVE),
    )
    ngo_e = OrganizationFactory(acronym="", name="Echo", kind=Kind.NGO, status=OrgStatus.ACTIVE)
    history(ngo_e, ("2021-04-01", OrgStatus.ACTIVE))
    io_b = OrganizationFactory(
        acronym="", name="Bravo", kind=Kind.INTERNATIONAL_ORGANIZATION, status=OrgStatus.WITHDRAWN
    )
    # Active on the last day of 2024 Q1 exactly; withdrawn in 2025 Q1.
    history(io_b, ("2024-03-31", OrgStatus.ACTIVE), ("2025-01-15", OrgStatus.WITHDRAWN))
    # Entered before the history was kept: active since member_since.
    OrganizationFactory(
        acronym="",
        name="Charlie",
        kind=Kind.ACADEMIA,
        status=OrgStatus.ACTIVE,
        member_since=datetime.date(2024, 8, 1),
    )
    never = OrganizationFactory(
        acronym="", name="Delta", kind=Kind.NGO, status=OrgStatus.PROSPECTIVE
    )
    history(never, ("2022-01-01", OrgStatus.PROSPECTIVE))


EXPECTED_QUARTERS = [
    "2022 Q3", "2022 Q4", "2023 Q1", "2023 Q2", "2023 Q3", "2023 Q4",
    "2024 Q1", "2024 Q2", "2024 Q3", "2024 Q4", "2025 Q1", "2025 Q2",
]  # fmt: skip
EXPECTED_MEMBERSHIP = {
    Kind.INTERNATIONAL_ORGANIZATION: [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0],
    Kind.NGO: [1, 1, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2],
    Kind.ACADEMIA: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1],
}


def test_membership_is_rebuilt_from_the_history_at_each_quarter_end(membership_data):
    data = selectors.membership_by_quarter(today=TODAY)

    assert [str(q) for q in data.quarters] == EXPECTED_QUARTERS
    assert data.dates[0] == datetime.date(2022, 9, 30)
    assert data.dates[-1] == TODAY  # the current quarter, as of today
    assert {s.kind: s.counts for s in data.series} == EXPECTED_MEMBERSHIP
    assert data.totals == [1, 1, 2, 2, 2, 2, 3, 2, 4, 4, 3, 3]


def test_membership_csv_and_svg_carry_the_same_numbers(office, membership_data):
    rows = read_csv(office.get(figure_url("membership", format="csv")))

    header, body = rows[0], rows[1:]
    assert header == [
        "Quarter",
        "Counted on",
        "International organisation",
        "NGO",
        "Academia",
        "Total",
    ]
    assert [r[0] for r in body] == EXPECTED_QUARTERS
    assert [int(r[2]) for r in body] == EXPECTED_MEMBERSHIP[Kind.INTERNATIONAL_ORGANIZATION]
    assert [int(r[3]) for r in body] == EXPECTED_MEMBERSHIP[Kind.NGO]
    assert [int(r[5]) for r in body] == [1, 1, 2, 2, 2, 2, 3, 2, 4, 4, 3, 3]
    assert body[-1][1] == "2025-06-15"

    response = office.get(figure_url("membership"))
    assert response["Content-Type"].startswith("image/svg+xml")
    root = parse_svg(response.content)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-label")
    assert root.find(f"{SVG}title").text == root.get("aria-label")
    assert "2025 Q2" in root.find(f"{SVG}desc").text
    texts = svg_texts(root)
    for label in ("NGO", "Academia", "2022 Q3", "2025 Q2"):
        assert label in texts
    totals = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "total"]
    assert [int(t) for t in totals] == [1, 1, 2, 2, 2, 2, 3, 2, 4, 4, 3, 3]
    # Each kind has its own pattern over its colour, in the bars and in the legend.
    assert len(root.findall(f".//{SVG}pattern")) == 3


# --- 2. Response and attendance rates -----------------------------------------------------


@pytest.fixture
def participation_data():
    x = OrganizationFactory(acronym="", name="Xenia Network")
    y = OrganizationFactory(acronym="", name="Yarrow Foundation")
    z = OrganizationFactory(acronym="", name="Zenith Institute")
    m0 = held(datetime.date(2024, 1, 10), title="AECT 40", number=40)
    m1 = held(datetime.date(2025, 3, 10), title="AECT 41", number=41)
    m2 = held(datetime.date(2025, 5, 20), title="AECT 42", number=42)
    upcoming = MeetingFactory(title="AECT 43", number=43)  # open: not counted

    invite(m0, z, Answer.ACCEPTED, Presence.ATTENDED)
    invite(m1, x, Answer.ACCEPTED, Presence.ATTENDED)
    invite(m2, x, Answer.ACCEPTED, Presence.ABSENT)
    invite(m1, y)
    # Y sends a colleague to M2: the first invitation is replaced, the colleague attends.
    first = invite(m2, y, Answer.REPLACED)
    invite(m2, y, Answer.ACCEPTED, Presence.ATTENDED, invited_via=first)
    invite(m1, z)
    invite(m2, z)
    invite(upcoming, x)
    return x, y, z


def test_rates_are_counted_per_meeting_and_sorted_worst_first(participation_data):
    meetings = selectors.held_meetings(selectors.window_for("6"), today=TODAY)
    assert [m.number for m in meetings] == [42, 41, 40]

    rows = selectors.participation_by_organization(meetings)

    got = [(r.name, r.invited, r.answered, r.accepted, r.attended) for r in rows]
    assert got == [
        ("Zenith Institute", 3, 1, 1, 1),
        ("Yarrow Foundation", 2, 1, 1, 1),
        ("Xenia Network", 2, 2, 2, 1),
    ]
    assert [round(r.response_rate, 3) for r in rows] == [0.333, 0.5, 1.0]
    assert [r.attendance_rate for r in rows] == [1.0, 1.0, 0.5]


def test_the_window_in_months_leaves_older_meetings_out(office, participation_data):
    rows = read_csv(office.get(figure_url("participation", window="12m", format="csv")))

    assert rows[0] == [
        "Organisation",
        "Invited to",
        "Answered",
        "Response rate (%)",
        "Accepted",
        "Attended",
        "Attendance rate (%)",
    ]
    body = {r[0]: r[1:] for r in rows[1:]}
    assert body == {
        "Zenith Institute": ["2", "0", "0.0", "0", "0", ""],
        "Yarrow Foundation": ["2", "1", "50.0", "1", "1", "100.0"],
        "Xenia Network": ["2", "2", "100.0", "2", "1", "50.0"],
    }
    assert [r[0] for r in rows[1:]] == [
        "Zenith Institute",
        "Yarrow Foundation",
        "Xenia Network",
    ]


def test_participation_svg_shows_names_and_rates(office, participation_data):
    root = parse_svg(office.get(figure_url("participation")).content)

    texts = svg_texts(root)
    assert "Zenith Institute" in texts
    assert "33% (1 of 3)" in texts
    assert "50% (1 of 2)" in texts
    assert "Answered" in texts  # the legend
    assert "Attended" in texts
    assert root.get("role") == "img"


# --- 3. No contact for 12 months ----------------------------------------------------------


@pytest.fixture
def contact_data():
    p = OrganizationFactory(acronym="", name="Papa")
    q = OrganizationFactory(acronym="", name="Quebec")
    r = OrganizationFactory(acronym="", name="Romeo")
    OrganizationFactory(acronym="", name="Sierra")
    OrganizationFactory(acronym="", name="Tango", status=OrgStatus.WITHDRAWN)
    u = OrganizationFactory(acronym="", name="Uniform")
    v = OrganizationFactory(acronym="", name="Victor")

    consultation("2025-01-10", organizations=[p])
    consultation("2024-03-01", organizations=[q])
    old = held(datetime.date(2024, 2, 1))
    invite(old, q, Answer.DECLINED, answered_at=at(datetime.date(2024, 5, 1)))
    invite(old, r, Answer.ACCEPTED, Presence.ATTENDED, answered_at=None)
    recent = MeetingFactory()
    invite(recent, u, Answer.DECLINED, answered_at=at(datetime.date(2025, 4, 1)))
    invite(recent, v)  # invited but never answered: not a contact
    consultation("2025-02-01", organizations=[v], restricted=True)


def test_silent_members_with_their_last_contact(contact_data, coordinator):
    since, rows = selectors.organizations_without_contact(user=coordinator, today=TODAY)

    assert since == datetime.date(2024, 6, 15)
    assert [(s.name, s.last_contact, s.last_contact_kind) for s in rows] == [
        ("Sierra", None, ""),
        ("Victor", None, ""),  # its only consultation is restricted
        ("Romeo", datetime.date(2024, 2, 1), "attendance"),
        ("Quebec", datetime.date(2024, 5, 1), "answer"),
    ]


def test_a_restricted_consultation_counts_as_contact_for_those_who_may_see_it(contact_data, office):
    rows = read_csv(office.get(figure_url("silent", format="csv")))

    assert rows[0] == ["Organisation", "Kind", "Last contact", "Last contact was"]
    assert [r[0] for r in rows[1:]] == ["Sierra", "Romeo", "Quebec"]
    assert rows[-1] == ["Quebec", "NGO", "2024-05-01", "Answered an invitation"]


# --- 4. Consultations per topic and quarter -----------------------------------------------


@pytest.fixture
def topic_data():
    consultation("2024-07-10", "prevention", "protection")
    consultation("2024-08-01", "prevention")
    consultation("2025-04-02", "labour_exploitation")
    consultation("2025-05-05")  # no topic
    consultation("2024-01-01", "prevention")  # before the window
    consultation("2025-02-01", "prevention", restricted=True)


def _counts(table) -> dict[str, list[int]]:
    return {row.code: row.counts for row in table.rows if any(row.counts)}


def test_consultations_per_topic_and_quarter(topic_data, coordinator):
    first_day = selectors.window_start(selectors.window_for("12m"), [], today=TODAY)
    table = selectors.consultations_by_topic(user=coordinator, first_day=first_day, today=TODAY)

    assert [str(q) for q in table.quarters] == [
        "2024 Q2",
        "2024 Q3",
        "2024 Q4",
        "2025 Q1",
        "2025 Q2",
    ]
    # The coordinator of the shared fixture may not see restricted consultations.
    assert _counts(table) == {
        "prevention": [0, 2, 0, 0, 0],
        "protection": [0, 1, 0, 0, 0],
        "labour_exploitation": [0, 0, 0, 0, 1],
        "": [0, 0, 0, 0, 1],
    }
    assert table.consultations == [0, 2, 0, 0, 2]


def test_topic_csv_counts_restricted_ones_for_those_allowed(topic_data, office):
    rows = read_csv(office.get(figure_url("topics", window="12m", format="csv")))

    assert rows[0] == ["Topic", "2024 Q2", "2024 Q3", "2024 Q4", "2025 Q1", "2025 Q2", "Total"]
    body = {r[0]: [int(v) for v in r[1:]] for r in rows[1:]}
    assert body["Prevention"] == [0, 2, 0, 1, 0, 3]
    assert body["Protection"] == [0, 1, 0, 0, 0, 1]
    assert body["Labour exploitation"] == [0, 0, 0, 0, 1, 1]
    assert body["Organ removal"] == [0, 0, 0, 0, 0, 0]
    assert body["No topic given"] == [0, 0, 0, 0, 1, 1]
    assert body["All consultations"] == [0, 2, 0, 1, 2, 5]

    root = parse_svg(office.get(figure_url("topics", window="12m")).content)
    assert "Prevention" in svg_texts(root)
    cells = [t.text for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
    assert sorted(int(c) for c in cells) == [1, 1, 1, 1, 2]


# --- 5. Follow-ups ------------------------------------------------------------------------


@pytest.fixture
def followup_data():
    ana = UserFactory(username="ana", first_name="Ana", last_name="Berger")
    ben = UserFactory(username="ben")
    day = datetime.date.fromisoformat
    for due, status, owner in [
        ("2025-06-01", FollowUp.Status.OPEN, ana),
        ("2025-06-14", FollowUp.Status.OPEN, ana),
        ("2025-06-15", FollowUp.Status.OPEN, ana),  # due today: not overdue yet
        ("2025-05-01", FollowUp.Status.DONE, ana),
        ("2025-05-01", FollowUp.Status.CANCELLED, ben),
        (None, FollowUp.Status.OPEN, ben),
        ("2025-01-01", FollowUp.Status.OPEN, None),
    ]:
        FollowUp.objects.create(
            title="Send the report", due_date=due and day(due), status=status, owner_user=owner
        )


def test_open_and_overdue_follow_ups_by_owner(followup_data, office, coordinator):
    loads = selectors.followups_by_owner(user=coordinator, today=TODAY)
    assert [(o.name, o.open, o.overdue) for o in loads] == [
        ("Ana Berger", 3, 2),
        ("ben", 1, 0),
        ("No owner", 1, 1),
    ]

    rows = read_csv(office.get(figure_url("followups", format="csv")))
    assert rows == [
        ["Owner", "Open", "Overdue"],
        ["Ana Berger", "3", "2"],
        ["ben", "1", "0"],
        ["No owner", "1", "1"],
        ["Total", "5", "3"],
    ]
    texts = svg_texts(parse_svg(office.get(figure_url("followups")).content))
    assert "Ana Berger" in texts
    assert "Overdue: 2" in texts


def test_follow_ups_of_restricted_consultations_count_only_for_those_allowed(
    followup_data, coordinator
):
    secret = consultation("2025-05-01", restricted=True)
    FollowUp.objects.create(
        title="Confidential step", due_date=datetime.date(2025, 6, 1), consultation=secret
    )

    def no_owner(user):
        loads = selectors.followups_by_owner(user=user, today=TODAY)
        return next((o.open, o.overdue) for o in loads if o.owner_id is None)

    assert no_owner(coordinator) == (1, 1)
    coordinator.user_permissions.add(
        Permission.objects.get(codename="view_restricted_consultation")
    )
    coordinator = type(coordinator).objects.get(pk=coordinator.pk)  # fresh permission cache
    assert no_owner(coordinator) == (2, 2)


# --- The page, access, CSV safety, query count --------------------------------------------


def test_dashboard_page_for_a_coordinator(
    client, coordinator, membership_data, participation_data, topic_data, followup_data
):
    client.force_login(coordinator)
    response = client.get(reverse("reports:dashboard"))

    assert response.status_code == 200
    page = response.content.decode()
    for heading in (
        "Active members by kind of organisation",
        "Response and attendance rate per organisation",
        "Active members without contact for 12 months",
        "Consultations per topic and quarter",
        "Open and overdue follow-ups by owner",
    ):
        assert heading in page
    assert "Restricted consultations are not included." in page
    charts = re.findall(r"<svg .*?</svg>", page, flags=re.DOTALL)
    assert len(charts) == 4
    for chart in charts:
        root = parse_svg(chart)
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title") is not None
        assert root.find(f"{SVG}desc") is not None
    ids = re.findall(r' id="([^"]+)"', "".join(charts))
    assert len(ids) == len(set(ids))  # the charts' ids do not clash on one page
    for slug in selectors_slugs():
        assert f"{reverse('reports:figure', args=[slug])}?window=6&amp;format=csv" in page


def selectors_slugs():
    from meetings.reports.figures import FIGURES

    return list(FIGURES)


def test_an_unknown_window_falls_back_to_the_default(office):
    response = office.get(reverse("reports:dashboard") + "?window=999")
    assert response.status_code == 200
    assert response.context["window"].key == "6"


def test_empty_dashboard(office):
    response = office.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    assert "No held AECT meeting with invitations in this window." in response.content.decode()
    assert office.get(figure_url("nothing")).status_code == 404


@pytest.mark.parametrize("slug", [None, "membership", "topics"])
def test_staff_without_the_permission_get_403(client, slug):
    client.force_login(UserFactory(is_staff=True))
    url = reverse("reports:dashboard") if slug is None else figure_url(slug, format="csv")
    assert client.get(url).status_code == 403


def test_anonymous_and_non_staff_are_sent_to_the_login(client):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    client.force_login(UserFactory(is_staff=False))
    assert client.get(reverse("reports:dashboard")).status_code == 302


def test_csv_neutralises_formula_like_cells(office):
    evil = OrganizationFactory(acronym="", name="=HYPERLINK(1)")
    meeting = held(datetime.date(2025, 5, 1))
    invite(meeting, evil, Answer.ACCEPTED, Presence.ATTENDED)
    OrganizationFactory(acronym="", name="@risk")

    participation = read_csv(office.get(figure_url("participation", format="csv")))
    silent = read_csv(office.get(figure_url("silent", format="csv")))

    assert participation[1][0] == "'=HYPERLINK(1)"
    assert ["'@risk", "NGO", "", "Never"] in silent


def _directory(size: int) -> None:
    """``size`` organisations, each with history, invitations to two held meetings, a
    consultation on two topics and a follow-up."""
    meetings = [held(datetime.date(2025, 3, 10)), held(datetime.date(2025, 5, 20))]
    topics = list(FocusArea.objects.all()[:2])
    owners = [UserFactory(username=f"owner{i}") for i in range(3)]
    for i in range(size):
        org = OrganizationFactory(kind=[Kind.NGO, Kind.ACADEMIA][i % 2])
        history(org, ("2023-01-01", OrgStatus.ACTIVE))
        for meeting in meetings:
            invite(meeting, org, Answer.ACCEPTED, Presence.ATTENDED, contact=ContactFactory())
        item = consultation(f"2025-0{1 + i % 5}-10", organizations=[org])
        item.topics.set(topics)
        FollowUp.objects.create(
            title="Call back",
            organization=org,
            owner_user=owners[i % 3],
            due_date=datetime.date(2025, 6, 1 + i % 28),
        )
    OrganizationFactory(acronym="", name="Silent partner")


@pytest.mark.parametrize("size", [3, 30])
def test_query_count_does_not_grow_with_the_directory(office, size, django_assert_max_num_queries):
    _directory(size)

    # 4 for the session, the user and their permissions; 8 for the five figures.
    with django_assert_max_num_queries(12):
        response = office.get(reverse("reports:dashboard"))

    assert response.status_code == 200
    assert response.content.decode().count("Silent partner") >= 1
    # A table downloaded is an entry of the access log: 2 more (its validation and insert).
    for slug in ("membership", "participation", "topics", "followups", "silent"):
        with django_assert_max_num_queries(10):
            assert office.get(figure_url(slug, format="csv")).status_code == 200


def test_the_site_menu_links_the_dashboard_and_my_follow_ups(coordinator_client):
    from django.urls import reverse

    html = coordinator_client.get(reverse("admin:index")).content.decode()
    assert reverse("reports:dashboard") in html
    assert reverse("admin:meetings_followup_my_followups") in html

"""The figures of the partnership dashboard, aggregated in the database.

Every selector runs a fixed number of queries whatever the number of organisations, meetings or
consultations: the counting happens in SQL (``GROUP BY``, conditional counts, correlated
subqueries) and Python only arranges the grouped rows.

Restricted consultations are counted only for users who may see them
(``meetings.view_restricted_consultation``); for everyone else they are left out of every figure
— "last contact" and the follow-ups agreed in them included — so that the dashboard reveals
nothing the consultation and follow-up lists hide.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, ExtractQuarter, ExtractYear, TruncDate
from django.utils import timezone
from django.utils.translation import gettext

from meetings.models import Consultation, FollowUp, Gathering, Invitation, Meeting
from members.models import FocusArea, MembershipChange, Organization

VIEW_RESTRICTED = "meetings.view_restricted_consultation"
Status = Organization.Status

# --- Dates --------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def of(cls, day: datetime.date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        month = 3 * self.number
        return datetime.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def previous(self) -> "Quarter":
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def __str__(self) -> str:
        return gettext("%(year)s Q%(quarter)s") % {"year": self.year, "quarter": self.number}


def quarters_between(first: datetime.date, last: datetime.date) -> list[Quarter]:
    quarters, quarter, end = [], Quarter.of(first), Quarter.of(last)
    while quarter <= end:
        quarters.append(quarter)
        quarter = quarter.next()
    return quarters


def months_before(day: datetime.date, months: int) -> datetime.date:
    years, month_index = divmod(day.month - 1 - months, 12)
    year, month = day.year + years, month_index + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- The window ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """What "recently" means on the dashboard: the last N held AECT meetings, or the last N
    months."""

    key: str
    meetings: int | None = None
    months: int | None = None


WINDOWS = {
    "4": Window("4", meetings=4),
    "6": Window("6", meetings=6),
    "10": Window("10", meetings=10),
    "12m": Window("12m", months=12),
    "24m": Window("24m", months=24),
}
DEFAULT_WINDOW = WINDOWS["6"]


def window_for(key: str | None) -> Window:
    return WINDOWS.get(key or "", DEFAULT_WINDOW)


def held_meetings(window: Window, *, today: datetime.date) -> list[Meeting]:
    """The held AECT meetings of the window, latest first (one query)."""
    meetings = Meeting.objects.filter(status=Gathering.Status.HELD).order_by("-starts_at", "-pk")
    if window.months is not None:
        since = start_of_day(months_before(today, window.months))
        return list(meetings.filter(starts_at__gte=since))
    return list(meetings[: window.meetings])


def window_start(window: Window, meetings: list[Meeting], *, today: datetime.date) -> datetime.date:
    """The first day the window covers: N months back, or the oldest of the N meetings (12
    months back when none was held yet)."""
    if window.months is None and meetings:
        return timezone.localdate(min(m.starts_at for m in meetings))
    return months_before(today, window.months or 12)


# --- Consultations visible to the user ----------------------------------------------------


def can_see_restricted(user) -> bool:
    return bool(user and user.has_perm(VIEW_RESTRICTED))


def consultations_visible_to(user) -> QuerySet[Consultation]:
    consultations = Consultation.objects.all()
    if not can_see_restricted(user):
        consultations = consultations.exclude(
            confidentiality=Consultation.Confidentiality.RESTRICTED
        )
    return consultations


# --- 1. Membership over time --------------------------------------------------------------


@dataclass
class MembershipSeries:
    kind: str
    label: str
    counts: list[int]


@dataclass
class Membership:
    quarters: list[Quarter]
    dates: list[datetime.date]  # the day each quarter is counted on (today for the current one)
    series: list[MembershipSeries] = field(default_factory=list)

    @property
    def totals(self) -> list[int]:
        return [sum(s.counts[i] for s in self.series) for i in range(len(self.quarters))]


def membership_by_quarter(*, today: datetime.date, quarters: int = 12) -> Membership:
    """Active members by organisation kind at the end of each of the last ``quarters``
    quarters (the current one counted as of today), rebuilt from the status history.

    An organisation's status on a day is the ``to_status`` of its latest change on or before
    that day. An organisation without any recorded history (entered before the history was
    kept) counts as active from ``member_since`` — or from when it was entered — if it is
    active now. One query.
    """
    last = Quarter.of(today)
    span = [last]
    while len(span) < quarters:
        span.insert(0, span[0].previous())
    dates = [min(q.last_day, today) for q in span]

    changes = MembershipChange.objects.filter(organization=OuterRef("pk"))
    since = Coalesce("member_since", TruncDate("created_at"))
    annotations, counts = {}, {}
    for index, day in enumerate(dates):
        latest = Subquery(
            changes.filter(effective_date__lte=day)
            .order_by("-effective_date", "-created_at", "-id")
            .values("to_status")[:1]
        )
        without_history = Case(
            When(
                Q(status=Status.ACTIVE, since_day__lte=day) & ~Exists(changes),
                then=Value(Status.ACTIVE),
            ),
            default=Value(""),
            output_field=CharField(),
        )
        annotations[f"status_{index}"] = Coalesce(latest, without_history)
        counts[f"active_{index}"] = Count("pk", filter=Q(**{f"status_{index}": Status.ACTIVE}))

    rows = {
        row["kind"]: row
        for row in Organization.objects.annotate(since_day=since, **annotations)
        .order_by()
        .values("kind")
        .annotate(**counts)
    }
    membership = Membership(quarters=span, dates=dates)
    for kind, label in Organization.Kind.choices:
        row = rows.get(kind)
        if row is None:
            continue
        series = [row[f"active_{i}"] for i in range(len(dates))]
        if any(series):
            membership.series.append(MembershipSeries(kind, str(label), series))
    return membership


# --- 2. Response and attendance per organisation ------------------------------------------


@dataclass
class Participation:
    organization_id: int
    name: str
    invited: int  # meetings the organisation was invited to
    answered: int  # ... of which someone from it answered
    accepted: int  # meetings someone from it accepted
    attended: int  # ... of which someone who accepted attended

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.accepted if self.accepted else None


def participation_by_organization(meetings: list[Meeting]) -> list[Participation]:
    """For each organisation invited to any of ``meetings``: to how many it was invited, how
    many it answered (any of its invitations is no longer pending), how many it accepted and
    how many of those it attended. Counted per meeting, not per person, so that colleagues
    and substitutes do not count twice. Worst first: lowest response rate, then lowest
    attendance rate. One query.
    """
    if not meetings:
        return []
    Answer, Presence = Invitation.Status, Invitation.Attendance
    one = Value(1)
    per_meeting = (
        Invitation.objects.filter(
            gathering_id__in=[m.pk for m in meetings], organization__isnull=False
        )
        .order_by()
        .values("organization_id", "organization__name", "organization__acronym", "gathering_id")
        .annotate(
            answered=Max(Case(When(~Q(status=Answer.PENDING), then=one), default=Value(0))),
            accepted=Max(Case(When(status=Answer.ACCEPTED, then=one), default=Value(0))),
            attended=Max(
                Case(
                    When(status=Answer.ACCEPTED, attendance=Presence.ATTENDED, then=one),
                    default=Value(0),
                )
            ),
        )
    )
    by_org: dict[int, Participation] = {}
    for row in per_meeting:
        acronym = row["organization__acronym"]
        name = row["organization__name"] + (f" ({acronym})" if acronym else "")
        entry = by_org.setdefault(
            row["organization_id"], Participation(row["organization_id"], name, 0, 0, 0, 0)
        )
        entry.invited += 1
        entry.answered += row["answered"]
        entry.accepted += row["accepted"]
        entry.attended += row["attended"]

    def worst_first(p: Participation):
        attendance = p.attendance_rate
        return (p.response_rate, attendance is None, attendance or 0, p.name.lower())

    return sorted(by_org.values(), key=worst_first)


# --- 3. Organisations without contact -----------------------------------------------------


@dataclass
class Silence:
    organization_id: int
    name: str
    kind: str
    last_contact: datetime.date | None
    last_contact_kind: str  # "consultation", "answer", "attendance" or ""


def organizations_without_contact(
    *, user, today: datetime.date, months: int = 12
) -> tuple[datetime.date, list[Silence]]:
    """Active members with no consultation, no answered invitation and no attended gathering
    since ``months`` ago, with the date of their last contact of any of those kinds (or none
    ever). Longest silence first. One query."""
    since_day = months_before(today, months)
    since = start_of_day(since_day)
    consultations = consultations_visible_to(user).filter(organizations=OuterRef("pk"))
    answers = Invitation.objects.filter(
        organization=OuterRef("pk"), answered_at__isnull=False
    ).exclude(status=Invitation.Status.PENDING)
    attended = Invitation.objects.filter(
        organization=OuterRef("pk"), attendance=Invitation.Attendance.ATTENDED
    )
    rows = (
        Organization.objects.filter(status=Status.ACTIVE)
        .exclude(Exists(consultations.filter(held_on__gte=since_day)))
        .exclude(Exists(answers.filter(answered_at__gte=since)))
        .exclude(Exists(attended.filter(gathering__starts_at__gte=since)))
        .annotate(
            last_consultation=Subquery(consultations.order_by("-held_on").values("held_on")[:1]),
            last_answer=Subquery(answers.order_by("-answered_at").values("answered_at")[:1]),
            last_attended=Subquery(
                attended.order_by("-gathering__starts_at").values("gathering__starts_at")[:1]
            ),
        )
        .values(
            "pk", "name", "acronym", "kind", "last_consultation", "last_answer", "last_attended"
        )
    )
    silences = []
    for row in rows:
        candidates = [
            (row["last_consultation"], "consultation"),
            (row["last_answer"] and timezone.localdate(row["last_answer"]), "answer"),
            (row["last_attended"] and timezone.localdate(row["last_attended"]), "attendance"),
        ]
        dated = [c for c in candidates if c[0]]
        last, what = max(dated) if dated else (None, "")
        name = row["name"] + (f" ({row['acronym']})" if row["acronym"] else "")
        silences.append(Silence(row["pk"], name, row["kind"], last, what))
    silences.sort(key=lambda s: (s.last_contact is not None, s.last_contact, s.name.lower()))
    return since_day, silences


# --- 4. Consultations per topic and quarter -----------------------------------------------


@dataclass
class TopicRow:
    code: str  # "" for consultations without a topic
    label: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass
class TopicTable:
    quarters: list[Quarter]
    rows: list[TopicRow]
    consultations: list[int]  # distinct consultations per quarter (one may have several topics)


def consultations_by_topic(*, user, first_day: datetime.date, today: datetime.date) -> TopicTable:
    """Consultations held per topic and quarter, from the quarter of ``first_day`` to the
    current one. A consultation with several topics counts once under each. Two queries plus
    the focus areas."""
    quarters = quarters_between(first_day, today)
    visible = consultations_visible_to(user).filter(
        held_on__gte=quarters[0].first_day, held_on__lte=quarters[-1].last_day
    )
    period = {"year": ExtractYear("held_on"), "quarter": ExtractQuarter("held_on")}
    per_topic = (
        visible.order_by()
        .annotate(**period)
        .values("topics__code", "year", "quarter")
        .annotate(n=Count("pk", distinct=True))
    )
    per_quarter = (
        visible.order_by().annotate(**period).values("year", "quarter").annotate(n=Count("pk"))
    )
    position = {q: i for i, q in enumerate(quarters)}
    counts: dict[str, list[int]] = {}
    for row in per_topic:
        series = counts.setdefault(row["topics__code"] or "", [0] * len(quarters))
        series[position[Quarter(row["year"], row["quarter"])]] += row["n"]
    totals = [0] * len(quarters)
    for row in per_quarter:
        totals[position[Quarter(row["year"], row["quarter"])]] += row["n"]

    rows = [
        TopicRow(area.code, str(area), counts.get(area.code, [0] * len(quarters)))
        for area in FocusArea.objects.order_by("position", "code")
    ]
    if "" in counts:
        rows.append(TopicRow("", gettext("No topic given"), counts[""]))
    return TopicTable(quarters, rows, totals)


# --- 5. Follow-ups ------------------------------------------------------------------------


@dataclass
class OwnerLoad:
    owner_id: int | None
    name: str
    open: int
    overdue: int


def followups_by_owner(*, user, today: datetime.date) -> list[OwnerLoad]:
    """Open follow-ups and, of those, the overdue ones (due before today), per office owner;
    those without an office owner come last. Most overdue first. A follow-up is as
    confidential as its consultation, so those of restricted consultations count only for
    users who may see them (as in the follow-up list). One query."""
    followups = FollowUp.objects.filter(status=FollowUp.Status.OPEN)
    if not can_see_restricted(user):
        followups = followups.exclude(
            consultation__confidentiality=Consultation.Confidentiality.RESTRICTED
        )
    rows = (
        followups.order_by()
        .values(
            "owner_user_id",
            "owner_user__username",
            "owner_user__first_name",
            "owner_user__last_name",
        )
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    )
    loads = []
    for row in rows:
        if row["owner_user_id"] is None:
            name = gettext("No owner")
        else:
            full = f"{row['owner_user__first_name']} {row['owner_user__last_name']}".strip()
            name = full or row["owner_user__username"]
        loads.append(OwnerLoad(row["owner_user_id"], name, row["open"], row["overdue"]))
    loads.sort(key=lambda o: (o.owner_id is None, -o.overdue, -o.open, o.name.lower()))
    return loads

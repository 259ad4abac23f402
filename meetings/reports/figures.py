"""The dashboard's figures: each one a table (shown on the page and downloadable as CSV) and,
where a picture reads faster than the table, a chart drawn from the same rows."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import formats, timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from meetings.models import Meeting
from meetings.reports import charts, selectors
from members.models import Organization


@dataclass
class Figure:
    slug: str
    title: str
    description: str
    columns: list[str]
    rows: list[list]
    svg: SafeString | None = None
    empty: str = ""
    notes: list[str] = field(default_factory=list)


@dataclass
class Scope:
    """What the figures are computed for: who asks, which day, which window."""

    user: object
    window: selectors.Window
    today: datetime.date

    @cached_property
    def meetings(self) -> list[Meeting]:
        return selectors.held_meetings(self.window, today=self.today)

    @cached_property
    def first_day(self) -> datetime.date:
        return selectors.window_start(self.window, self.meetings, today=self.today)


def scope_for(user, window_key: str | None) -> Scope:
    return Scope(user=user, window=selectors.window_for(window_key), today=timezone.localdate())


def window_label(window: selectors.Window) -> str:
    if window.months is not None:
        return ngettext("Last %(n)d month", "Last %(n)d months", window.months) % {
            "n": window.months
        }
    return ngettext("Last %(n)d held meeting", "Last %(n)d held meetings", window.meetings) % {
        "n": window.meetings
    }


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _rate_text(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return _("%(percent)s%% (%(part)d of %(whole)d)") % {
        "percent": formats.number_format(round(100 * part / whole)),
        "part": part,
        "whole": whole,
    }


def _date(day: datetime.date | None) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else "—"


# --- 1 ------------------------------------------------------------------------------------


def membership(scope: Scope) -> Figure:
    data = selectors.membership_by_quarter(today=scope.today)
    quarters = [str(q) for q in data.quarters]
    kinds = [s.label for s in data.series]
    totals = data.totals
    rows = [
        [quarters[i], data.dates[i].isoformat(), *(s.counts[i] for s in data.series), totals[i]]
        for i in range(len(quarters))
    ]
    title = _("Active members by kind of organisation, end of each quarter")
    first, last = totals[0], totals[-1]
    desc = _(
        "Stacked columns, one per quarter from %(first)s to %(last)s; one segment per kind of "
        "organisation. %(start)d active members at the end of %(first)s, %(end)d on %(today)s."
    ) % {
        "first": quarters[0],
        "last": quarters[-1],
        "start": first,
        "end": last,
        "today": _date(scope.today),
    }
    svg = None
    if data.series:
        svg = charts.stacked_columns(
            prefix="membership",
            title=title,
            desc=desc,
            categories=quarters,
            series=[(s.label, s.counts) for s in data.series],
            total_label=_("All active members"),
        )
    return Figure(
        slug="membership",
        title=title,
        description=_(
            "Rebuilt from the membership history: an organisation counts on a day if its last "
            "status change on or before that day made it active. The current quarter is "
            "counted as of today."
        ),
        columns=[_("Quarter"), _("Counted on"), *kinds, _("Total")],
        rows=rows,
        svg=svg,
        empty=_("No organisation was an active member in the last three years."),
    )


# --- 2 ------------------------------------------------------------------------------------


def participation(scope: Scope) -> Figure:
    meetings = scope.meetings
    entries = selectors.participation_by_organization(meetings)
    rows = [
        [
            e.name,
            e.invited,
            e.answered,
            percent(e.answered, e.invited),
            e.accepted,
            e.attended,
            percent(e.attended, e.accepted),
        ]
        for e in entries
    ]
    title = _("Response and attendance rate per organisation, worst first")
    labels = ", ".join(m.label or m.title for m in meetings)
    desc = _(
        "Horizontal bars, two per organisation: the share of meetings it answered, and the "
        "share of the meetings it accepted that it attended. Meetings: %(meetings)s."
    ) % {"meetings": labels or "—"}
    svg = None
    if entries:
        svg = charts.horizontal_bars(
            prefix="participation",
            title=title,
            desc=desc,
            rows=[
                (
                    e.name,
                    [
                        (e.response_rate, _rate_text(e.answered, e.invited)),
                        (e.attendance_rate, _rate_text(e.attended, e.accepted)),
                    ],
                )
                for e in entries
            ],
            series=[_("Answered"), _("Attended")],
            maximum=1,
        )
    notes = []
    if meetings:
        notes.append(
            _("Held meetings counted: %(meetings)s (%(first)s to %(last)s).")
            % {
                "meetings": labels,
                "first": _date(timezone.localdate(meetings[-1].starts_at)),
                "last": _date(timezone.localdate(meetings[0].starts_at)),
            }
        )
    return Figure(
        slug="participation",
        title=title,
        description=_(
            "Counted per meeting, not per person: an organisation answered a meeting when any "
            "of its invitations was answered, and attended it when someone who accepted was "
            "there. Response rate = answered ÷ invited; attendance rate = attended ÷ accepted."
        ),
        columns=[
            _("Organisation"),
            _("Invited to"),
            _("Answered"),
            _("Response rate (%)"),
            _("Accepted"),
            _("Attended"),
            _("Attendance rate (%)"),
        ],
        rows=rows,
        svg=svg,
        empty=_("No held AECT meeting with invitations in this window."),
        notes=notes,
    )


# --- 3 ------------------------------------------------------------------------------------


def silent(scope: Scope) -> Figure:
    since, silences = selectors.organizations_without_contact(user=scope.user, today=scope.today)
    what = {
        "consultation": _("Consultation"),
        "answer": _("Answered an invitation"),
        "attendance": _("Attended a meeting"),
        "": _("Never"),
    }
    kinds = dict(Organization.Kind.choices)
    rows = [
        [
            s.name,
            str(kinds.get(s.kind, s.kind)),
            s.last_contact.isoformat() if s.last_contact else "",
            what[s.last_contact_kind],
        ]
        for s in silences
    ]
    return Figure(
        slug="silent",
        title=_("Active members without contact for 12 months"),
        description=_(
            "No consultation, no answered invitation and no attended meeting since %(since)s. "
            "Longest silence first."
        )
        % {"since": _date(since)},
        columns=[_("Organisation"), _("Kind"), _("Last contact"), _("Last contact was")],
        rows=rows,
        empty=_("Every active member was in contact in the last 12 months."),
    )


# --- 4 ------------------------------------------------------------------------------------


def topics(scope: Scope) -> Figure:
    data = selectors.consultations_by_topic(
        user=scope.user, first_day=scope.first_day, today=scope.today
    )
    quarters = [str(q) for q in data.quarters]
    rows = [[row.label, *row.counts, row.total] for row in data.rows]
    rows.append([_("All consultations"), *data.consultations, sum(data.consultations)])
    title = _("Consultations per topic and quarter")
    desc = _(
        "A grid with one row per topic and one column per quarter from %(first)s to %(last)s; "
        "each cell gives the number of consultations, darker for more. %(total)d consultations "
        "in all."
    ) % {"first": quarters[0], "last": quarters[-1], "total": sum(data.consultations)}
    svg = None
    if sum(data.consultations):
        svg = charts.heatmap(
            prefix="topics",
            title=title,
            desc=desc,
            rows=[row.label for row in data.rows],
            columns=quarters,
            values=[row.counts for row in data.rows],
            legend=_("Number of consultations; darker cells hold more."),
        )
    notes = [
        _(
            "A consultation with several topics counts once under each; the last row counts each "
            "consultation once."
        )
    ]
    if not selectors.can_see_restricted(scope.user):
        notes.append(_("Restricted consultations are not included."))
    return Figure(
        slug="topics",
        title=title,
        description=_("Consultations held from %(first)s to today, by topic and quarter.")
        % {"first": _date(data.quarters[0].first_day)},
        columns=[_("Topic"), *quarters, _("Total")],
        rows=rows,
        svg=svg,
        empty=_("No consultation in this window."),
        notes=notes,
    )


# --- 5 ------------------------------------------------------------------------------------


def followups(scope: Scope) -> Figure:
    loads = selectors.followups_by_owner(user=scope.user, today=scope.today)
    total_open = sum(o.open for o in loads)
    total_overdue = sum(o.overdue for o in loads)
    rows = [[o.name, o.open, o.overdue] for o in loads]
    if loads:
        rows.append([_("Total"), total_open, total_overdue])
    title = _("Open and overdue follow-ups by owner")
    desc = _(
        "Horizontal bars, two per owner: open follow-ups and, of those, the overdue ones. "
        "%(open)d open, %(overdue)d overdue in all."
    ) % {"open": total_open, "overdue": total_overdue}
    svg = None
    if loads:
        svg = charts.horizontal_bars(
            prefix="followups",
            title=title,
            desc=desc,
            rows=[(o.name, [(o.open, str(o.open)), (o.overdue, str(o.overdue))]) for o in loads],
            series=[_("Open"), _("Overdue")],
            maximum=max(o.open for o in loads),
        )
    return Figure(
        slug="followups",
        title=title,
        description=_("Overdue: still open after its due date (%(today)s is today).")
        % {"today": _date(scope.today)},
        columns=[_("Owner"), _("Open"), _("Overdue")],
        rows=rows,
        svg=svg,
        empty=_("No open follow-up."),
    )


FIGURES: dict[str, Callable[[Scope], Figure]] = {
    "membership": membership,
    "participation": participation,
    "silent": silent,
    "topics": topics,
    "followups": followups,
}

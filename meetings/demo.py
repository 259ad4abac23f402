"""Fictional demo AECT meetings for ``manage.py seed_demo``: one coming up, one held.

The upcoming meeting is built only through the services, as a coordinator and the invitees
would: created, given an agenda, the focal points of all active AECT partners invited, opened
(so the invitation e-mails with their RSVP links go through the outbox), then answered through
the RSVP paths — in person, online with needs, declined, a substitute named, a colleague added,
and some not answered yet.

The past meeting is history: the services refuse to open a gathering whose deadline has passed
or to take answers after it, and an answer given now would mail a confirmation for a meeting
five months ago. So its answers and its status before "held" are written directly, with a
history reason; it is marked held, its attendance recorded and its minutes written through the
services, and it sends no e-mail at all.

Both are found by series and number before anything is created, so running the seed again adds
nothing. Every choice is drawn from a seeded random generator over the (deterministic) demo
directory, so repeated seeds of a fresh database give the same meetings and the same answers.
"""

import datetime
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from meetings import services
from meetings.models import AgendaItem, FollowUp, Gathering, Invitation, Meeting
from meetings.services.common import save
from members.models import Affiliation, Contact, Organization

SEED = 20261126
SERIES = "AECT"
UPCOMING_NUMBER = 52
PAST_NUMBER = 51
VIENNA = zoneinfo.ZoneInfo("Europe/Vienna")
DEMO_DOMAIN = "example.org"
BENCH_SUFFIX = f"@bench.{DEMO_DOMAIN}"
# The login ``manage.py dev_login`` creates; ``make run`` creates it after seeding, so on a
# fresh checkout it does not exist yet and the demo acts as nobody in particular.
COORDINATOR_USERNAME = "coordinator"

Role = Affiliation.Role
Kind = Organization.Kind

VENUE = "OSCE Secretariat, Ratsaal (demo)"
ADDRESS = "Wallnerstrasse 6, 1010 Vienna, Austria"

UPCOMING_DESCRIPTION = (
    "The Alliance Expert Co-ordination Team meets to take stock of the partners' work since "
    "the spring, to discuss technology-facilitated trafficking and labour exploitation in "
    "supply chains, and to prepare the annual Alliance conference. The meeting is held in "
    "Vienna; partners who cannot travel may join online."
)
UPCOMING_MESSAGE = (
    "Dear colleagues, we look forward to welcoming you in Vienna. Each partner organisation "
    "may register up to two participants. Please let us know of any accessibility or dietary "
    "needs when you answer."
)
# (title, presenter's organisation kind or None for the office, minutes)
UPCOMING_AGENDA = [
    ("Opening remarks and adoption of the agenda", None, 15),
    ("Tour de table: partners' priorities for the coming year", "", 60),
    (
        "Technology-facilitated trafficking: findings of the partners' survey",
        Kind.INTERNATIONAL_ORGANIZATION,
        45,
    ),
    ("Due diligence against labour exploitation in supply chains", Kind.PRIVATE_SECTOR, 40),
    ("Referral of child victims on migration routes: lessons from shelters", Kind.NGO, 40),
    ("Preparing the Alliance conference; any other business", None, 30),
]
PAST_AGENDA = [
    ("Opening and adoption of the agenda", None, 15),
    ("Implementation survey of anti-trafficking commitments: first results", None, 45),
    ("Forced criminality: identifying victims among offenders", Kind.STATE_AUTHORITY, 40),
    ("Research update: trafficking for labour exploitation", Kind.ACADEMIA, 40),
    ("Partners' updates and any other business", "", 45),
]
OFFICE_PRESENTER = "Office of the Special Representative (OSR/CTHB)"
ALL_PARTNERS = "All partners"

DIETARY = ["Vegetarian", "No nuts, please", "Halal", "Vegan", ""]
ACCESSIBILITY = ["Step-free access to the meeting room", "Hearing loop", ""]
ONLINE_NEEDS = [
    "Live captions in English, please",
    "Interpretation into Russian would help",
    "Slides in advance, please (screen reader)",
    "",
]
NOTES = [
    "Looking forward to it.",
    "I will bring our latest annual report.",
    "",
    "",
]
DECLINE_NOTES = [
    "Unfortunately we have our board meeting that week.",
    "Travel funds are exhausted this year; we will follow the minutes.",
    "",
]

PAST_MINUTES = """\
AECT {number}, held in Vienna and online on {date}.

1. The Special Representative opened the meeting and welcomed {present} participants from
   {organisations} partner organisations. The agenda was adopted without changes.

2. The office presented the first results of the survey on the implementation of the
   anti-trafficking commitments. Partners asked for the country data to be shared before the
   publication and offered to review the chapter on victim identification.

3. Partners discussed forced criminality and the non-punishment principle. Several partners
   reported cases in which victims had been prosecuted for offences they were compelled to
   commit; a short practice note was proposed.

4. The research update on labour exploitation drew attention to recruitment fees and to
   subcontracting chains. Partners agreed to pool their guidance for employers.

5. Under any other business the office recalled the dates of the Alliance conference.

Action items are recorded as follow-ups of this meeting.
"""

# (title, days after the meeting it was due (None: days from today), status, done after days)
PAST_ACTION_ITEMS = [
    ("Circulate the minutes and the presentations to all partners", 7, "done", 5),
    ("Share the survey's country data with partners for review", 45, "done", 40),
    ("Draft a practice note on the non-punishment principle", -10, "open", None),
    ("Propose speakers for the Alliance conference", 20, "open", None),
    ("Organise a joint visit to a shelter network", 60, "cancelled", None),
]


@dataclass
class MeetingsReport:
    created: list[str] = field(default_factory=list)
    invitations: int = 0
    emails: int = 0
    follow_ups: int = 0


def _coordinator():
    return get_user_model().objects.filter(username=COORDINATOR_USERNAME, is_active=True).first()


def _on_weekday(day: datetime.date, step: int) -> datetime.date:
    """A working day: not a weekend, and not the office's winter closure (24 Dec to 6 Jan)."""
    while day.weekday() >= 5 or (day.month, day.day) >= (12, 24) or (day.month, day.day) <= (1, 6):
        day += datetime.timedelta(days=step)
    return day


def _deadline_day(wanted: datetime.date, start_day: datetime.date) -> datetime.date:
    """A working day for the answers' deadline near ``wanted`` and at least three days before
    the start. It steps backwards out of the winter closure: forwards could pass the start."""
    day = _on_weekday(wanted, -1)
    if day >= start_day - datetime.timedelta(days=3):
        day = _on_weekday(start_day - datetime.timedelta(days=7), -1)
    return day


def _at(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=VIENNA)


def _aect_partners():
    return Organization.objects.filter(
        takes_part_in_aect=True, status=Organization.Status.ACTIVE
    ).order_by("name")


def _current(organization: Organization, role: str) -> list[Contact]:
    return [
        a.contact
        for a in Affiliation.objects.current()
        .filter(organization=organization, role=role)
        .exclude(contact__email="")
        .exclude(contact__email__endswith=BENCH_SUFFIX)
        .select_related("contact")
        .order_by("contact__email")
    ]


def _add_agenda(meeting: Meeting, plan, rng: random.Random) -> None:
    partners = list(_aect_partners())
    for position, (title, kind, minutes) in enumerate(plan, start=1):
        presenter, organization = OFFICE_PRESENTER, None
        if kind == "":
            presenter = ALL_PARTNERS
        elif kind is not None:
            candidates = [o for o in partners if o.kind == kind] or partners
            if candidates:
                organization = rng.choice(candidates)
                people = _current(organization, Role.FOCAL_POINT) or _current(
                    organization, Role.HEAD
                )
                presenter = people[0].full_name if people else organization.name
        # No service writes agenda items: they are plain rows of the draft, edited inline in
        # the back office. They must exist before the meeting opens, for the invitation e-mail.
        AgendaItem.objects.create(
            gathering=meeting,
            position=position,
            title=title,
            presenter=presenter,
            organization=organization,
            duration_minutes=minutes,
        )


def _invite_focal_points(meeting: Meeting, user) -> list[Invitation]:
    preview = services.invitees_preview(gathering=meeting, focal_points_of_aect_partners=True)
    return services.invitations_create(
        gathering=meeting, invitees=preview.to_invite, acting_user=user
    )


def _answer_plan(count: int) -> list[str]:
    """How the ``count`` invitees of the upcoming meeting answer, in every state (one of
    those who accept in person also registers a colleague)."""
    in_person = max(1, round(count * 0.35))
    online = max(1, round(count * 0.2))
    declined = max(1, round(count * 0.15))
    plan = ["substitute"] + ["in_person"] * in_person + ["online"] * online
    plan += ["decline"] * declined
    plan += ["pending"] * max(0, count - len(plan))
    return plan[:count]


# --- The upcoming meeting: through the services only ---------------------------------------


def _seed_upcoming(rng: random.Random, user, report: MeetingsReport) -> None:
    today = timezone.localdate()
    start_day = _on_weekday(today + datetime.timedelta(days=35), +1)
    deadline_day = _deadline_day(today + datetime.timedelta(days=21), start_day)
    meeting = services.meeting_create(
        acting_user=user,
        title=f"{SERIES} {UPCOMING_NUMBER}",
        series=SERIES,
        number=UPCOMING_NUMBER,
        starts_at=_at(start_day, 9, 30),
        ends_at=_at(start_day, 17, 30),
        time_zone="Europe/Vienna",
        format=Gathering.Format.HYBRID,
        venue=VENUE,
        address=ADDRESS,
        online_link=f"https://meet.{DEMO_DOMAIN}/aect-{UPCOMING_NUMBER}",
        rsvp_deadline=_at(deadline_day, 18),
        seats_per_org=2,
        description=UPCOMING_DESCRIPTION,
        invitation_message=UPCOMING_MESSAGE,
    )
    _add_agenda(meeting, UPCOMING_AGENDA, rng)
    invitations = _invite_focal_points(meeting, user)
    services.gathering_open(gathering=meeting, acting_user=user)
    report.invitations += len(invitations)

    # The invitees answer through their personal links (the RSVP page's paths).
    ordered = sorted(
        invitations, key=lambda i: (i.organization.name if i.organization else "", i.pk)
    )
    rng.shuffle(ordered)
    plan = _answer_plan(len(ordered))
    in_person_done: list[Invitation] = []
    for invitation, answer in zip(ordered, plan, strict=False):
        if answer == "in_person":
            accepted = services.invitation_respond(
                invitation=invitation,
                answer="in_person",
                dietary=rng.choice(DIETARY),
                accessibility=rng.choice(ACCESSIBILITY) if rng.random() < 0.3 else "",
                note=rng.choice(NOTES),
            )
            in_person_done.append(accepted)
        elif answer == "online":
            services.invitation_respond(
                invitation=invitation,
                answer="online",
                other_needs=rng.choice(ONLINE_NEEDS),
                note=rng.choice(NOTES),
            )
        elif answer == "decline":
            services.invitation_respond(
                invitation=invitation, answer="decline", note=rng.choice(DECLINE_NOTES)
            )
        elif answer == "substitute":
            _name_substitute(invitation, rng)
    _add_colleague(in_person_done)
    report.emails += _emails_about(meeting)


def _name_substitute(invitation: Invitation, rng: random.Random) -> None:
    """The focal point cannot come and names the alternate focal point (or an expert)."""
    organization = invitation.organization
    if organization is None:
        return
    colleagues = [
        c
        for c in _current(organization, Role.ALTERNATE_FOCAL_POINT)
        + _current(organization, Role.EXPERT)
        if c.pk != invitation.contact_id
    ]
    if not colleagues:
        return
    colleague = colleagues[0]
    substitute = services.invitation_substitute(invitation=invitation, email=colleague.email)
    services.invitation_respond(
        invitation=substitute, answer="in_person", dietary=rng.choice(DIETARY)
    )


def _add_colleague(accepted: list[Invitation]) -> None:
    """One focal point who accepted registers an expert of their organisation too."""
    for invitation in accepted:
        if invitation.organization is None:
            continue
        invited = set(invitation.gathering.invitations.values_list("contact_id", flat=True))
        experts = [c for c in _current(invitation.organization, Role.EXPERT) if c.pk not in invited]
        if experts:
            services.invitation_add_colleague(
                invitation=invitation, email=experts[0].email, mode=Invitation.Mode.IN_PERSON
            )
            return


def _emails_about(meeting: Meeting) -> int:
    from django.contrib.contenttypes.models import ContentType

    from crm.mail.models import OutgoingMessage

    return OutgoingMessage.objects.filter(
        about_type=ContentType.objects.get_for_model(Invitation),
        about_id__in=list(meeting.invitations.values_list("pk", flat=True)),
    ).count()


# --- The past meeting: history, without e-mail ---------------------------------------------


def _seed_past(rng: random.Random, user, report: MeetingsReport) -> None:
    today = timezone.localdate()
    start_day = _on_weekday(today - datetime.timedelta(days=150), -1)
    start = _at(start_day, 9, 30)
    deadline = _at(start_day - datetime.timedelta(days=14), 18)
    meeting = services.meeting_create(
        acting_user=user,
        title=f"{SERIES} {PAST_NUMBER}",
        series=SERIES,
        number=PAST_NUMBER,
        starts_at=start,
        ends_at=_at(start_day, 17, 0),
        time_zone="Europe/Vienna",
        format=Gathering.Format.HYBRID,
        venue=VENUE,
        address=ADDRESS,
        online_link=f"https://meet.{DEMO_DOMAIN}/aect-{PAST_NUMBER}",
        rsvp_deadline=deadline,
        seats_per_org=2,
        description=(
            "The spring meeting of the Alliance Expert Co-ordination Team: first results of the "
            "implementation survey, forced criminality, and research on labour exploitation."
        ),
    )
    _add_agenda(meeting, PAST_AGENDA, rng)
    # Invited while a draft: the invitation rows exist, no e-mail is written.
    invitations = _invite_focal_points(meeting, user)
    report.invitations += len(invitations)

    # Demo history. gathering_open refuses a deadline in the past and invitation_respond
    # mails a confirmation, so what happened before the meeting is written directly (with a
    # history reason): the invitations went out four weeks before the deadline, the answers
    # came in before it, and the meeting closed. Nothing is put in the outbox.
    sent_at = deadline - datetime.timedelta(days=28)
    reason = "Demo history"
    ordered = sorted(
        invitations, key=lambda i: (i.organization.name if i.organization else "", i.pk)
    )
    rng.shuffle(ordered)
    count = len(ordered)
    online = max(1, round(count * 0.2))
    declined = max(1, round(count * 0.15))
    pending = max(1, round(count * 0.15))
    in_person = max(0, count - online - declined - pending)
    answers = (["in_person"] * in_person + ["online"] * online + ["decline"] * declined) + [
        "pending"
    ] * pending
    attendance: dict[int, str] = {}
    absent_left = 2  # accepted, but did not come
    for invitation, answer in zip(ordered, answers, strict=False):
        invitation.sent_at = sent_at
        if answer != "pending":
            invitation.status = (
                Invitation.Status.DECLINED if answer == "decline" else Invitation.Status.ACCEPTED
            )
            invitation.mode = "" if answer == "decline" else answer
            invitation.dietary = rng.choice(DIETARY) if answer == "in_person" else ""
            invitation.answered_at = sent_at + datetime.timedelta(
                days=rng.randint(1, 26), hours=rng.randint(0, 8)
            )
            invitation.answer_count = 1
        save(invitation, user, reason=reason)
        came = invitation.status == Invitation.Status.ACCEPTED
        if came and absent_left and rng.random() < 0.3:
            came, absent_left = False, absent_left - 1
        attendance[invitation.pk] = (
            Invitation.Attendance.ATTENDED if came else Invitation.Attendance.ABSENT
        )
    meeting.status = Gathering.Status.CLOSED
    save(meeting, user, reason=reason, update_fields=["status"])

    # From here on, as a coordinator does it after the meeting.
    services.gathering_mark_held(gathering=meeting, acting_user=user)
    services.invitations_record_attendance(
        gathering=meeting, attendance=attendance, acting_user=user
    )
    present = [pk for pk, value in attendance.items() if value == Invitation.Attendance.ATTENDED]
    organisations = (
        meeting.invitations.filter(pk__in=present).values("organization").distinct().count()
    )
    services.gathering_update(
        gathering=meeting,
        acting_user=user,
        minutes=PAST_MINUTES.format(
            number=PAST_NUMBER,
            date=start_day.strftime("%d %B %Y"),
            present=len(present),
            organisations=organisations,
        ),
    )
    _add_action_items(meeting, user, rng, report)


def _add_action_items(meeting: Meeting, user, rng: random.Random, report) -> None:
    held_on = timezone.localtime(meeting.starts_at, VIENNA).date()
    today = timezone.localdate()
    partners = list(
        meeting.invitations.filter(attendance="attended").values_list("organization", flat=True)
    )
    for title, due_after, status, done_after in PAST_ACTION_ITEMS:
        due = held_on + datetime.timedelta(days=due_after)
        if status == FollowUp.Status.OPEN:
            # Open items are due relative to today: one overdue, one still ahead.
            due = today + datetime.timedelta(days=due_after)
        organization_id = rng.choice(partners) if partners and rng.random() < 0.5 else None
        follow_up = FollowUp(
            title=title,
            owner_user=user,
            due_date=due,
            status=status,
            source=FollowUp.Source.MEETING,
            gathering=meeting,
            organization_id=organization_id,
            done_on=held_on + datetime.timedelta(days=done_after) if done_after else None,
            notes="Agreed at the meeting; see the minutes.",
        )
        # No service creates follow-ups yet; save() validates and records the history.
        save(follow_up, user)
        report.follow_ups += 1


# --- Entry point ---------------------------------------------------------------------------


def seed_meetings(*, progress: Callable[[str], None] = lambda _msg: None) -> MeetingsReport:
    """Create the demo meetings that are not there yet (found by series and number)."""
    report = MeetingsReport()
    user = _coordinator()
    for number, build in ((PAST_NUMBER, _seed_past), (UPCOMING_NUMBER, _seed_upcoming)):
        label = f"{SERIES} {number}"
        if not Meeting.objects.filter(series=SERIES, number=number).exists():
            # One transaction per meeting: its e-mails leave when it commits, all or nothing.
            with transaction.atomic():
                rng = random.Random(SEED + number)  # noqa: S311 - demo data, not secrets
                build(rng, user, report)
            report.created.append(label)
        progress(label)
    return report


def seed_scale_invitations(
    *, meetings: int = 20, per_meeting: int, progress: Callable[[int], None] = lambda _n: None
) -> int:
    """Benchmark data: ``meetings`` past benchmark meetings (series ``BENCH``), each inviting
    ``per_meeting`` of the generated benchmark contacts with a mix of answers (bulk inserts,
    with history rows; no e-mail). Safe to repeat. Returns how many invitations were added."""
    from simple_history.utils import bulk_create_with_history

    contact_ids = list(
        Contact.objects.filter(email__startswith="scale", email__endswith="@bench.example.org")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not contact_ids:
        return 0
    per_meeting = min(per_meeting, len(contact_ids))
    rng = random.Random(20261203)  # noqa: S311 - fictional data, not secrets
    organization_of = dict(
        Affiliation.objects.filter(contact_id__in=contact_ids).values_list(
            "contact_id", "organization_id"
        )
    )
    answers = [
        (Invitation.Status.PENDING, ""),
        (Invitation.Status.ACCEPTED, Invitation.Mode.IN_PERSON),
        (Invitation.Status.ACCEPTED, Invitation.Mode.ONLINE),
        (Invitation.Status.DECLINED, ""),
    ]
    start = timezone.now() - datetime.timedelta(days=30 * meetings)
    added = 0
    for number in range(1, meetings + 1):
        starts_at = start + datetime.timedelta(days=30 * number)
        meeting, _created = Meeting.objects.get_or_create(
            series="BENCH",
            number=number,
            defaults={
                "title": f"Benchmark meeting {number}",
                "starts_at": starts_at,
                "ends_at": starts_at + datetime.timedelta(hours=6),
                "rsvp_deadline": starts_at - datetime.timedelta(days=7),
                "status": Gathering.Status.CLOSED,
            },
        )
        offset = (number - 1) * per_meeting % len(contact_ids)
        invited = (contact_ids[offset:] + contact_ids[:offset])[:per_meeting]
        already = set(
            Invitation.objects.filter(gathering=meeting).values_list("contact_id", flat=True)
        )
        if len(already) >= per_meeting:
            continue
        invited = [pk for pk in invited if pk not in already][: per_meeting - len(already)]
        rows = []
        for contact_id in invited:
            status, mode = rng.choice(answers)
            rows.append(
                Invitation(
                    gathering=meeting,
                    contact_id=contact_id,
                    organization_id=organization_of.get(contact_id),
                    status=status,
                    mode=mode,
                    answered_at=starts_at if status != Invitation.Status.PENDING else None,
                )
            )
        with transaction.atomic():
            bulk_create_with_history(rows, Invitation, batch_size=5000)
        added += len(rows)
        progress(len(rows))
    return added

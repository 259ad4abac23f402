"""Fictional demo events for ``manage.py seed_demo``: this year's Alliance conference, last
year's, and a small webinar.

This year's conference is built only through the services, as the coordinators and the
invitees would: created with a capacity and a waiting list, given a programme, the heads and
focal points of all active partners invited together with a few guests from outside the
directory (delegations, a researcher; they become contacts flagged for review), opened (so the
invitation e-mails with their RSVP links go through the outbox), then answered through the RSVP
paths: many accept (some bring a plus-one) until every place is taken, some decline, the next
acceptances join the waiting list, and one participant who had accepted withdraws, so the first
person on the list is offered the freed place (an offer e-mail). The rest have not answered.

Last year's conference is history: the services refuse to open a gathering whose deadline has
passed or to take answers after it, an answer given now would mail a confirmation for a
conference a year ago, and a check-in through the service is stamped with today's time. So its
answers, the two people the coordinators admitted over the capacity, the check-ins at the door
and its status before "held" are written directly, with a history reason; it is marked held and
its attendance recorded through the services, and it sends no e-mail at all.

Every event is found by kind and title before anything is created, so running the seed again
adds nothing. Every choice is drawn from a seeded random generator over the (deterministic)
demo directory, so repeated seeds of a fresh database give the same events and answers.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from faker import Faker

from events.models import Event, EventSession
from events.services import event_create, invitations_create_guests
from meetings import services
from meetings.demo import (
    BENCH_SUFFIX,
    DEMO_DOMAIN,
    _at,
    _coordinator,
    _deadline_day,
    _emails_about,
    _on_weekday,
)
from meetings.models import Gathering, Invitation, PlusOne
from meetings.services.common import save
from members.demo import ascii_slug
from members.models import Affiliation, Contact, Organization

SEED = 20261127
Role = Affiliation.Role
Kind = Organization.Kind
Status = Invitation.Status

CONFERENCE_TITLE = "Alliance against Trafficking in Persons Conference {year}"
WEBINAR_TITLE = "Webinar: Identifying victims of trafficking among people seeking protection"
VENUE = "Hofburg Congress Centre (demo)"
ADDRESS = "Heldenplatz, 1010 Vienna, Austria"
CAPACITY = 40  # this year's: the acceptances fill it exactly, the next ones wait
PAST_CAPACITY = 36
WAITING = 6  # acceptances beyond the capacity this year
PAST_WAITING = 3  # last year; two of them were admitted over the capacity
OFFICE = "Office of the Special Representative (OSR/CTHB)"

CONFERENCE_DESCRIPTION = (
    "The annual high-level conference of the Alliance against Trafficking in Persons brings "
    "together the Alliance partners, delegations of the participating States and Partners for "
    "Co-operation, international organisations, civil society, researchers and the private "
    "sector. This year it looks at prevention, prosecution, protection and partnerships in the "
    "face of technology-facilitated trafficking and labour exploitation in supply chains."
)
CONFERENCE_MESSAGE = (
    "Dear colleagues, it is our pleasure to invite you to the Alliance conference in Vienna. "
    "Places are limited: please answer by the deadline. You may bring one accompanying person; "
    "if every place is taken, you will be put on the waiting list and told as soon as a place "
    "frees."
)
# (start, end, title, room, speakers: organisation kinds, None for the office)
PROGRAMME = [
    (
        (9, 30),
        (10, 15),
        "Opening: the Alliance against Trafficking in Persons and the road ahead",
        "Plenary Hall Europa",
        [None, Kind.INTERNATIONAL_ORGANIZATION],
    ),
    (
        (10, 15),
        (11, 45),
        "Prevention: addressing demand and the root causes of trafficking in human beings",
        "Plenary Hall Europa",
        [Kind.NGO, Kind.ACADEMIA, Kind.STATE_AUTHORITY],
    ),
    (
        (12, 0),
        (13, 0),
        "Prosecution: following the money in trafficking cases",
        "Plenary Hall Europa",
        [Kind.STATE_AUTHORITY, Kind.INTERNATIONAL_ORGANIZATION],
    ),
    (
        (14, 0),
        (15, 15),
        "Protection: victim-centred and trauma-informed assistance",
        "Salon Donau",
        [Kind.NGO, Kind.NGO, Kind.PARTNER_AUTHORITY],
    ),
    (
        (14, 0),
        (15, 15),
        "Technology-facilitated trafficking: online recruitment and platform accountability",
        "Salon Wienerwald",
        [Kind.PRIVATE_SECTOR, Kind.INTERNATIONAL_ORGANIZATION, Kind.ACADEMIA],
    ),
    (
        (15, 45),
        (16, 45),
        "Labour exploitation in supply chains: due diligence that reaches the workers",
        "Plenary Hall Europa",
        [Kind.PRIVATE_SECTOR, Kind.NGO],
    ),
    (
        (16, 45),
        (17, 30),
        "Partnerships: the Alliance's priorities for the coming year; closing remarks",
        "Plenary Hall Europa",
        [None, Kind.PARTNER_AUTHORITY],
    ),
]
PAST_PROGRAMME = [
    (
        (9, 30),
        (10, 15),
        "Opening: a decade of the anti-trafficking commitments",
        "Plenary Hall Europa",
        [None],
    ),
    (
        (10, 15),
        (11, 45),
        "Non-punishment of victims compelled to commit offences",
        "Plenary Hall Europa",
        [Kind.STATE_AUTHORITY, Kind.NGO],
    ),
    (
        (12, 0),
        (13, 0),
        "Child trafficking on migration routes",
        "Salon Donau",
        [Kind.NGO, Kind.INTERNATIONAL_ORGANIZATION],
    ),
    (
        (14, 0),
        (15, 30),
        "Risks of trafficking for labour exploitation in public procurement",
        "Plenary Hall Europa",
        [Kind.PRIVATE_SECTOR, Kind.ACADEMIA],
    ),
    (
        (15, 45),
        (17, 0),
        "Closing: conclusions and the way forward",
        "Plenary Hall Europa",
        [None, Kind.INTERNATIONAL_ORGANIZATION],
    ),
]
# Guests from outside the directory: (Faker locale, affiliation, mail domain). Fictional
# delegations and a researcher; the addresses are under example.org.
GUESTS = [
    ("en_GB", "Delegation of the Republic of Veloria (participating State)", "veloria-mission"),
    ("de_AT", "Permanent Mission of Norvania to the OSCE", "norvania-mission"),
    ("fr_FR", "Delegation of the Kingdom of Azmara (Partner for Co-operation)", "azmara-mission"),
    ("es_ES", "Delegation of Estoria (participating State)", "estoria-mission"),
    ("it_IT", "Parliamentary delegation of Lunaria", "lunaria-parliament"),
    ("pl_PL", "Independent researcher, guest speaker", "research-guest"),
]
PAST_GUESTS = [
    ("en_US", "Delegation of the Federal Republic of Ostravia (participating State)", "ostravia"),
    ("tr_TR", "Delegation of Meridia (Partner for Co-operation)", "meridia-mission"),
    ("de_DE", "Guest speaker, labour inspectorate network", "inspectorate-guest"),
]
OVER_CAPACITY_REASONS = [
    "Replaces a speaker of the closing panel",
    "Head of delegation; the Special Representative asked to admit",
]

DIETARY = ["Vegetarian", "Halal", "Vegan", "Gluten-free", "", "", ""]
ACCESSIBILITY = ["Wheelchair access", "Hearing loop", "Seat near the front, please"]
NOTES = ["Looking forward to it.", "I would be glad to join the protection session.", "", ""]
DECLINE_NOTES = [
    "Unfortunately the conference clashes with our general assembly.",
    "We cannot travel this time; we will follow the conclusions.",
    "",
]
WITHDRAW_NOTE = "My plans have changed and I can no longer come; please give my place to someone."


@dataclass
class EventsReport:
    created: list[str] = field(default_factory=list)
    invitations: int = 0
    emails: int = 0
    waiting: int = 0


def _partners(kinds=()) -> list[Organization]:
    organizations = Organization.objects.filter(status=Organization.Status.ACTIVE)
    if kinds:
        organizations = organizations.filter(kind__in=kinds)
    return list(organizations.order_by("name"))


def _people(organization: Organization) -> list[Contact]:
    return [
        a.contact
        for a in Affiliation.objects.current()
        .filter(organization=organization, role__in=[Role.HEAD, Role.FOCAL_POINT])
        .exclude(contact__email__endswith=BENCH_SUFFIX)
        .select_related("contact")
        .order_by("role", "contact__email")
    ]


def _speaker(kind, rng: random.Random, taken: set[int]) -> str:
    if kind is None:
        return OFFICE
    candidates = [o for o in _partners([kind]) if o.pk not in taken] or _partners()
    if not candidates:
        return ""
    organization = rng.choice(candidates)
    taken.add(organization.pk)
    people = _people(organization)
    name = rng.choice(people).full_name if people else ""
    return f"{name} ({organization.acronym or organization.name})" if name else organization.name


def _add_programme(event: Event, day: datetime.date, plan, rng: random.Random) -> None:
    taken: set[int] = set()
    for (start_h, start_m), (end_h, end_m), title, room, kinds in plan:
        speakers = [s for s in (_speaker(kind, rng, taken) for kind in kinds) if s]
        # No service writes programme sessions: they are plain rows of the draft, edited inline
        # in the back office. They must exist before the event opens, for the invitation e-mail.
        EventSession.objects.create(
            event=event,
            starts_at=_at(day, start_h, start_m),
            ends_at=_at(day, end_h, end_m),
            title=title,
            room=room,
            speakers="; ".join(speakers),
        )


def _guests(plan, seed: int) -> list[dict]:
    guests = []
    for n, (locale, affiliation, domain) in enumerate(plan):
        fake = Faker(locale)
        fake.seed_instance(seed + n)
        given, family = fake.first_name(), fake.last_name()
        guests.append(
            {
                "given_name": given,
                "family_name": family,
                "email": f"{ascii_slug(given)[:12]}.{ascii_slug(family)[:16]}@{domain}."
                f"{DEMO_DOMAIN}",
                "affiliation": affiliation,
            }
        )
    return guests


def _plus_one(fake: Faker) -> dict:
    given, family = fake.first_name(), fake.last_name()
    email = f"{ascii_slug(given)[:12]}.{ascii_slug(family)[:16]}@guests.{DEMO_DOMAIN}"
    return {"name": f"{given} {family}", "email": email if fake.pybool() else ""}


def _invite(event: Event, user, guests: list[dict]) -> list[Invitation]:
    """The heads and focal points of every active partner, then the guests."""
    preview = services.invitees_preview(
        gathering=event,
        statuses=[Organization.Status.ACTIVE],
        roles=[Role.HEAD, Role.FOCAL_POINT],
    )
    invitees = [(c, o) for c, o in preview.to_invite if not c.email.endswith(BENCH_SUFFIX)]
    invitations = services.invitations_create(gathering=event, invitees=invitees, acting_user=user)
    added, _skipped = invitations_create_guests(gathering=event, guests=guests, acting_user=user)
    return invitations + added


def _shuffled(invitations: list[Invitation], rng: random.Random) -> list[Invitation]:
    ordered = sorted(invitations, key=lambda i: i.pk)
    rng.shuffle(ordered)
    return ordered


# --- This year's conference: through the services only ------------------------------------


def _seed_conference(rng: random.Random, user, report: EventsReport, start_day) -> Event:
    deadline_day = _deadline_day(timezone.localdate() + datetime.timedelta(days=28), start_day)
    event = event_create(
        acting_user=user,
        kind=Event.Kind.CONFERENCE,
        title=CONFERENCE_TITLE.format(year=start_day.year),
        starts_at=_at(start_day, 9, 30),
        ends_at=_at(start_day, 17, 30),
        time_zone="Europe/Vienna",
        format=Gathering.Format.IN_PERSON,
        venue=VENUE,
        address=ADDRESS,
        rsvp_deadline=_at(deadline_day, 18),
        capacity=CAPACITY,
        per_org_cap=2,
        max_plus_ones=1,
        description=CONFERENCE_DESCRIPTION,
        invitation_message=CONFERENCE_MESSAGE,
    )
    _add_programme(event, start_day, PROGRAMME, rng)
    invitations = _invite(event, user, _guests(GUESTS, SEED))
    services.gathering_open(gathering=event, acting_user=user)
    report.invitations += len(invitations)

    # The invitees answer through their personal links, in a random order: acceptances (a
    # quarter with a plus-one) and some declines until every place is taken ...
    fake = Faker("en_GB")
    fake.seed_instance(SEED)
    queue = _shuffled(invitations, rng)
    declines = max(1, len(queue) // 8)
    free = CAPACITY
    alone: list[Invitation] = []
    while queue and free > 0:
        invitation = queue.pop(0)
        if declines and rng.random() < 0.2:
            services.invitation_respond(
                invitation=invitation, answer="decline", note=rng.choice(DECLINE_NOTES)
            )
            declines -= 1
            continue
        guests = [_plus_one(fake)] if free >= 2 and rng.random() < 0.25 else []
        accepted = services.invitation_respond(
            invitation=invitation,
            answer="in_person",
            dietary=rng.choice(DIETARY),
            accessibility=rng.choice(ACCESSIBILITY) if rng.random() < 0.1 else "",
            note=rng.choice(NOTES),
            plus_ones=guests,
        )
        free -= 1 + len(guests)
        if not guests:
            alone.append(accepted)
    # ... then the next acceptances join the waiting list, in the order they came (the first
    # comes alone, later ones may bring a guest) ...
    for position in range(min(WAITING, max(len(queue) - 1, 0))):
        invitation = queue.pop(0)
        guests = [_plus_one(fake)] if position and rng.random() < 0.3 else []
        services.invitation_respond(
            invitation=invitation,
            answer="in_person",
            dietary=rng.choice(DIETARY),
            note=rng.choice(NOTES),
            plus_ones=guests,
        )
    # ... and one participant who came alone withdraws: the place passes to the first person
    # waiting, who is offered it by e-mail (48 hours to confirm).
    if alone:
        services.invitation_respond(
            invitation=rng.choice(alone), answer="decline", note=WITHDRAW_NOTE
        )
    # A few of those left decline too late to matter; the rest have not answered yet.
    for invitation in queue[:3] if len(queue) > 5 else []:
        services.invitation_respond(
            invitation=invitation, answer="decline", note=rng.choice(DECLINE_NOTES)
        )
    report.waiting += event.invitations.filter(status=Status.WAITING).count()
    report.emails += _emails_about(event)
    return event


# --- A small webinar: through the services only -------------------------------------------


def _seed_webinar(rng: random.Random, user, report: EventsReport, start_day) -> Event:
    event = event_create(
        acting_user=user,
        kind=Event.Kind.WEBINAR,
        title=WEBINAR_TITLE,
        starts_at=_at(start_day, 14),
        ends_at=_at(start_day, 15, 30),
        time_zone="Europe/Vienna",
        format=Gathering.Format.ONLINE,
        online_link=f"https://meet.{DEMO_DOMAIN}/alliance-webinar",
        rsvp_deadline=_at(start_day - datetime.timedelta(days=2), 18),
        description=(
            "A one-hour webinar for the Alliance's NGO and research partners on indicators of "
            "trafficking among people seeking international protection, with time for questions."
        ),
    )
    EventSession.objects.create(  # the programme, as in _add_programme
        event=event,
        starts_at=_at(start_day, 14),
        ends_at=_at(start_day, 15, 30),
        title="Indicators, referral and the first interview",
        speakers=_speaker(Kind.NGO, rng, set()),
    )
    preview = services.invitees_preview(
        gathering=event, kinds=[Kind.NGO, Kind.ACADEMIA], statuses=[Organization.Status.ACTIVE]
    )
    invitations = services.invitations_create(
        gathering=event, invitees=preview.to_invite, acting_user=user
    )
    services.gathering_open(gathering=event, acting_user=user)
    report.invitations += len(invitations)
    for invitation in _shuffled(invitations, rng)[: len(invitations) // 2]:
        if rng.random() < 0.2:
            services.invitation_respond(invitation=invitation, answer="decline")
        else:
            services.invitation_respond(
                invitation=invitation,
                answer="online",
                other_needs="Live captions, please" if rng.random() < 0.2 else "",
            )
    report.emails += _emails_about(event)
    return event


# --- Last year's conference: history, without e-mail ---------------------------------------


def _seed_past_conference(rng: random.Random, user, report: EventsReport, start_day) -> Event:
    start = _at(start_day, 9, 30)
    deadline = _at(_on_weekday(start_day - datetime.timedelta(days=14), -1), 18)
    event = event_create(
        acting_user=user,
        kind=Event.Kind.CONFERENCE,
        title=CONFERENCE_TITLE.format(year=start_day.year),
        starts_at=start,
        ends_at=_at(start_day, 17),
        time_zone="Europe/Vienna",
        format=Gathering.Format.IN_PERSON,
        venue=VENUE,
        address=ADDRESS,
        rsvp_deadline=deadline,
        capacity=PAST_CAPACITY,
        per_org_cap=2,
        max_plus_ones=1,
        description=(
            "The annual conference of the Alliance against Trafficking in Persons: the "
            "non-punishment principle, child trafficking on migration routes and labour "
            "exploitation in public procurement."
        ),
    )
    _add_programme(event, start_day, PAST_PROGRAMME, rng)
    # Invited while a draft: the invitation rows exist, no e-mail is written.
    invitations = _invite(event, user, _guests(PAST_GUESTS, SEED + 1))
    report.invitations += len(invitations)

    # Demo history. gathering_open refuses a deadline in the past, invitation_respond and
    # invitation_admit_over_capacity mail a confirmation, and invitation_check_in stamps the
    # arrival with today's time, so what happened before and on the day is written directly
    # (with a history reason): the invitations went out four weeks before the deadline, the
    # acceptances filled every place, the next ones waited, two of those were admitted over the
    # capacity, the conference closed, and most participants were checked in at the door.
    # Nothing is put in the outbox.
    sent_at = deadline - datetime.timedelta(days=28)
    reason = "Demo history"
    fake = Faker("en_GB")
    fake.seed_instance(SEED + 1)
    queue = _shuffled(invitations, rng)
    free = PAST_CAPACITY
    accepted: list[Invitation] = []
    waiting: list[Invitation] = []
    for invitation in queue:
        invitation.sent_at = sent_at
        answered = sent_at + datetime.timedelta(days=rng.randint(1, 26), hours=rng.randint(0, 8))
        if free > 0 and rng.random() < 0.85:
            invitation.status, invitation.mode = Status.ACCEPTED, Invitation.Mode.IN_PERSON
            invitation.dietary = rng.choice(DIETARY)
            guests = 1 if free >= 2 and rng.random() < 0.2 else 0
            free -= 1 + guests
            accepted.append(invitation)
        elif free == 0 and len(waiting) < PAST_WAITING:
            invitation.status, invitation.mode = Status.WAITING, Invitation.Mode.IN_PERSON
            invitation.waiting_since = answered
            guests = 0
            waiting.append(invitation)
        elif rng.random() < 0.5:
            invitation.status = Status.DECLINED
            guests = 0
        else:
            save(invitation, user, reason=reason)  # never answered
            continue
        invitation.answered_at = answered
        invitation.answer_count = 1
        save(invitation, user, reason=reason)
        for _n in range(guests):
            guest = _plus_one(fake)
            PlusOne.objects.create(invitation=invitation, name=guest["name"], email=guest["email"])
    for invitation, why in zip(waiting, OVER_CAPACITY_REASONS, strict=False):
        invitation.status = Status.ACCEPTED
        invitation.waiting_since = None
        invitation.admitted_over_capacity = True
        invitation.answer_count += 1
        save(invitation, user, reason=f"Admitted over capacity: {why}"[:100])
        accepted.append(invitation)
    event.status = Gathering.Status.CLOSED
    save(event, user, reason=reason, update_fields=["status"])

    # From here on, as the coordinators do it on the day and after it.
    services.gathering_mark_held(gathering=event, acting_user=user)
    attendance: dict[int, str] = {i.pk: Invitation.Attendance.ABSENT for i in invitations}
    for invitation in accepted:
        if rng.random() < 0.08:
            continue  # accepted, but did not come
        attendance[invitation.pk] = Invitation.Attendance.ATTENDED
        if rng.random() < 0.8:
            # Checked in at the door (the check-in service would stamp today's time).
            invitation.checked_in_at = start - datetime.timedelta(minutes=rng.randint(5, 50))
            invitation.attendance = Invitation.Attendance.ATTENDED
            save(invitation, user, reason="Check-in")
    services.invitations_record_attendance(gathering=event, attendance=attendance, acting_user=user)
    return event


# --- Entry point ---------------------------------------------------------------------------


def _dates() -> dict[str, datetime.date]:
    today = timezone.localdate()
    conference = _on_weekday(today + datetime.timedelta(days=42), +1)
    return {
        "past": _on_weekday(conference - datetime.timedelta(days=364), -1),
        "conference": conference,
        "webinar": _on_weekday(today + datetime.timedelta(days=21), +1),
    }


def seed_events(*, progress: Callable[[str], None] = lambda _msg: None) -> EventsReport:
    """Create the demo events that are not there yet (found by kind and title)."""
    report = EventsReport()
    user = _coordinator()
    dates = _dates()
    plan = [
        ("past", Event.Kind.CONFERENCE, CONFERENCE_TITLE, _seed_past_conference),
        ("conference", Event.Kind.CONFERENCE, CONFERENCE_TITLE, _seed_conference),
        ("webinar", Event.Kind.WEBINAR, WEBINAR_TITLE, _seed_webinar),
    ]
    for offset, (name, kind, title, build) in enumerate(plan):
        day = dates[name]
        label = title.format(year=day.year)
        if not Event.objects.filter(kind=kind, title=label).exists():
            # One transaction per event: its e-mails leave when it commits, all or nothing.
            with transaction.atomic():
                rng = random.Random(SEED + offset)  # noqa: S311 - demo data, not secrets
                build(rng, user, report, day)
            report.created.append(label)
        progress(label)
    return report

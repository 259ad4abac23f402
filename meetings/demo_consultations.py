"""Fictional demo consultations for ``manage.py seed_demo``: two years of bilateral and
multi-stakeholder consultations with the partners, several of them for the OSCE survey of
commitments, two restricted, and their follow-ups open (some overdue, some due in the next
days), done and cancelled.

Everything goes through the services, as a coordinator would record it. Follow-ups that were
finished in the past are completed with the day they were done; open ones are due relative to
today, so the demo always has overdue and upcoming work. No e-mail is sent while seeding: the
reminders about open follow-ups are the outbox scheduler's, which runs later.

Each consultation is found by its title before anything is created, so running the seed again
adds nothing. Partners and people are drawn from a seeded random generator over the
(deterministic) demo directory, so repeated seeds of a fresh database give the same data. The
owner of the follow-ups is the demo coordinator login if it exists (``manage.py dev_login``);
on a fresh checkout it does not, and the follow-ups have no owner.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from meetings import services
from meetings.demo import BENCH_SUFFIX, COORDINATOR_USERNAME
from meetings.models import Consultation, FollowUp
from members.models import Affiliation, Contact, FocusArea, Organization

SEED = 20261127
SURVEY = "OSCE survey of commitments {year}"

Kind = Consultation.Kind
Channel = Consultation.Channel
Code = FocusArea.Code
Status = FollowUp.Status


class Step(NamedTuple):
    """A follow-up: due ``due_days`` after the consultation (``from_today``: after today, for
    open ones), its status, and for done ones how many days after the consultation."""

    title: str
    due_days: int
    status: str = Status.OPEN
    done_after: int | None = None
    from_today: bool = False
    partner_owner: bool = False


class Plan(NamedTuple):
    days_ago: int
    kind: str
    channel: str
    partners: int
    title: str
    topics: tuple[str, ...]
    summary: str
    outcomes: str
    steps: tuple[Step, ...]
    survey: bool = False
    restricted: bool = False


def _open(title: str, due_in: int, *, partner_owner: bool = False) -> Step:
    return Step(title, due_in, from_today=True, partner_owner=partner_owner)


PLAN: tuple[Plan, ...] = (
    Plan(
        700,
        Kind.MULTI,
        Channel.MEETING,
        5,
        "Launching the survey of anti-trafficking commitments",
        (Code.PARTNERSHIPS, Code.PREVENTION),
        "The office presented the survey's scope and timetable; partners suggested questions "
        "on referral mechanisms and on the identification of victims among migrants.",
        "Partners agreed to comment on the draft questionnaire within a month.",
        (
            Step("Circulate the draft questionnaire to all partners", 14, Status.DONE, 10),
            Step("Collect the partners' comments on the questionnaire", 40, Status.DONE, 45),
        ),
        survey=True,
    ),
    Plan(
        640,
        Kind.BILATERAL,
        Channel.VIDEO,
        1,
        "Shelter standards for child victims",
        (Code.PROTECTION, Code.CHILD_TRAFFICKING),
        "The partner described its shelters' standards for unaccompanied children and the gaps "
        "it sees in guardianship arrangements.",
        "The office will share the checklist used in other participating States.",
        (Step("Share the shelter standards checklist", 21, Status.DONE, 20),),
    ),
    Plan(
        590,
        Kind.BILATERAL,
        Channel.CALL,
        1,
        "Recruitment fees in the construction sector",
        (Code.LABOUR_EXPLOITATION, Code.SUPPLY_CHAINS),
        "Recruitment fees charged to workers in subcontracting chains; cases from two "
        "construction sites.",
        "An introduction to the employers' federation was proposed.",
        (Step("Introduce the partner to the employers' federation", 30, Status.CANCELLED),),
    ),
    Plan(
        540,
        Kind.MULTI,
        Channel.VIDEO,
        4,
        "Non-punishment principle: a practice note",
        (Code.PROSECUTION, Code.FORCED_CRIMINALITY),
        "Partners shared cases of victims prosecuted for offences they were compelled to "
        "commit, and the guidance prosecutors have in their countries.",
        "A short practice note will be drafted and reviewed with prosecutors.",
        (
            Step("Draft an outline of the practice note", 30, Status.DONE, 28),
            Step("Review the outline with prosecutors", 60, Status.DONE, 66),
        ),
    ),
    Plan(
        480,
        Kind.BILATERAL,
        Channel.VISIT,
        1,
        "Visit to the partner's referral hotline",
        (Code.PROTECTION, Code.SEXUAL_EXPLOITATION),
        "Visit to the hotline's premises; two individual cases were discussed with the "
        "caseworkers.",
        "The office will raise the two cases with the authorities concerned.",
        (Step("Follow up on the two cases raised during the visit", 14, Status.DONE, 12),),
        restricted=True,
    ),
    Plan(
        420,
        Kind.MULTI,
        Channel.MEETING,
        6,
        "Survey of commitments: validating the country data",
        (Code.PARTNERSHIPS, Code.PROSECUTION),
        "Partners reviewed the country data collected for the survey and flagged figures that "
        "did not match their own monitoring.",
        "The office returns the flagged figures to the national authorities for checking.",
        (
            Step(
                "Send the flagged country data back to the national authorities",
                30,
                Status.DONE,
                25,
            ),
            Step("Publish a summary of the survey's first results", 90, Status.CANCELLED),
        ),
        survey=True,
    ),
    Plan(
        360,
        Kind.BILATERAL,
        Channel.EMAIL,
        1,
        "Due diligence guidance for supply chains",
        (Code.SUPPLY_CHAINS, Code.PREVENTION),
        "Exchange of e-mails on the partner's draft guidance for companies.",
        "The office sends written comments on the draft.",
        (Step("Comment on the draft due diligence guidance", 21, Status.DONE, 19),),
    ),
    Plan(
        300,
        Kind.MULTI,
        Channel.VIDEO,
        3,
        "Online recruitment and technology-facilitated trafficking",
        (Code.PREVENTION, Code.SEXUAL_EXPLOITATION),
        "Partners compared the tools they use to detect online recruitment and the "
        "co-operation they have with platforms.",
        "A map of the partners' tools will be compiled for the next AECT meeting.",
        (
            _open("Map the partners' tools for detecting online recruitment", -20),
            Step("Share the platforms' contact points", 20, Status.DONE, 15),
        ),
    ),
    Plan(
        240,
        Kind.BILATERAL,
        Channel.CALL,
        1,
        "Domestic servitude in diplomatic households",
        (Code.PROTECTION, Code.DOMESTIC_SERVITUDE),
        "A case of domestic servitude in a diplomatic household and the protection the "
        "worker was offered.",
        "The office briefs the protocol department; details stay with the coordinators.",
        (_open("Brief the protocol department on the case", -6),),
        restricted=True,
    ),
    Plan(
        180,
        Kind.MULTI,
        Channel.MEETING,
        5,
        "Survey of commitments: first round of replies",
        (Code.PARTNERSHIPS, Code.PREVENTION, Code.PROTECTION),
        "The office reported on the replies received so far; partners offered to encourage "
        "the authorities in their countries to reply.",
        "Reminders go to those who have not replied; the first replies are compiled.",
        (
            _open("Remind the partners whose authorities have not replied", -12),
            _open("Compile the first round of replies", 2),
            Step("Translate the questionnaire into Russian", 20, Status.DONE, 18),
        ),
        survey=True,
    ),
    Plan(
        120,
        Kind.BILATERAL,
        Channel.VIDEO,
        1,
        "Organ removal: identifying victims in hospitals",
        (Code.ORGAN_REMOVAL, Code.PROTECTION),
        "The partner presented its training for hospital staff on the signs of trafficking "
        "for organ removal.",
        "The partner shares its training module with the other partners.",
        (_open("Share the hospital staff training module", 5, partner_owner=True),),
    ),
    Plan(
        60,
        Kind.MULTI,
        Channel.VIDEO,
        4,
        "Preparing the Alliance conference: the partners' panels",
        (Code.PARTNERSHIPS,),
        "Partners proposed themes for the panels of the Alliance conference.",
        "Partners propose speakers; the office confirms the exhibition stands.",
        (
            _open("Propose the speakers for the partners' panel", -3, partner_owner=True),
            _open("Confirm the partners' exhibition stands", 25),
            Step("Book interpretation for the preparatory meeting", 10, Status.CANCELLED),
        ),
    ),
    Plan(
        25,
        Kind.BILATERAL,
        Channel.MEETING,
        1,
        "Labour inspection and seasonal agricultural workers",
        (Code.LABOUR_EXPLOITATION, Code.PROSECUTION),
        "Labour inspectors' findings among seasonal workers and how cases are referred to "
        "the police.",
        "The office sends its inspection checklist; a joint field visit is being arranged.",
        (
            _open("Send the labour inspection checklist", 1),
            _open("Arrange a joint field visit", 40),
        ),
        survey=True,
    ),
    Plan(
        8,
        Kind.MULTI,
        Channel.CALL,
        3,
        "Survey of commitments: follow-up call on data gaps",
        (Code.CHILD_TRAFFICKING, Code.PROTECTION),
        "The remaining gaps in the survey's data on child victims.",
        "Partners help fill the gaps before the report is drafted.",
        (_open("Fill the data gaps on child victims", 10, partner_owner=True),),
        survey=True,
    ),
)


@dataclass
class ConsultationsReport:
    created: list[str] = field(default_factory=list)
    follow_ups: int = 0
    open: int = 0
    overdue: int = 0
    restricted: int = 0


def _coordinator():
    return get_user_model().objects.filter(username=COORDINATOR_USERNAME, is_active=True).first()


def _working_day(day: datetime.date) -> datetime.date:
    """The working day on or before ``day``."""
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    return day


def _partners() -> list[Organization]:
    return list(Organization.objects.filter(status=Organization.Status.ACTIVE).order_by("name"))


def _focal_points(organizations: list[Organization]) -> dict[int, Contact]:
    people: dict[int, Contact] = {}
    affiliations = (
        Affiliation.objects.current()
        .filter(organization__in=organizations, role=Affiliation.Role.FOCAL_POINT)
        .exclude(contact__email__endswith=BENCH_SUFFIX)
        .select_related("contact")
        .order_by("organization_id", "contact__email")
    )
    for affiliation in affiliations:
        people.setdefault(affiliation.organization_id, affiliation.contact)
    return people


def _seed_one(plan: Plan, rng: random.Random, partners, user, report) -> None:
    today = timezone.localdate()
    held_on = _working_day(today - datetime.timedelta(days=plan.days_ago))
    chosen = rng.sample(partners, min(plan.partners, len(partners)))
    kind = plan.kind if len(chosen) > 1 else Kind.BILATERAL
    people = _focal_points(chosen)
    consultation = services.consultation_create(
        acting_user=user,
        organizations=chosen,
        contacts=[people[o.pk] for o in chosen if o.pk in people],
        staff=[user] if user else [],
        topics=FocusArea.objects.filter(code__in=plan.topics),
        kind=kind,
        held_on=held_on,
        channel=plan.channel,
        title=plan.title,
        label=SURVEY.format(year=held_on.year) if plan.survey else "",
        summary=plan.summary,
        outcomes=plan.outcomes,
        confidentiality=(
            Consultation.Confidentiality.RESTRICTED
            if plan.restricted
            else Consultation.Confidentiality.NORMAL
        ),
    )
    report.restricted += int(plan.restricted)
    for step in plan.steps:
        start = today if step.from_today else held_on
        organization = rng.choice(chosen)
        partner = people.get(organization.pk) if step.partner_owner and user else None
        followup = services.followup_create(
            acting_user=user,
            consultation=consultation,
            title=step.title,
            owner_user=user,
            owner_contact=partner,
            organization=organization if kind == Kind.MULTI and partner else None,
            due_date=start + datetime.timedelta(days=step.due_days),
            notes=plan.outcomes,
        )
        if step.status == Status.DONE:
            done_on = min(held_on + datetime.timedelta(days=step.done_after or 0), today)
            services.followup_complete(followup=followup, acting_user=user, on=done_on)
        elif step.status == Status.CANCELLED:
            services.followup_cancel(
                followup=followup, acting_user=user, reason="No longer needed."
            )
        else:
            report.open += 1
            report.overdue += int(followup.due_date < today)
        report.follow_ups += 1
    report.created.append(plan.title)


def seed_consultations(
    *, progress: Callable[[str], None] = lambda _msg: None
) -> ConsultationsReport:
    """Create the demo consultations that are not there yet (found by title)."""
    report = ConsultationsReport()
    partners = _partners()
    if not partners:
        return report
    user = _coordinator()
    existing = set(
        Consultation.objects.filter(title__in=[p.title for p in PLAN]).values_list(
            "title", flat=True
        )
    )
    for index, plan in enumerate(PLAN):
        if plan.title not in existing:
            # One transaction per consultation: it and its follow-ups, all or nothing.
            with transaction.atomic():
                rng = random.Random(SEED + index)  # noqa: S311 - demo data, not secrets
                _seed_one(plan, rng, partners, user, report)
        progress(plan.title)
    return report

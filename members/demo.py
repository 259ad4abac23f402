"""Fictional demo data for the member directory (Faker, several locales; no real person).

Generation is deterministic (a fixed seed) and every row is found by a natural key before it is
created, so running the seed twice adds nothing.
"""

import datetime
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import phonenumbers
from django.db import transaction
from django.utils import timezone
from faker import Faker
from simple_history.utils import bulk_create_with_history

from members import services
from members.models import Affiliation, ConsentRecord, Contact, FocusArea, Organization

SEED = 20261125
DEMO_DOMAIN = "example.org"  # reserved for documentation (RFC 2606): no real mailbox

Kind = Organization.Kind
Status = Organization.Status
Role = Affiliation.Role

# locale, preferred language, time zone, phone region
LOCALES = [
    ("en_GB", "en", "Europe/London", "GB"),
    ("fr_FR", "fr", "Europe/Paris", "FR"),
    ("de_DE", "de", "Europe/Berlin", "DE"),
    ("de_AT", "de", "Europe/Vienna", "AT"),
    ("it_IT", "it", "Europe/Rome", "IT"),
    ("es_ES", "es", "Europe/Madrid", "ES"),
    ("ru_RU", "ru", "Europe/Moscow", "RU"),
    ("uk_UA", "ru", "Europe/Kyiv", "UA"),
    ("ru_RU", "ru", "Asia/Almaty", "KZ"),
    ("pl_PL", "en", "Europe/Warsaw", "PL"),
    ("tr_TR", "en", "Europe/Istanbul", "TR"),
    ("en_US", "en", "America/New_York", "US"),
]

# (kind, how many, name patterns). {place} is a Faker city, {topic} a field of work.
ORGANIZATION_PLAN = [
    (
        Kind.INTERNATIONAL_ORGANIZATION,
        8,
        [
            "International Centre for {topic}",
            "Global Forum on {topic}",
            "Intergovernmental Office for {topic}",
        ],
    ),
    (
        Kind.NGO,
        14,
        [
            "{place} Coalition against Exploitation",
            "{place} Shelter Network",
            "Safe Passage {place}",
            "{place} Association for {topic}",
        ],
    ),
    (
        Kind.STATE_AUTHORITY,
        6,
        [
            "{place} Regional Anti-Trafficking Unit",
            "National Rapporteur's Office, {place} (demo)",
        ],
    ),
    (Kind.PARTNER_AUTHORITY, 3, ["Partner Liaison Office {place}"]),
    (Kind.ACADEMIA, 4, ["{place} Institute of Migration Studies", "Centre for {topic}, {place}"]),
    (Kind.PRIVATE_SECTOR, 3, ["{place} Responsible Sourcing Initiative", "Fair Supply {place}"]),
    (Kind.OTHER, 2, ["{place} Trade Union Forum", "{place} Faith Communities Network"]),
]
TOPICS = [
    "Victim Protection",
    "Labour Rights",
    "Child Safety",
    "Migration Policy",
    "Survivor Support",
    "Supply Chain Integrity",
    "Legal Assistance",
    "Prevention Research",
]
# Statuses by position in the list of 40: most are active.
STATUS_PLAN = (
    [Status.ACTIVE] * 29
    + [Status.PROSPECTIVE] * 4
    + [Status.INVITED] * 2
    + [Status.SUSPENDED] * 1
    + [Status.WITHDRAWN] * 4
)
CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґ",
        [
            "a",
            "b",
            "v",
            "g",
            "d",
            "e",
            "e",
            "zh",
            "z",
            "i",
            "y",
            "k",
            "l",
            "m",
            "n",
            "o",
            "p",
            "r",
            "s",
            "t",
            "u",
            "f",
            "kh",
            "ts",
            "ch",
            "sh",
            "shch",
            "",
            "y",
            "",
            "e",
            "yu",
            "ya",
            "i",
            "ye",
            "yi",
            "g",
        ],
        strict=True,
    )
)


def ascii_slug(text: str) -> str:
    import unicodedata

    text = "".join(CYRILLIC.get(c, c) for c in text.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", text)


def demo_phone(region: str) -> str:
    """A fictitious number: libphonenumber's example number for the region."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if example is None:
        return ""
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)


def _place(fake: Faker, locale: str) -> str:
    # it_IT's city() is not reproducible from a seed (it draws from a set); provinces are.
    return fake.administrative_unit() if locale == "it_IT" else fake.city()


@dataclass
class SeedReport:
    organizations_created: int = 0
    contacts_created: int = 0
    affiliations_created: int = 0


def _acronym(name: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z]+", name) if w[0].isupper() and len(w) > 2]
    return "".join(w[0] for w in words)[:6].upper()


def _organization_specs(rng: random.Random) -> Iterator[dict]:
    # One single-locale Faker per locale: a multi-locale proxy picks its locale at random,
    # which would give other names on the next run.
    place_fakers = {}
    for loc, *_rest in LOCALES:
        place_fakers[loc] = Faker(loc)
        place_fakers[loc].seed_instance(SEED)
    names: set[str] = set()
    index = 0
    for kind, count, patterns in ORGANIZATION_PLAN:
        for n in range(count):
            locale = LOCALES[index % len(LOCALES)]
            while True:
                name = patterns[n % len(patterns)].format(
                    place=_place(place_fakers[locale[0]], locale[0]), topic=rng.choice(TOPICS)
                )
                if name.lower() not in names:
                    names.add(name.lower())
                    break
            yield {
                "name": name,
                "kind": kind,
                "status": STATUS_PLAN[index % len(STATUS_PLAN)],
                "locale": locale,
                "index": index,
            }
            index += 1


@transaction.atomic
def seed_directory(*, progress: Callable[[str], None] = lambda _msg: None) -> SeedReport:
    """Create the demo directory: 40 organisations of every kind and about 250 contacts."""
    rng = random.Random(SEED)
    report = SeedReport()
    focus_codes = list(FocusArea.objects.values_list("code", flat=True))
    today = timezone.localdate()
    for spec in _organization_specs(rng):
        locale, _language, _tz, region = spec["locale"]
        # Draw every random value before looking at the database, so a second run draws the
        # same values and finds the same rows.
        org_rng = random.Random(SEED + spec["index"])
        joined = today - datetime.timedelta(days=org_rng.randint(400, 4000))
        focus = org_rng.sample(focus_codes, k=org_rng.randint(2, 5))
        organization = Organization.objects.filter(name__iexact=spec["name"]).first()
        if organization is None:
            status = spec["status"]
            initial = Status.ACTIVE if status in (Status.SUSPENDED, Status.WITHDRAWN) else status
            organization = services.organization_create(
                name=spec["name"],
                acronym=_acronym(spec["name"]),
                kind=spec["kind"],
                country=region,
                website=f"https://{ascii_slug(spec['name'])[:30]}.{DEMO_DOMAIN}",
                description=Faker(locale).paragraph(nb_sentences=2),
                takes_part_in_aect=status == Status.ACTIVE and spec["index"] % 4 != 3,
                status=initial,
                status_date=joined,
                focus_areas=focus,
                acting_user=None,
            )
            if status != initial:
                services.organization_change_status(
                    organization=organization,
                    to_status=status,
                    reason="Demo: "
                    + (
                        "funding paused" if status == Status.SUSPENDED else "organisation dissolved"
                    ),
                    effective_date=joined + datetime.timedelta(days=300),
                    acting_user=None,
                )
            report.organizations_created += 1
        progress(organization.name)
        _seed_people(organization, spec, org_rng, report)
    return report


def _seed_people(organization: Organization, spec: dict, rng: random.Random, report) -> None:
    locale, language, tz, region = spec["locale"]
    fake = Faker(locale)
    fake.seed_instance(SEED + spec["index"])
    domain = f"{ascii_slug(organization.acronym or organization.name)[:20]}.{DEMO_DOMAIN}"
    roles = [
        Role.HEAD,
        Role.FOCAL_POINT,
        Role.ALTERNATE_FOCAL_POINT,
        Role.EXPERT,
        Role.EXPERT,
        Role.COMMUNICATIONS,
    ]
    # Every organisation gets six people; one in three also has a former focal point.
    if spec["index"] % 3 == 0:
        roles.append("former_focal_point")
    for n, role in enumerate(roles):
        given, family, job = fake.first_name(), fake.last_name(), fake.job()[:200]
        salutation = rng.choice(["", "Ms", "Mr", "Dr"])
        opts_out = rng.random() < 0.05
        email = f"{ascii_slug(given)[:12]}.{ascii_slug(family)[:16]}{n}@{domain}"
        contact = Contact.objects.filter(email=email).first()
        if contact is None:
            contact = services.contact_create(
                given_name=given,
                family_name=family,
                email=email,
                salutation=salutation,
                phone=demo_phone(region) if n % 2 == 0 else "",
                preferred_language=language,
                time_zone=tz,
                acting_user=None,
            )
            report.contacts_created += 1
            if opts_out:
                services.contact_set_mail_opt_out(
                    contact=contact,
                    opted_out=True,
                    acting_user=None,
                    method=ConsentRecord.Method.EMAIL,
                )
        if contact.affiliations.filter(organization=organization).exists():
            continue
        start = organization.member_since or timezone.localdate() - datetime.timedelta(days=900)
        if role == "former_focal_point":
            services.affiliation_create(
                contact=contact,
                organization=organization,
                role=Role.FOCAL_POINT,
                job_title=job,
                start_date=start - datetime.timedelta(days=700),
                end_date=start,
                acting_user=None,
            )
        else:
            services.affiliation_create(
                contact=contact,
                organization=organization,
                role=role,
                job_title=job,
                start_date=start,
                acting_user=None,
            )
        report.affiliations_created += 1


def seed_scale(
    *, contacts: int, batch_size: int = 5000, progress: Callable[[int], None] = lambda _n: None
) -> int:
    """Top the directory up to ``contacts`` generated benchmark contacts (bulk inserts, with
    history rows), each an expert at an active organisation. Returns how many were added."""
    prefix = "scale"
    seed_scale_organizations(organizations=contacts // 100)
    existing = Contact.objects.filter(
        email__startswith=prefix, email__endswith=f"@bench.{DEMO_DOMAIN}"
    ).count()
    organizations = list(
        Organization.objects.filter(status=Status.ACTIVE).values_list("pk", flat=True)
    )
    if not organizations:
        organizations = list(Organization.objects.values_list("pk", flat=True))
    if not organizations:
        raise ValueError("Seed the demo directory first (no organisation to attach people to).")
    fake = Faker(sorted({loc for loc, *_ in LOCALES}))
    fake.seed_instance(SEED + existing)
    rng = random.Random(SEED + existing)
    added = 0
    for start in range(existing, contacts, batch_size):
        stop = min(start + batch_size, contacts)
        people = []
        for i in range(start, stop):
            _locale, language, tz, _region = LOCALES[i % len(LOCALES)]
            people.append(
                Contact(
                    given_name=fake.first_name(),
                    family_name=fake.last_name(),
                    email=f"{prefix}{i:07d}@bench.{DEMO_DOMAIN}",
                    preferred_language=language,
                    time_zone=tz,
                )
            )
        with transaction.atomic():
            created = bulk_create_with_history(people, Contact, batch_size=batch_size)
            if created and created[0].pk is None:
                created = list(
                    Contact.objects.filter(email__in=[p.email for p in people]).only("pk")
                )
            bulk_create_with_history(
                [
                    Affiliation(
                        contact_id=c.pk, organization_id=rng.choice(organizations), role=Role.EXPERT
                    )
                    for c in created
                ],
                Affiliation,
                batch_size=batch_size,
            )
        added += stop - start
        progress(stop - start)
    return added


def seed_scale_organizations(*, organizations: int) -> int:
    """Top the directory up to ``organizations`` generated active benchmark organisations
    (bulk inserts, with history rows), so benchmark contacts spread over many of them.
    Returns how many were added."""
    prefix = "Benchmark partner"
    existing = Organization.objects.filter(name__startswith=prefix).count()
    if existing >= organizations:
        return 0
    kinds = [kind for kind, _label in Kind.choices]
    today = timezone.localdate()
    rows = [
        Organization(
            name=f"{prefix} {i:05d}",
            acronym=f"BP{i:05d}",
            kind=kinds[i % len(kinds)],
            status=Status.ACTIVE,
            member_since=today,
            takes_part_in_aect=i % 10 == 0,
        )
        for i in range(existing, organizations)
    ]
    with transaction.atomic():
        bulk_create_with_history(rows, Organization, batch_size=5000)
    return len(rows)

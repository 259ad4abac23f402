import datetime
import threading

import pytest
from django.db import IntegrityError, close_old_connections, connection
from django.utils import timezone

from crm.exceptions import ApplicationError
from members import services
from members.models import Affiliation, Contact, ContactMerge, MembershipChange, Organization
from members.selectors import contact_possible_duplicates, current_focal_point
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db
Status = Organization.Status

ALL_PAIRS = [(a, b) for a in Status.values for b in Status.values if a != b]
ALLOWED = {(a, b) for a, targets in services.ALLOWED_TRANSITIONS.items() for b in targets}


@pytest.fixture
def user():
    return UserFactory()


def _org(status, user):
    return services.organization_create(
        name=f"Org {status}",
        kind=Organization.Kind.NGO,
        status=status,
        status_date=datetime.date(2020, 1, 1),
        acting_user=user,
    )


@pytest.mark.parametrize(("from_status", "to_status"), sorted(ALLOWED))
def test_allowed_status_transition_is_applied_and_recorded(user, from_status, to_status):
    organization = _org(from_status, user)
    changed = services.organization_change_status(
        organization=organization,
        to_status=to_status,
        reason="Board decision",
        effective_date=datetime.date(2024, 5, 1),
        acting_user=user,
    )
    assert changed.status == to_status
    last = changed.membership_changes.last()
    assert (last.from_status, last.to_status) == (from_status, to_status)
    assert last.changed_by == user
    assert last.reason == "Board decision"
    assert changed.history.first().history_user == user


@pytest.mark.parametrize(("from_status", "to_status"), sorted(set(ALL_PAIRS) - ALLOWED))
def test_refused_status_transition_says_what_is_possible(user, from_status, to_status):
    organization = _org(from_status, user)
    with pytest.raises(ApplicationError) as exc:
        services.organization_change_status(
            organization=organization, to_status=to_status, reason="x", acting_user=user
        )
    assert "cannot go from" in exc.value.message
    assert exc.value.field == "to_status"
    organization.refresh_from_db()
    assert organization.status == from_status
    assert organization.membership_changes.count() == 1


def test_same_status_is_refused(user):
    organization = _org(Status.ACTIVE, user)
    with pytest.raises(ApplicationError, match="already active"):
        services.organization_change_status(
            organization=organization, to_status=Status.ACTIVE, acting_user=user
        )


@pytest.mark.parametrize("to_status", [Status.SUSPENDED, Status.WITHDRAWN])
def test_leaving_needs_a_reason(user, to_status):
    organization = _org(Status.ACTIVE, user)
    with pytest.raises(ApplicationError) as exc:
        services.organization_change_status(
            organization=organization, to_status=to_status, reason="  ", acting_user=user
        )
    assert exc.value.field == "reason"


def test_member_since_and_left_on_follow_the_record(user):
    organization = _org(Status.PROSPECTIVE, user)
    assert organization.member_since is None
    for status, day in [
        (Status.INVITED, datetime.date(2021, 1, 1)),
        (Status.ACTIVE, datetime.date(2021, 3, 1)),
        (Status.SUSPENDED, datetime.date(2022, 1, 1)),
        (Status.ACTIVE, datetime.date(2022, 6, 1)),
    ]:
        organization = services.organization_change_status(
            organization=organization,
            to_status=status,
            reason="r",
            effective_date=day,
            acting_user=user,
        )
    # A suspension does not restart membership.
    assert organization.member_since == datetime.date(2021, 3, 1)
    organization = services.organization_change_status(
        organization=organization,
        to_status=Status.WITHDRAWN,
        reason="Closed",
        effective_date=datetime.date(2023, 2, 1),
        acting_user=user,
    )
    assert organization.left_on == datetime.date(2023, 2, 1)
    assert [c.to_status for c in organization.membership_changes.all()] == [
        Status.PROSPECTIVE,
        Status.INVITED,
        Status.ACTIVE,
        Status.SUSPENDED,
        Status.ACTIVE,
        Status.WITHDRAWN,
    ]


def test_change_cannot_be_dated_before_the_last_one(user):
    organization = _org(Status.ACTIVE, user)
    with pytest.raises(ApplicationError) as exc:
        services.organization_change_status(
            organization=organization,
            to_status=Status.SUSPENDED,
            reason="r",
            effective_date=datetime.date(2019, 1, 1),
            acting_user=user,
        )
    assert exc.value.field == "effective_date"


def test_organization_name_is_unique_ignoring_case(user):
    services.organization_create(name="Safe Haven", kind="ngo", acting_user=user)
    with pytest.raises(ApplicationError, match="already exists") as exc:
        services.organization_create(name="  SAFE haven ", kind="ngo", acting_user=user)
    assert exc.value.field == "name"
    with pytest.raises(IntegrityError):
        Organization.objects.create(name="safe HAVEN", kind="ngo")


def test_status_cannot_be_set_through_update(user):
    organization = _org(Status.ACTIVE, user)
    with pytest.raises(ApplicationError):
        services.organization_update(
            organization=organization, status="withdrawn", acting_user=user
        )


def test_unknown_focus_area_is_refused(user):
    with pytest.raises(ApplicationError, match="Unknown focus areas: teleportation"):
        services.organization_create(
            name="X", kind="ngo", focus_areas=["prevention", "teleportation"], acting_user=user
        )


# --- Contacts -----------------------------------------------------------------------------


def test_email_is_normalised_and_unique_across_case(user):
    first = services.contact_create(
        given_name="Ana", family_name="Lopez", email="  Ana.Lopez@Example.ORG ", acting_user=user
    )
    assert first.email == "ana.lopez@example.org"
    with pytest.raises(ApplicationError) as exc:
        services.contact_create(
            given_name="Anna",
            family_name="Lopes",
            email="ANA.LOPEZ@example.org",
            acting_user=user,
        )
    assert "Ana Lopez" in exc.value.message
    assert exc.value.extra["existing_contact_id"] == first.pk
    assert Contact.objects.count() == 1
    # The database refuses it too, whatever the path.
    with pytest.raises(IntegrityError):
        Contact.objects.create(given_name="B", family_name="C", email="ana.LOPEZ@example.org")


def test_contacts_without_email_may_coexist(user):
    services.contact_create(given_name="A", family_name="B", acting_user=user)
    services.contact_create(given_name="C", family_name="D", acting_user=user)
    assert Contact.objects.filter(email="").count() == 2


def test_update_to_someone_elses_email_is_refused(user):
    ContactFactory(email="taken@example.org")
    contact = ContactFactory()
    with pytest.raises(ApplicationError, match="already belongs to"):
        services.contact_update(contact=contact, email="Taken@example.org", acting_user=user)


def test_invalid_phone_is_a_field_error(user):
    with pytest.raises(ApplicationError) as exc:
        services.contact_create(given_name="A", family_name="B", phone="12", acting_user=user)
    assert exc.value.field == "phone"


def test_opt_out_keeps_its_date(user):
    contact = ContactFactory()
    services.contact_set_mail_opt_out(contact=contact, opted_out=True, acting_user=user)
    first = contact.mail_opt_out_at
    assert first is not None
    services.contact_set_mail_opt_out(contact=contact, opted_out=True, acting_user=user)
    assert contact.mail_opt_out_at == first
    services.contact_set_mail_opt_out(contact=contact, opted_out=False, acting_user=user)
    assert contact.mail_opt_out_at is None
    assert contact.history.first().history_user == user


def test_near_identical_name_in_same_organisation_is_flagged():
    organization = OrganizationFactory()
    existing = AffiliationFactory(
        organization=organization,
        contact=ContactFactory(given_name="Zoë", family_name="Müller-Schmidt"),
    ).contact
    AffiliationFactory(contact=ContactFactory(given_name="Zoe", family_name="Muller-Schmidt"))
    found = contact_possible_duplicates(
        given_name="zoe", family_name="Muller Schmidt", organization_ids=[organization.pk]
    )
    assert found == [existing]
    assert not contact_possible_duplicates(
        given_name="Peter", family_name="Novak", organization_ids=[organization.pk]
    )


# --- Affiliations -------------------------------------------------------------------------


def test_one_current_focal_point_per_organisation(user):
    organization = OrganizationFactory()
    first = services.affiliation_create(
        contact=ContactFactory(), organization=organization, role="focal_point", acting_user=user
    )
    second_person = ContactFactory()
    with pytest.raises(ApplicationError) as exc:
        services.affiliation_create(
            contact=second_person,
            organization=organization,
            role="focal_point",
            acting_user=user,
        )
    assert first.contact.full_name in exc.value.message
    # Ending the first role frees the place for a successor.
    services.affiliation_end(affiliation=first, acting_user=user)
    successor = services.affiliation_create(
        contact=second_person, organization=organization, role="focal_point", acting_user=user
    )
    assert current_focal_point(organization) == successor


def test_focal_point_ending_in_the_future_still_counts(user):
    organization = OrganizationFactory()
    services.affiliation_create(
        contact=ContactFactory(),
        organization=organization,
        role="focal_point",
        end_date=timezone.localdate() + datetime.timedelta(days=30),
        acting_user=user,
    )
    with pytest.raises(ApplicationError):
        services.affiliation_create(
            contact=ContactFactory(),
            organization=organization,
            role="focal_point",
            acting_user=user,
        )


def test_database_backs_the_focal_point_rule():
    organization = OrganizationFactory()
    AffiliationFactory(organization=organization, role="focal_point")
    with pytest.raises(IntegrityError):
        Affiliation.objects.create(
            organization=organization, contact=ContactFactory(), role="focal_point"
        )


def test_contact_import_save_checks_the_focal_point_rule_again(user):
    """An import validates its rows against the directory it read first; a focal point named
    since then (by another coordinator) refuses the batch, which saves nothing."""
    organization = OrganizationFactory()
    incumbent = AffiliationFactory(organization=organization, role="focal_point")
    newcomer = Contact(given_name="Ada", family_name="First", email="ada.first@example.org")
    role = Affiliation(contact=newcomer, organization=organization, role="focal_point")

    with pytest.raises(ApplicationError) as exc:
        services.contact_import_save(
            created=[newcomer],
            updated=[],
            affiliations=[role],
            acting_user=user,
        )

    assert incumbent.contact.full_name in exc.value.message
    assert not Contact.objects.filter(email="ada.first@example.org").exists()
    assert current_focal_point(organization) == incumbent


def test_contact_import_save_refuses_two_new_focal_points_of_one_organisation(user):
    organization = OrganizationFactory()
    ada, bea = (
        Contact(given_name=name, family_name="Test", email=f"{name}@example.org")
        for name in ("ada", "bea")
    )

    with pytest.raises(ApplicationError):
        services.contact_import_save(
            created=[ada, bea],
            updated=[],
            affiliations=[
                Affiliation(contact=person, organization=organization, role="focal_point")
                for person in (ada, bea)
            ],
            acting_user=user,
        )

    assert not Contact.objects.filter(email__in=["ada@example.org", "bea@example.org"]).exists()


def test_end_before_start_is_refused(user):
    with pytest.raises(ApplicationError):
        services.affiliation_create(
            contact=ContactFactory(),
            organization=OrganizationFactory(),
            role="expert",
            start_date=datetime.date(2024, 1, 2),
            end_date=datetime.date(2024, 1, 1),
            acting_user=user,
        )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_focal_points_never_both_succeed():
    organization = OrganizationFactory()
    people = [ContactFactory(), ContactFactory(), ContactFactory(), ContactFactory()]
    barrier = threading.Barrier(len(people))
    outcomes = []

    def name(contact):
        try:
            barrier.wait()
            services.affiliation_create(
                contact=contact, organization=organization, role="focal_point", acting_user=None
            )
            outcomes.append("ok")
        except (ApplicationError, IntegrityError):
            outcomes.append("refused")
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=name, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert Affiliation.objects.filter(organization=organization, role="focal_point").count() == 1


# --- Merge --------------------------------------------------------------------------------


def test_merge_moves_everything_and_records_it(user):
    org_a, org_b = OrganizationFactory(), OrganizationFactory()
    target = ContactFactory(given_name="Maria", family_name="Ivanova", phone="", notes="Met 2024")
    source = ContactFactory(
        given_name="Mariya",
        family_name="Ivanova",
        phone="+43 1 5120000",
        notes="Speaker",
        mail_opt_out_at=timezone.now(),
    )
    AffiliationFactory(contact=target, organization=org_a, role="expert")
    AffiliationFactory(contact=source, organization=org_a, role="expert")  # same role: not doubled
    moved = AffiliationFactory(contact=source, organization=org_b, role="focal_point")
    source_pk, source_email = source.pk, source.email

    merged = services.contact_merge(source=source, target=target, acting_user=user)

    assert not Contact.objects.filter(pk=source_pk).exists()
    moved.refresh_from_db()
    assert moved.contact == merged
    assert merged.affiliations.count() == 2
    assert str(merged.phone) == "+43 1 5120000"
    assert "Speaker" in merged.notes
    assert "Met 2024" in merged.notes
    assert merged.has_opted_out  # the more protective choice wins
    record = ContactMerge.objects.get()
    assert (record.target, record.source_id_value, record.source_email) == (
        merged,
        source_pk,
        source_email,
    )
    assert record.merged_by == user
    assert record.moved["affiliations"] == 1
    assert Contact.history.filter(id=source_pk, history_type="-").get().history_user == user


def test_merge_into_itself_is_refused(user):
    contact = ContactFactory()
    with pytest.raises(ApplicationError):
        services.contact_merge(source=contact, target=contact, acting_user=user)


def test_every_change_is_recorded_with_its_author(user):
    organization = services.organization_create(name="Org", kind="ngo", acting_user=user)
    services.organization_update(organization=organization, acronym="ORG", acting_user=user)
    entries = list(organization.history.all())
    assert [e.history_type for e in entries] == ["~", "~", "+"]
    assert entries[0].acronym == "ORG"
    assert {e.history_user for e in entries} == {user}
    assert MembershipChange.objects.get().changed_by == user

import pytest
from django.urls import reverse

from members.models import Affiliation, Contact, ContactMerge, MembershipChange, Organization
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    organization = OrganizationFactory(name="Vienna Shelter Network", acronym="VSN")
    contact = ContactFactory(given_name="Lena", family_name="Hofer", email="lena@example.org")
    AffiliationFactory(contact=contact, organization=organization, role="focal_point")
    MembershipChange.objects.create(
        organization=organization, to_status="active", effective_date="2024-01-01"
    )
    return organization, contact


def _pages(organization, contact):
    return [
        reverse("admin:index"),
        reverse("admin:members_organization_changelist"),
        reverse("admin:members_organization_add"),
        reverse("admin:members_organization_change", args=[organization.pk]),
        reverse("admin:members_organization_history", args=[organization.pk]),
        reverse("admin:members_organization_import"),
        reverse("admin:members_organization_export"),
        reverse("admin:members_contact_changelist"),
        reverse("admin:members_contact_add"),
        reverse("admin:members_contact_change", args=[contact.pk]),
        reverse("admin:members_contact_history", args=[contact.pk]),
        reverse("admin:members_contact_import"),
        reverse("admin:members_contact_export"),
        reverse("admin:members_contactmerge_changelist"),
        reverse("admin:members_membershipchange_changelist"),
        reverse("admin:members_organization_changelist") + "?q=hofer",
        reverse("admin:members_organization_changelist") + "?status=active&kind=ngo",
        reverse("admin:members_contact_changelist") + "?q=VSN",
        reverse("admin:autocomplete")
        + "?term=hof&app_label=members&model_name=affiliation&field_name=contact",
    ]


def test_every_admin_page_answers_for_a_coordinator(coordinator_client, directory):
    for url in _pages(*directory):
        response = coordinator_client.get(url)
        assert response.status_code == 200, url


def test_admin_pages_refuse_anonymous_users(client, directory):
    for url in _pages(*directory):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("admin:login")), url


def test_search_finds_organisation_by_a_person_and_a_person_by_organisation(
    coordinator_client, directory
):
    response = coordinator_client.get(
        reverse("admin:members_organization_changelist"), {"q": "Hofer"}
    )
    assert "Vienna Shelter Network" in response.content.decode()
    response = coordinator_client.get(reverse("admin:members_contact_changelist"), {"q": "VSN"})
    assert "lena@example.org" in response.content.decode()


def test_organisation_list_query_count_does_not_grow_with_rows(
    coordinator_client, django_assert_max_num_queries
):
    def fill(n):
        for _ in range(n):
            AffiliationFactory(role="focal_point")

    fill(3)
    with django_assert_max_num_queries(14) as few:
        coordinator_client.get(reverse("admin:members_organization_changelist"))
    fill(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("admin:members_organization_changelist"))


def test_contact_list_query_count_does_not_grow_with_rows(
    coordinator_client, django_assert_max_num_queries
):
    for _ in range(3):
        AffiliationFactory()
    with django_assert_max_num_queries(14) as few:
        coordinator_client.get(reverse("admin:members_contact_changelist"))
    for _ in range(30):
        AffiliationFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        coordinator_client.get(reverse("admin:members_contact_changelist"))


def test_status_change_action_asks_then_applies_through_the_service(
    coordinator_client, coordinator, directory
):
    organization, _ = directory
    url = reverse("admin:members_organization_changelist")
    ask = coordinator_client.post(
        url, {"action": "change_status", "_selected_action": [organization.pk]}
    )
    assert ask.status_code == 200
    assert "Change membership status" in ask.content.decode()
    # Suspending without a reason is refused, with the reason shown.
    refused = coordinator_client.post(
        url,
        {
            "action": "change_status",
            "_selected_action": [organization.pk],
            "apply": "1",
            "to_status": "suspended",
            "effective_date": "2025-01-01",
            "reason": "",
        },
        follow=True,
    )
    assert "Please give a reason" in refused.content.decode()
    organization.refresh_from_db()
    assert organization.status == "active"
    coordinator_client.post(
        url,
        {
            "action": "change_status",
            "_selected_action": [organization.pk],
            "apply": "1",
            "to_status": "suspended",
            "effective_date": "2025-01-01",
            "reason": "Did not renew",
        },
    )
    organization.refresh_from_db()
    assert organization.status == "suspended"
    change = organization.membership_changes.last()
    assert (change.changed_by, change.reason) == (coordinator, "Did not renew")


def test_adding_a_contact_with_a_known_email_names_the_owner(coordinator_client, directory):
    response = coordinator_client.post(
        reverse("admin:members_contact_add"),
        {
            "given_name": "L.",
            "family_name": "Hofer",
            "email": "LENA@example.org",
            "preferred_language": "en",
            "time_zone": "Europe/Vienna",
            "affiliations-TOTAL_FORMS": "0",
            "affiliations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "already belongs to Lena Hofer" in response.content.decode()
    assert Contact.objects.count() == 1


def test_adding_a_contact_records_the_coordinator_and_flags_lookalikes(
    coordinator_client, coordinator, directory
):
    organization, _ = directory
    response = coordinator_client.post(
        reverse("admin:members_contact_add"),
        {
            "given_name": "Léna",
            "family_name": "Hofer",
            "email": "l.hofer@example.org",
            "preferred_language": "ru",
            "time_zone": "Asia/Almaty",
            "opted_out": "on",
            "affiliations-TOTAL_FORMS": "1",
            "affiliations-INITIAL_FORMS": "0",
            "affiliations-0-organization": organization.pk,
            "affiliations-0-role": "expert",
        },
        follow=True,
    )
    assert response.status_code == 200
    contact = Contact.objects.get(email="l.hofer@example.org")
    assert contact.has_opted_out
    assert contact.history.last().history_user == coordinator
    assert contact.affiliations.get().organization == organization
    assert "may be the same person as" in response.content.decode()


def test_second_focal_point_in_the_inline_is_a_form_error(coordinator_client, directory):
    organization, contact = directory
    other = ContactFactory()
    affiliation = contact.affiliations.get()
    data = {
        "name": organization.name,
        "acronym": organization.acronym,
        "kind": organization.kind,
        "affiliations-TOTAL_FORMS": "2",
        "affiliations-INITIAL_FORMS": "1",
        "affiliations-0-id": affiliation.pk,
        "affiliations-0-organization": organization.pk,
        "affiliations-0-contact": contact.pk,
        "affiliations-0-role": "focal_point",
        "affiliations-1-organization": organization.pk,
        "affiliations-1-contact": other.pk,
        "affiliations-1-role": "focal_point",
        "membership_changes-TOTAL_FORMS": "1",
        "membership_changes-INITIAL_FORMS": "1",
        "membership_changes-0-id": organization.membership_changes.get().pk,
        "membership_changes-0-organization": organization.pk,
    }
    response = coordinator_client.post(
        reverse("admin:members_organization_change", args=[organization.pk]), data
    )
    assert response.status_code == 200
    assert "Only one current focal point" in response.content.decode()
    assert Affiliation.objects.filter(role="focal_point").count() == 1


def test_adding_an_organisation_records_its_first_status(coordinator_client, coordinator):
    response = coordinator_client.post(
        reverse("admin:members_organization_add"),
        {
            "name": "New Partner",
            "kind": "academia",
            "status": "invited",
            "affiliations-TOTAL_FORMS": "0",
            "affiliations-INITIAL_FORMS": "0",
            "membership_changes-TOTAL_FORMS": "0",
            "membership_changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(name="New Partner")
    assert organization.status == "invited"
    assert organization.membership_changes.get().changed_by == coordinator


def test_merge_action_merges_the_chosen_pair(coordinator_client, coordinator):
    keep, drop = ContactFactory(), ContactFactory()
    url = reverse("admin:members_contact_changelist")
    ask = coordinator_client.post(
        url, {"action": "merge_contacts", "_selected_action": [keep.pk, drop.pk]}
    )
    assert "Choose the contact to keep" in ask.content.decode()
    coordinator_client.post(
        url,
        {
            "action": "merge_contacts",
            "_selected_action": [keep.pk, drop.pk],
            "apply": "1",
            "keep": keep.pk,
        },
    )
    assert list(Contact.objects.all()) == [keep]
    assert ContactMerge.objects.get().merged_by == coordinator


def test_merge_action_needs_exactly_two(coordinator_client):
    people = [ContactFactory() for _ in range(3)]
    response = coordinator_client.post(
        reverse("admin:members_contact_changelist"),
        {"action": "merge_contacts", "_selected_action": [p.pk for p in people]},
        follow=True,
    )
    assert "Select exactly two contacts" in response.content.decode()
    assert Contact.objects.count() == 3

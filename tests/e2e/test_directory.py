"""A coordinator works with the directory in a real browser."""

import pytest

from members.models import Organization
from tests.e2e.conftest import ARTIFACTS
from tests.factories import AffiliationFactory, ContactFactory, OrganizationFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def coordinator_login(db):
    UserFactory(username="maria", is_staff=True, is_superuser=True)
    return "maria", "correct horse battery"


def _log_in(page, live_server, username, password):
    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_coordinator_finds_a_person_and_suspends_their_organisation(
    browser_page, live_server, coordinator_login
):
    organization = OrganizationFactory(name="Danube Safe Passage", acronym="DSP")
    AffiliationFactory(
        organization=organization,
        role="focal_point",
        contact=ContactFactory(given_name="Irina", family_name="Volkova"),
    )
    from members.models import MembershipChange

    MembershipChange.objects.create(
        organization=organization, to_status="active", effective_date="2023-01-01"
    )
    page = browser_page
    _log_in(page, live_server, *coordinator_login)

    # Find the organisation by the name of the person who works there.
    page.goto(f"{live_server.url}/admin/members/organization/")
    page.fill("input[name=q]", "Volkova")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Danube Safe Passage")
    assert page.locator("#result_list tbody tr").count() == 1
    page.screenshot(path=str(ARTIFACTS / "directory-search.png"), full_page=True)

    # Suspend it with a reason, through the action.
    page.check("input[name=_selected_action]")
    page.select_option("select[name=action]", "change_status")
    page.click("button[name=index], button[type=submit][title]")
    page.wait_for_selector("text=Organisations whose status will change")
    page.select_option("select[name=to_status]", "suspended")
    page.fill("textarea[name=reason]", "Did not renew membership")
    page.screenshot(path=str(ARTIFACTS / "directory-status-form.png"), full_page=True)
    page.click("text=Change status")
    page.wait_for_selector("text=Status changed for 1 organisation")
    page.screenshot(path=str(ARTIFACTS / "directory-status-done.png"), full_page=True)

    organization = Organization.objects.get(pk=organization.pk)
    assert organization.status == "suspended"
    assert organization.membership_changes.last().reason == "Did not renew membership"

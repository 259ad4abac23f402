"""A bounced address opens a follow-up for the coordinator in charge of the organisation."""

import pytest
from django.conf import settings
from django.utils import timezone

from crm.mail import services as mail_services
from meetings.followups import followup_for_address_hold
from meetings.models import FollowUp
from tests.factories import AffiliationFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_hook_is_wired_in_settings():
    assert settings.MAIL_ON_HOLD_HOOK == "meetings.followups.followup_for_address_hold"


def test_a_hold_opens_a_follow_up_for_the_coordinator_in_charge(coordinator):
    in_charge = UserFactory(is_staff=True)
    org = OrganizationFactory(coordinator=in_charge)
    affiliation = AffiliationFactory(organization=org, contact__email="gone@example.org")
    _event, hold = mail_services.delivery_event_record(
        esp="mailgun",
        event_id="evt-1",
        event_type="bounced",
        recipient="gone@example.org",
        description="550 5.1.1 No such user",
        mta_response="550 5.1.1 No such user",
    )
    assert hold is not None
    followup = FollowUp.objects.get()
    assert followup.source == FollowUp.Source.BOUNCE
    assert followup.organization == org
    assert followup.owner_user == in_charge
    assert affiliation.contact.full_name in followup.title
    assert followup.due_date is not None


def test_a_hold_for_an_unknown_address_still_opens_one():
    from crm.mail.models import AddressHold

    hold = AddressHold.objects.create(
        email="nobody@example.org", reason="complaint", held_since=timezone.now()
    )
    followup = followup_for_address_hold(hold)
    assert followup.organization is None
    assert "nobody@example.org" in followup.title

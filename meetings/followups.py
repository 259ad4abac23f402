"""Follow-ups opened by other parts of the CRM."""

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from api.webhooks.services import webhook_emit
from crm.mail.models import AddressHold
from meetings.models import FollowUp
from meetings.services.common import save
from members.models import Affiliation, Contact


def followup_for_address_hold(hold: AddressHold) -> FollowUp:
    """settings.MAIL_ON_HOLD_HOOK: an address was put on hold after bounces or a complaint;
    the coordinator in charge of the person's organisation is asked to find a working one."""
    contact = hold.contact or Contact.objects.filter(email__iexact=hold.email).first()
    affiliation = (
        Affiliation.objects.current()
        .filter(contact=contact)
        .select_related("organization__coordinator")
        .order_by("role", "id")
        .first()
        if contact is not None
        else None
    )
    organization = affiliation.organization if affiliation else None
    who = contact.full_name if contact else hold.email
    followup = FollowUp(
        title=_("Mail to %(who)s <%(email)s> is on hold: find a working address")
        % {"who": who, "email": hold.email},
        source=FollowUp.Source.BOUNCE,
        organization=organization,
        owner_user=organization.coordinator if organization else None,
        due_date=timezone.localdate() + datetime.timedelta(days=7),
        notes=f"{hold.get_reason_display()}: {hold.detail}".strip(": "),
    )
    save(followup, None, reason="Address put on hold")
    webhook_emit("follow_up.created", followup)
    return followup

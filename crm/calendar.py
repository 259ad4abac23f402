"""Calendar files (RFC 5545) for invitations, answers, updates and cancellations.

One calendar entry per (gathering, person): its UID never changes, and ``SEQUENCE`` grows with
each change of time or place, so a calendar replaces the entry it already has instead of adding
a second one. ``METHOD:REQUEST`` puts or updates the entry; ``METHOD:CANCEL`` removes it (a
decline, or a cancelled gathering).
"""

import datetime

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from crm.mail.rendering import organizer_name

REQUEST = "REQUEST"
CANCEL = "CANCEL"

PARTSTAT = {
    "pending": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "replaced": "DELEGATED",
}


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(">") or "localhost"


def uid_for(gathering_id: int, contact_id: int) -> str:
    return f"gathering-{gathering_id}-contact-{contact_id}@{_domain()}"


def invitation_ics(invitation, *, method: str | None = None) -> str:
    """The calendar file for one invitation: REQUEST while the person is (or may be) coming,
    CANCEL once they declined or the gathering was cancelled."""
    gathering = invitation.gathering
    cancelled = gathering.status == gathering.Status.CANCELLED
    if method is None:
        method = CANCEL if cancelled or invitation.status in ("declined", "replaced") else REQUEST

    cal = Calendar()
    cal.add("prodid", "-//OSCE Alliance against Trafficking in Persons//Alliance CRM//EN")
    cal.add("version", "2.0")
    cal.add("method", method)

    event = Event()
    event.add("uid", uid_for(gathering.pk, invitation.contact_id))
    event.add("sequence", gathering.sequence)
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    event.add("dtstart", gathering.starts_at.astimezone(gathering.tz))
    event.add("dtend", gathering.ends_at.astimezone(gathering.tz))
    event.add("summary", gathering.title)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    place = ", ".join(p for p in (gathering.venue, gathering.address.replace("\n", ", ")) if p)
    online = invitation.status == "accepted" and invitation.mode == "online"
    if online and gathering.online_link:
        place = gathering.online_link
        event.add("url", gathering.online_link)
    if place:
        event["location"] = vText(place)
    description = [gathering.description.strip()] if gathering.description.strip() else []
    description.append(invitation.rsvp_url)
    event.add("description", "\n\n".join(description))

    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL.split('<')[-1].strip('>')}")
    organizer.params["cn"] = vText(str(organizer_name()))
    event["organizer"] = organizer
    attendee = vCalAddress(f"mailto:{invitation.contact.email}")
    attendee.params["cn"] = vText(invitation.contact.full_name)
    attendee.params["partstat"] = vText(PARTSTAT.get(invitation.status, "NEEDS-ACTION"))
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee, encode=0)
    cal.add_component(event)
    return cal.to_ical().decode()


def ics_attachment(invitation, *, method: str | None = None) -> dict:
    content = invitation_ics(invitation, method=method)
    method_line = next(line for line in content.splitlines() if line.startswith("METHOD:"))
    return {
        "filename": "invite.ics",
        "mimetype": f"text/calendar; method={method_line.split(':', 1)[1]}; charset=utf-8",
        "content": content,
    }

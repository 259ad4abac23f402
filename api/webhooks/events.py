"""The catalogue of webhook event types: what a subscription may ask for, and which kind of
object each event carries (its ``object.type`` and the API resource its URL points to)."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ObjectKind:
    type: str  # the ``object.type`` of the payload
    resource: str  # the collection under /api/v1/


CONTACT = ObjectKind("contact", "contacts")
ORGANIZATION = ObjectKind("organization", "organizations")
INVITATION = ObjectKind("invitation", "invitations")
CONSULTATION = ObjectKind("consultation", "consultations")
FOLLOW_UP = ObjectKind("follow_up", "follow-ups")

# event type → (object kind, description); the order is the order shown to people.
CATALOGUE: dict[str, tuple[ObjectKind, str]] = {
    "contact.created": (CONTACT, _("A contact was created.")),
    "contact.updated": (CONTACT, _("A contact was changed (including merges into it).")),
    "contact.erased": (CONTACT, _("A contact's personal data was erased.")),
    "organization.created": (ORGANIZATION, _("An organisation was created.")),
    "organization.updated": (ORGANIZATION, _("An organisation was changed.")),
    "organization.status_changed": (
        ORGANIZATION,
        _("An organisation's membership status changed."),
    ),
    "invitation.answered": (INVITATION, _("An invitee answered (or changed the answer).")),
    "invitation.attendance_recorded": (
        INVITATION,
        _("Attendance (or a check-in) was recorded for an invitation."),
    ),
    "event.waitlist_promoted": (
        INVITATION,
        _("An invitation moved from an event's waiting list to a place (or an offer)."),
    ),
    "consultation.created": (CONSULTATION, _("A consultation was recorded.")),
    "follow_up.created": (FOLLOW_UP, _("A follow-up was opened.")),
    "follow_up.updated": (FOLLOW_UP, _("A follow-up was changed, cancelled or reopened.")),
    "follow_up.done": (FOLLOW_UP, _("A follow-up was completed.")),
}

EVENT_TYPES: tuple[str, ...] = tuple(CATALOGUE)
EVENT_TYPE_CHOICES = [(name, name) for name in EVENT_TYPES]


def object_kind(event_type: str) -> ObjectKind:
    try:
        return CATALOGUE[event_type][0]
    except KeyError:
        raise ValueError(f"Unknown webhook event type {event_type!r}") from None


def api_path_for(event_type: str, pk: int) -> str:
    """The API path of the object an event is about, e.g. ``/api/v1/contacts/12/``."""
    return f"/api/v1/{object_kind(event_type).resource}/{pk}/"

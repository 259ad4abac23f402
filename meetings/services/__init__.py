"""Writes for gatherings and invitations. Import from the submodules; the names below are the
public surface used by the back office, the RSVP page, the API and the events app."""

from meetings.services.capacity import (
    invitation_admit_over_capacity,
    offers_expire,
    places_free,
    waitlist_fill,
)
from meetings.services.consultations import (
    consultation_create,
    consultation_update,
    followup_cancel,
    followup_complete,
    followup_create,
    followup_reopen,
)
from meetings.services.gatherings import (
    gathering_cancel,
    gathering_close,
    gathering_mark_held,
    gathering_open,
    gathering_update,
    meeting_create,
    reminder_rules_create_defaults,
)
from meetings.services.invitations import (
    InviteePreview,
    invitation_add_colleague,
    invitation_reissue_token,
    invitation_respond,
    invitation_send_link,
    invitation_substitute,
    invitations_create,
    invitations_record_attendance,
    invitations_remind,
    invitations_send,
    invitees_preview,
)

__all__ = [
    "InviteePreview",
    "consultation_create",
    "consultation_update",
    "followup_cancel",
    "followup_complete",
    "followup_create",
    "followup_reopen",
    "gathering_cancel",
    "gathering_close",
    "gathering_mark_held",
    "gathering_open",
    "gathering_update",
    "invitation_add_colleague",
    "invitation_admit_over_capacity",
    "invitation_reissue_token",
    "invitation_respond",
    "invitation_send_link",
    "invitation_substitute",
    "invitations_create",
    "invitations_record_attendance",
    "invitations_remind",
    "invitations_send",
    "invitees_preview",
    "meeting_create",
    "offers_expire",
    "places_free",
    "reminder_rules_create_defaults",
    "waitlist_fill",
]

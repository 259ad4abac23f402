"""Back office for AECT meetings: the meetings with their agenda, documents, reminder rules
and action items, the response board, the "Invite…" page, and the invitations. What every
gathering's back office has is ``gatherings.GatheringAdmin``; events (``events.admin``) build
on it too."""

from meetings.admin.consultations import ConsultationAdmin
from meetings.admin.followups import FollowUpAdmin
from meetings.admin.invitations import InvitationAdmin
from meetings.admin.meetings import MeetingAdmin

__all__ = ["ConsultationAdmin", "FollowUpAdmin", "InvitationAdmin", "MeetingAdmin"]

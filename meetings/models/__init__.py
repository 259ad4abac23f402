"""Gatherings (AECT meetings here, conference and other events in ``events``), the invitations
and answers of the RSVP engine both share, reminder rules, and follow-ups."""

from meetings.models.consultations import Consultation, ConsultationAttachment
from meetings.models.followups import FollowUp
from meetings.models.gatherings import AgendaItem, Gathering, GatheringDocument, Meeting
from meetings.models.invitations import Invitation, PlusOne
from meetings.models.rules import ReminderRule
from meetings.models.succession import FocalPointSuccession

__all__ = [
    "AgendaItem",
    "Consultation",
    "ConsultationAttachment",
    "FocalPointSuccession",
    "FollowUp",
    "Gathering",
    "GatheringDocument",
    "Invitation",
    "Meeting",
    "PlusOne",
    "ReminderRule",
]

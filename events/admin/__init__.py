"""Back office for events (the Alliance conference, expert events, workshops, webinars). It is
the meetings back office (``meetings.admin.gatherings.GatheringAdmin``) with what only events
have: programme sessions, guests from outside the directory, the waiting list and capacity
override on the board, the balance of who is coming, badges in the export, and check-in."""

from events.admin.events import EventAdmin

__all__ = ["EventAdmin"]

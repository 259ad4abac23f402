"""The programme of an event, edited inline on its change form (times in the event's zone)."""

from unfold.admin import TabularInline

from events.models import EventSession


class EventSessionInline(TabularInline):
    model = EventSession
    extra = 0
    fields = ("starts_at", "ends_at", "title", "room", "speakers")
    ordering = ["starts_at", "id"]
    tab = True

"""AECT meetings in the back office: the list, the change form with its inlines, and the
buttons that move a meeting through its life cycle. What meetings share with events (board,
invite, export, status changes) is ``GatheringAdmin``'s."""

from django.contrib import admin
from django.utils.translation import gettext_lazy, ngettext_lazy
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from meetings import services
from meetings.admin.forms import MeetingAdminForm
from meetings.admin.gatherings import GatheringAdmin
from meetings.admin.inlines import (
    ActionItemInline,
    AgendaItemInline,
    DocumentInline,
    ReminderRuleInline,
    YearFilter,
)
from meetings.models import FollowUp, Meeting


@admin.register(Meeting)
class MeetingAdmin(GatheringAdmin):
    form = MeetingAdminForm
    texts = {
        "edit": gettext_lazy("Edit the meeting"),
        "back": gettext_lazy("Back to the meeting"),
        "remind_closed": gettext_lazy(
            "Reminders can be sent only while the meeting takes answers."
        ),
        "attendance_later": gettext_lazy(
            "Attendance can be recorded once the meeting has started."
        ),
        "invite_later": gettext_lazy("Invite (sent when the meeting opens)"),
        "invited_later": ngettext_lazy(
            "%(n)d person invited; the invitation will be sent when you open the meeting.",
            "%(n)d people invited; the invitations will be sent when you open the meeting.",
            "n",
        ),
        "opened": gettext_lazy("The meeting is open; the invitations are on their way."),
        "held": gettext_lazy("The meeting is marked as held."),
        "cancel": gettext_lazy("Cancel the meeting"),
        "cancelled": gettext_lazy("The meeting is cancelled."),
    }
    list_display = (
        "title",
        "display_label",
        "display_start",
        "format",
        "display_status",
        "display_answers",
        "display_board",
    )
    list_filter = (("status", ChoicesDropdownFilter), ("format", ChoicesDropdownFilter), YearFilter)
    search_fields = ("title", "series", "venue", "description")
    search_help_text = gettext_lazy("Title, series, venue or description.")
    fieldsets = (
        (None, {"fields": ("title", ("series", "number"), "status")}),
        (
            gettext_lazy("When"),
            {
                "fields": ("time_zone", "starts_at", "ends_at", "rsvp_deadline"),
                "description": gettext_lazy("Times are in the meeting's time zone."),
            },
        ),
        (gettext_lazy("Where"), {"fields": ("format", "venue", "address", "online_link")}),
        (
            gettext_lazy("Invitations"),
            {"fields": ("seats_per_org", "capacity", "description", "invitation_message")},
        ),
        (gettext_lazy("Minutes"), {"fields": ("minutes",)}),
        (
            gettext_lazy("Record"),
            {
                "fields": ("sequence", "created_by", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )
    inlines = [AgendaItemInline, DocumentInline, ReminderRuleInline, ActionItemInline]
    actions_detail = [
        "board",
        "invite",
        {
            "title": gettext_lazy("Status"),
            "items": ["open_meeting", "close_answers", "mark_held", "cancel_meeting"],
        },
    ]

    def subtitle(self, gathering):
        return gathering.label

    def create(self, request, fields):
        return services.meeting_create(acting_user=request.user, **fields)

    # --- List columns ---------------------------------------------------------------------

    @display(description=gettext_lazy("series"), ordering="number")
    def display_label(self, obj):
        return obj.label

    # --- Saving: action items are the meeting's follow-ups ---------------------------------

    def save_formset(self, request, form, formset, change):
        if formset.model is not FollowUp:
            return super().save_formset(request, form, formset, change)
        for item in formset.save(commit=False):
            item.source = FollowUp.Source.MEETING
            item.save()
        for item in formset.deleted_objects:
            item.delete()
        formset.save_m2m()
        return None

    # --- Life cycle (the shared steps, under the meeting's own names) ----------------------

    @action(
        description=gettext_lazy("Open and send invitations"),
        url_path="open",
        permissions=["change"],
    )
    def open_meeting(self, request, object_id):
        return self.open_gathering(request, object_id)

    @action(
        description=gettext_lazy("Cancel the meeting…"),
        url_path="cancel",
        permissions=["change"],
    )
    def cancel_meeting(self, request, object_id):
        return self.cancel_gathering(request, object_id)

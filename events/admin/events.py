"""Events in the back office: the list, the change form with the programme, documents and
reminder rules, and the pages only events have. Everything events share with AECT meetings
(saving through the services, board, invite, reminders, attendance, export, status buttons)
is ``GatheringAdmin``'s."""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy, ngettext_lazy
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from events import services as event_services
from events.admin import views
from events.admin.forms import EventAdminForm, EventInviteForm
from events.admin.inlines import EventSessionInline
from events.models import Event
from events.selectors import participants
from meetings.admin.exports import (
    BADGE_COLUMNS,
    participants_response,
    shared_participants_response,
)
from meetings.admin.gatherings import GatheringAdmin
from meetings.admin.inlines import DocumentInline, ReminderRuleInline, YearFilter
from meetings.admin.views import admin_url
from meetings.models import Invitation

Status = Invitation.Status

# The places an event's row holds, as ``meetings.services.capacity.places_taken`` counts
# them: accepted people and running offers, with their plus-ones; at a hybrid event only
# those in the room. Annotated on the list so that it costs no query per row.
_HOLDING = Q(invitations__status=Status.ACCEPTED) | Q(
    invitations__status=Status.WAITING, invitations__offer_expires_at__isnull=False
)
_IN_ROOM = ~Q(format=Event.Format.HYBRID) | Q(invitations__mode__in=[Invitation.Mode.IN_PERSON, ""])


@admin.register(Event)
class EventAdmin(GatheringAdmin):
    form = EventAdminForm
    board_template = "events/admin/board.html"
    invite_form_class = EventInviteForm
    texts = {
        "edit": gettext_lazy("Edit the event"),
        "back": gettext_lazy("Back to the event"),
        "remind_closed": gettext_lazy("Reminders can be sent only while the event takes answers."),
        "attendance_later": gettext_lazy("Attendance can be recorded once the event has started."),
        "invite_later": gettext_lazy("Invite (sent when the event opens)"),
        "invited_later": ngettext_lazy(
            "%(n)d person invited; the invitation will be sent when you open the event.",
            "%(n)d people invited; the invitations will be sent when you open the event.",
            "n",
        ),
        "opened": gettext_lazy("The event is open; the invitations are on their way."),
        "held": gettext_lazy("The event is marked as held."),
        "cancel": gettext_lazy("Cancel the event"),
        "cancelled": gettext_lazy("The event is cancelled."),
    }
    list_display = (
        "title",
        "kind",
        "display_dates",
        "display_status",
        "capacity",
        "display_places",
        "display_waiting",
        "display_board",
    )
    list_filter = (
        ("kind", ChoicesDropdownFilter),
        ("status", ChoicesDropdownFilter),
        ("format", ChoicesDropdownFilter),
        YearFilter,
    )
    search_fields = ("title", "venue", "description")
    search_help_text = gettext_lazy("Title, venue or description.")
    fieldsets = (
        (None, {"fields": ("title", "kind", "status")}),
        (
            gettext_lazy("When"),
            {
                "fields": ("time_zone", "starts_at", "ends_at", "rsvp_deadline"),
                "description": gettext_lazy(
                    "Times, also those of the programme, are in the event's time zone."
                ),
            },
        ),
        (gettext_lazy("Where"), {"fields": ("format", "venue", "address", "online_link")}),
        (
            gettext_lazy("Places"),
            {
                "fields": (
                    "capacity",
                    "waiting_list",
                    "offer_hours",
                    "per_org_cap",
                    "max_plus_ones",
                    "substitutes_allowed",
                ),
                "description": gettext_lazy(
                    "A new event with a capacity keeps a waiting list. Raising the capacity "
                    "offers the new places to the waiting list."
                ),
            },
        ),
        (gettext_lazy("Invitations"), {"fields": ("description", "invitation_message")}),
        (gettext_lazy("Minutes"), {"fields": ("minutes",)}),
        (
            gettext_lazy("Record"),
            {
                "fields": ("sequence", "created_by", "created_at", "updated_at"),
                "classes": ("collapse",),
            },
        ),
    )
    inlines = [EventSessionInline, DocumentInline, ReminderRuleInline]
    actions_detail = [
        "board",
        "invite",
        "guests",
        "check_in",
        {
            "title": gettext_lazy("Status"),
            "items": ["open_event", "close_answers", "mark_held", "cancel_event"],
        },
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        # A new event: whether it keeps a waiting list follows from its capacity
        # (event_create); it can be switched afterwards.
        return [
            (
                name,
                {**options, "fields": tuple(f for f in options["fields"] if f != "waiting_list")},
            )
            for name, options in self.fieldsets
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_waiting=Count(
                    "invitations", filter=Q(invitations__status=Status.WAITING), distinct=True
                ),
                n_people_held=Count("invitations", filter=_HOLDING & _IN_ROOM, distinct=True),
                n_guests_held=Count(
                    "invitations__plus_ones", filter=_HOLDING & _IN_ROOM, distinct=True
                ),
            )
        )

    # --- What differs from meetings --------------------------------------------------------

    def create(self, request, fields):
        return event_services.event_create(acting_user=request.user, **fields)

    def subtitle(self, gathering):
        return gathering.get_kind_display()

    def board_context(self, request, gathering):
        return views.board_context(request, gathering)

    def page_links(self, request, gathering):
        return [
            {"label": gettext_lazy("Guests…"), "url": admin_url(gathering, "guests")},
            {"label": gettext_lazy("Check-in"), "url": admin_url(gathering, "check_in")},
        ]

    def participants_response(self, gathering, fmt):
        return participants_response(
            gathering,
            fmt,
            columns=BADGE_COLUMNS,
            invitations=participants(gathering),
            with_guests=True,
        )

    def shared_participants_response(self, gathering, fmt):
        return shared_participants_response(gathering, fmt, invitations=participants(gathering))

    # --- List columns ----------------------------------------------------------------------

    @display(description=gettext_lazy("dates"), ordering="starts_at")
    def display_dates(self, obj):
        start = timezone.localtime(obj.starts_at, obj.tz)
        end = timezone.localtime(obj.ends_at, obj.tz)
        if start.date() == end.date():
            until = date_format(end, "TIME_FORMAT")
        else:
            until = date_format(end, "SHORT_DATETIME_FORMAT")
        return f"{date_format(start, 'SHORT_DATETIME_FORMAT')} \u2013 {until} {start.tzname()}"

    @display(description=gettext_lazy("accepted / places left"))
    def display_places(self, obj):
        if obj.capacity is None:
            return f"{obj.n_accepted} / —"
        left = max(obj.capacity - obj.n_people_held - obj.n_guests_held, 0)
        return f"{obj.n_accepted} / {left}"

    @display(description=gettext_lazy("waiting"), ordering="n_waiting")
    def display_waiting(self, obj):
        return obj.n_waiting

    # --- The event's own pages -------------------------------------------------------------

    def own_urls(self):
        wrap = self.admin_site.admin_view
        return [
            *super().own_urls(),
            path(
                "<path:object_id>/board/admit/",
                wrap(lambda r, object_id: views.admit_view(self, r, object_id)),
                name="events_event_admit",
            ),
            path(
                "<path:object_id>/board/offer/",
                wrap(lambda r, object_id: views.offer_view(self, r, object_id)),
                name="events_event_offer",
            ),
            path(
                "<path:object_id>/check-in/<int:invitation_id>/",
                wrap(
                    lambda r, object_id, invitation_id: views.check_in_mark_view(
                        self, r, object_id, invitation_id
                    )
                ),
                name="events_event_check_in_mark",
            ),
        ]

    @action(
        description=gettext_lazy("Guests…"),
        url_path="guests",
        icon="person_add",
        permissions=["invite"],
    )
    def guests(self, request, object_id):
        return views.guests_view(self, request, object_id)

    @action(
        description=gettext_lazy("Check-in"),
        url_path="check-in",
        icon="how_to_reg",
        permissions=["board"],
    )
    def check_in(self, request, object_id):
        return views.check_in_view(self, request, object_id)

    # --- Life cycle (the shared steps, under the event's own names) ------------------------

    @action(
        description=gettext_lazy("Open and send invitations"),
        url_path="open",
        permissions=["change"],
    )
    def open_event(self, request, object_id):
        return self.open_gathering(request, object_id)

    @action(
        description=gettext_lazy("Cancel the event…"),
        url_path="cancel",
        permissions=["change"],
    )
    def cancel_event(self, request, object_id):
        return self.cancel_gathering(request, object_id)

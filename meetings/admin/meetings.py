"""AECT meetings in the back office: the list, the change form with its inlines, and the
buttons that move a meeting through its life cycle (each calls a service)."""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import ChoicesDropdownFilter
from unfold.decorators import action, display

from crm.exceptions import ApplicationError
from meetings import services
from meetings.admin import views
from meetings.admin.forms import CancelForm, MeetingAdminForm
from meetings.admin.inlines import (
    ActionItemInline,
    AgendaItemInline,
    DocumentInline,
    ReminderRuleInline,
    YearFilter,
)
from meetings.models import FollowUp, Invitation, Meeting
from meetings.services.gatherings import SCHEDULE_FIELDS

Status = Meeting.Status
CHANGE_MEETING = "meetings.change_meeting"

STATUS_COLOURS = {
    Status.DRAFT: "info",
    Status.OPEN: "success",
    Status.CLOSED: "warning",
    Status.HELD: "",
    Status.CANCELLED: "danger",
}


@admin.register(Meeting)
class MeetingAdmin(SimpleHistoryAdmin, ModelAdmin):
    form = MeetingAdminForm
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
    list_per_page = 50
    readonly_fields = ("status", "sequence", "created_by", "created_at", "updated_at")
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
    history_list_display = ["status"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_invited=Count("invitations", distinct=True),
                n_accepted=Count(
                    "invitations",
                    filter=Q(invitations__status=Invitation.Status.ACCEPTED),
                    distinct=True,
                ),
            )
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status in (Status.HELD, Status.CANCELLED):
            return (*self.readonly_fields, *SCHEDULE_FIELDS)
        return self.readonly_fields

    # --- List columns ---------------------------------------------------------------------

    @display(description=gettext_lazy("series"), ordering="number")
    def display_label(self, obj):
        return obj.label

    @display(description=gettext_lazy("starts"), ordering="starts_at")
    def display_start(self, obj):
        local = timezone.localtime(obj.starts_at, obj.tz)
        return f"{date_format(local, 'SHORT_DATETIME_FORMAT')} {local.tzname()}"

    @display(description=gettext_lazy("status"), ordering="status", label=STATUS_COLOURS)
    def display_status(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=gettext_lazy("accepted / invited"))
    def display_answers(self, obj):
        return f"{obj.n_accepted} / {obj.n_invited}"

    @display(description=gettext_lazy("responses"))
    def display_board(self, obj):
        return format_html('<a href="{}">{}</a>', views.board_url(obj), _("Board"))

    # --- Saving through the services -------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """Show and read the times in the meeting's own time zone; a service's refusal
        becomes a message (the transaction is rolled back, nothing is half-saved)."""
        zone = timezone.get_current_timezone()
        if object_id and str(object_id).isdigit():
            meeting = Meeting.objects.filter(pk=object_id).only("time_zone").first()
            zone = meeting.tz if meeting else zone
        try:
            with timezone.override(zone):
                response = super().changeform_view(request, object_id, form_url, extra_context)
                if hasattr(response, "render"):
                    response.render()
        except ApplicationError as exc:
            messages.error(request, str(exc))
            return HttpResponseRedirect(request.get_full_path())
        return response

    def save_model(self, request, obj, form, change):
        fields = {name: value for name, value in form.cleaned_data.items() if name != "id"}
        if not change:
            created = services.meeting_create(acting_user=request.user, **fields)
            obj.__dict__.update(created.__dict__)
            return
        fresh = Meeting.objects.get(pk=obj.pk)
        sequence = fresh.sequence
        # Only what changed: an unchanged time read in another time zone is the same moment.
        changed = {name: value for name, value in fields.items() if getattr(fresh, name) != value}
        services.gathering_update(gathering=fresh, acting_user=request.user, **changed)
        obj.__dict__.update(fresh.__dict__)
        if fresh.sequence > sequence:
            told = (
                fresh.invitations.filter(status=Invitation.Status.ACCEPTED)
                .exclude(contact__email="")
                .count()
            )
            messages.info(
                request,
                ngettext(
                    "The time or place changed: %(n)d person who accepted is sent the update.",
                    "The time or place changed: %(n)d people who accepted are sent the update.",
                    told,
                )
                % {"n": told},
            )

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

    # --- The meeting's own pages -----------------------------------------------------------

    def has_board_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(views.VIEW_BOARD)

    def has_invite_permission(self, request, obj=None) -> bool:
        return request.user.has_perms([views.VIEW_BOARD, views.ADD_INVITATIONS])

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<path:object_id>/board/remind/",
                wrap(lambda r, object_id: views.remind_view(self, r, object_id)),
                name="meetings_meeting_remind",
            ),
            path(
                "<path:object_id>/board/attendance/",
                wrap(lambda r, object_id: views.attendance_view(self, r, object_id)),
                name="meetings_meeting_attendance",
            ),
            path(
                "<path:object_id>/board/new-link/",
                wrap(lambda r, object_id: views.new_link_view(self, r, object_id)),
                name="meetings_meeting_new_link",
            ),
            path(
                "<path:object_id>/board/participants.<str:fmt>",
                wrap(lambda r, object_id, fmt: views.export_view(self, r, object_id, fmt)),
                name="meetings_meeting_export",
            ),
        ]
        return own + super().get_urls()

    @action(
        description=gettext_lazy("Response board"),
        url_path="board",
        icon="leaderboard",
        permissions=["board"],
    )
    def board(self, request, object_id):
        return views.board_view(self, request, object_id)

    @action(
        description=gettext_lazy("Invite…"),
        url_path="invite",
        icon="group_add",
        permissions=["invite"],
    )
    def invite(self, request, object_id):
        return views.invite_view(self, request, object_id)

    @action(
        description=gettext_lazy("Open and send invitations"),
        url_path="open",
        permissions=["change"],
    )
    def open_meeting(self, request, object_id):
        meeting = views.meeting_or_404(object_id)
        waiting = meeting.invitations.filter(sent_at__isnull=True, status=Invitation.Status.PENDING)
        n = waiting.exclude(contact__email="").count()
        return self._transition(
            request,
            meeting,
            title=_("Open and send invitations"),
            warning=ngettext(
                "The invitation will be sent to %(n)d person now.",
                "Invitations will be sent to %(n)d people now.",
                n,
            )
            % {"n": n},
            perform=lambda form: services.gathering_open(
                gathering=meeting, acting_user=request.user
            ),
            done=_("The meeting is open; the invitations are on their way."),
        )

    @action(description=gettext_lazy("Close answers"), url_path="close", permissions=["change"])
    def close_answers(self, request, object_id):
        meeting = views.meeting_or_404(object_id)
        return self._transition(
            request,
            meeting,
            title=_("Close answers"),
            warning=_("Invitees will no longer be able to answer through their links."),
            perform=lambda form: services.gathering_close(
                gathering=meeting, acting_user=request.user
            ),
            done=_("Answers are closed."),
        )

    @action(description=gettext_lazy("Mark as held"), url_path="held", permissions=["change"])
    def mark_held(self, request, object_id):
        meeting = views.meeting_or_404(object_id)
        return self._transition(
            request,
            meeting,
            title=_("Mark as held"),
            warning=_("Record attendance on the response board afterwards."),
            perform=lambda form: services.gathering_mark_held(
                gathering=meeting, acting_user=request.user
            ),
            done=_("The meeting is marked as held."),
        )

    @action(
        description=gettext_lazy("Cancel the meeting…"),
        url_path="cancel",
        permissions=["change"],
    )
    def cancel_meeting(self, request, object_id):
        meeting = views.meeting_or_404(object_id)
        told = (
            meeting.invitations.filter(sent_at__isnull=False)
            .exclude(status=Invitation.Status.REPLACED)
            .exclude(contact__email="")
            .count()
        )
        return self._transition(
            request,
            meeting,
            title=_("Cancel the meeting"),
            warning=ngettext(
                "%(n)d person who was invited will be told of the cancellation.",
                "%(n)d people who were invited will be told of the cancellation.",
                told,
            )
            % {"n": told},
            perform=lambda form: services.gathering_cancel(
                gathering=meeting, acting_user=request.user, reason=form.cleaned_data["reason"]
            ),
            done=_("The meeting is cancelled."),
            form_class=CancelForm,
        )

    def _transition(self, request, meeting, *, title, warning, perform, done, form_class=None):
        """GET asks (a link must never change anything); POST calls the service."""
        views.require(request, CHANGE_MEETING)
        change_url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
        form = form_class(request.POST or None) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                perform(form)
            except ApplicationError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, done)
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": meeting.label,
            "meeting": meeting,
            "warning": warning,
            "form": form,
            "opts": self.model._meta,
            "original": meeting,
            "change_url": change_url,
        }
        return TemplateResponse(request, "meetings/admin/confirm.html", context)

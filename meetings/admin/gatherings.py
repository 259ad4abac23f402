"""What the back office of every gathering has, whether an AECT meeting or an event: the list
columns, the change form read in the gathering's own time zone and saved through the services,
the response board, "Invite…", reminders, attendance, new links, the participant export, and
the buttons that move a gathering through its life cycle (each calls a service).

``MeetingAdmin`` and ``EventAdmin`` subclass it and name what differs: the model and fields,
the service that creates one, the board template and its extra context, the invite form, the
export columns and the texts ("the meeting is open" / "the event is open")."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from crm.exceptions import ApplicationError
from meetings import services
from meetings.admin import views
from meetings.admin.exports import participants_response, shared_participants_response
from meetings.admin.forms import CancelForm, InviteForm
from meetings.models import Gathering, Invitation
from meetings.services.gatherings import SCHEDULE_FIELDS

Status = Gathering.Status

STATUS_COLOURS = {
    Status.DRAFT: "info",
    Status.OPEN: "success",
    Status.CLOSED: "warning",
    Status.HELD: "",
    Status.CANCELLED: "danger",
}


def running_offers(gathering: Gathering) -> set[int]:
    return set(
        gathering.invitations.filter(
            status=Invitation.Status.WAITING, offer_expires_at__isnull=False
        ).values_list("pk", flat=True)
    )


class GatheringAdmin(SimpleHistoryAdmin, ModelAdmin):
    """Not registered itself; see the module docstring."""

    board_template = "meetings/admin/board.html"
    invite_form_class = InviteForm
    # The texts that name the kind of gathering; subclasses fill in every key.
    texts: dict = {}
    readonly_fields = ("status", "sequence", "created_by", "created_at", "updated_at")
    history_list_display = ["status"]
    list_per_page = 50

    # --- What subclasses provide -----------------------------------------------------------

    def create(self, request, fields: dict) -> Gathering:
        raise NotImplementedError

    def subtitle(self, gathering: Gathering) -> str:
        return str(gathering)

    def board_context(self, request, gathering: Gathering) -> dict:
        """Extra context for the board template."""
        return {}

    def page_links(self, request, gathering: Gathering) -> list[dict]:
        """More pages of this gathering, linked from the board and the invite page:
        ``{"label", "url"}``."""
        return []

    def participants_response(self, gathering: Gathering, fmt: str):
        return participants_response(gathering, fmt)

    def shared_participants_response(self, gathering: Gathering, fmt: str):
        return shared_participants_response(gathering, fmt)

    @property
    def change_permission(self) -> str:
        opts = self.model._meta
        return f"{opts.app_label}.change_{opts.model_name}"

    # --- List ------------------------------------------------------------------------------

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
        """Show and read the times in the gathering's own time zone; a service's refusal
        becomes a message (the transaction is rolled back, nothing is half-saved)."""
        zone = timezone.get_current_timezone()
        if object_id and str(object_id).isdigit():
            gathering = self.model.objects.filter(pk=object_id).only("time_zone").first()
            zone = gathering.tz if gathering else zone
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
            created = self.create(request, fields)
            obj.__dict__.update(created.__dict__)
            return
        fresh = self.model.objects.get(pk=obj.pk)
        sequence = fresh.sequence
        offers_before = running_offers(fresh)
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
        offered = len(running_offers(fresh) - offers_before)
        if offered:
            messages.info(
                request,
                ngettext(
                    "%(n)d person on the waiting list is offered a freed place.",
                    "%(n)d people on the waiting list are offered freed places.",
                    offered,
                )
                % {"n": offered},
            )

    # --- The gathering's own pages -----------------------------------------------------------

    def has_board_permission(self, request, obj=None) -> bool:
        return request.user.has_perm(views.VIEW_BOARD)

    def has_invite_permission(self, request, obj=None) -> bool:
        return request.user.has_perms([views.VIEW_BOARD, views.ADD_INVITATIONS])

    def own_urls(self) -> list:
        """Pages reached from the board (not buttons of the change form)."""
        opts = self.model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/board/remind/",
                wrap(lambda r, object_id: views.remind_view(self, r, object_id)),
                name=f"{prefix}_remind",
            ),
            path(
                "<path:object_id>/board/attendance/",
                wrap(lambda r, object_id: views.attendance_view(self, r, object_id)),
                name=f"{prefix}_attendance",
            ),
            path(
                "<path:object_id>/board/new-link/",
                wrap(lambda r, object_id: views.new_link_view(self, r, object_id)),
                name=f"{prefix}_new_link",
            ),
            path(
                "<path:object_id>/board/participants.<str:fmt>",
                wrap(lambda r, object_id, fmt: views.export_view(self, r, object_id, fmt)),
                name=f"{prefix}_export",
            ),
            path(
                "<path:object_id>/board/shared-participants.<str:fmt>",
                wrap(lambda r, object_id, fmt: views.export_shared_view(self, r, object_id, fmt)),
                name=f"{prefix}_export_shared",
            ),
        ]

    def get_urls(self):
        return self.own_urls() + super().get_urls()

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

    # --- Life cycle ------------------------------------------------------------------------

    def open_gathering(self, request, object_id):
        gathering = views.gathering_or_404(self, object_id)
        waiting = gathering.invitations.filter(
            sent_at__isnull=True, status=Invitation.Status.PENDING
        )
        n = waiting.exclude(contact__email="").count()
        return self.transition(
            request,
            gathering,
            title=_("Open and send invitations"),
            warning=ngettext(
                "The invitation will be sent to %(n)d person now.",
                "Invitations will be sent to %(n)d people now.",
                n,
            )
            % {"n": n},
            perform=lambda form: services.gathering_open(
                gathering=gathering, acting_user=request.user
            ),
            done=self.texts["opened"],
        )

    @action(description=gettext_lazy("Close answers"), url_path="close", permissions=["change"])
    def close_answers(self, request, object_id):
        gathering = views.gathering_or_404(self, object_id)
        return self.transition(
            request,
            gathering,
            title=_("Close answers"),
            warning=_("Invitees will no longer be able to answer through their links."),
            perform=lambda form: services.gathering_close(
                gathering=gathering, acting_user=request.user
            ),
            done=_("Answers are closed."),
        )

    @action(description=gettext_lazy("Mark as held"), url_path="held", permissions=["change"])
    def mark_held(self, request, object_id):
        gathering = views.gathering_or_404(self, object_id)
        return self.transition(
            request,
            gathering,
            title=_("Mark as held"),
            warning=_("Record attendance on the response board afterwards."),
            perform=lambda form: services.gathering_mark_held(
                gathering=gathering, acting_user=request.user
            ),
            done=self.texts["held"],
        )

    def cancel_gathering(self, request, object_id):
        gathering = views.gathering_or_404(self, object_id)
        told = (
            gathering.invitations.filter(sent_at__isnull=False)
            .exclude(status=Invitation.Status.REPLACED)
            .exclude(contact__email="")
            .count()
        )
        return self.transition(
            request,
            gathering,
            title=self.texts["cancel"],
            warning=ngettext(
                "%(n)d person who was invited will be told of the cancellation.",
                "%(n)d people who were invited will be told of the cancellation.",
                told,
            )
            % {"n": told},
            perform=lambda form: services.gathering_cancel(
                gathering=gathering, acting_user=request.user, reason=form.cleaned_data["reason"]
            ),
            done=self.texts["cancelled"],
            form_class=CancelForm,
        )

    def transition(self, request, gathering, *, title, warning, perform, done, form_class=None):
        """GET asks (a link must never change anything); POST calls the service."""
        views.require(request, self.change_permission)
        change_url = views.admin_url(gathering, "change")
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
            "subtitle": self.subtitle(gathering),
            "gathering": gathering,
            "texts": self.texts,
            "warning": warning,
            "form": form,
            "opts": self.model._meta,
            "original": gathering,
            "change_url": change_url,
        }
        return TemplateResponse(request, "meetings/admin/confirm.html", context)
